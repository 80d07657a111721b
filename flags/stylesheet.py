"""The flags' symbols and colours as CSS, from the flag catalogue: the Overview's compact flags
(flag_tags.flag_cell) take them from the stylesheet rather than from each of 800 cells.

`static/css/flags.css` is this module's output, checked in; a test keeps the two the same
(`python -m flags.stylesheet > static/css/flags.css` writes it again).
"""

from flags import codes

_TONE_COLOURS = {
    "good": "var(--ok)",
    "info": "var(--info)",
    "warning": "var(--warn)",
    "bad": "var(--bad)",
}
_SCOPE = ".compact-flags"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flag_css() -> str:
    lines = [
        "/* Written by flags/stylesheet.py from flags/codes.py: do not edit by hand. */",
        f"{_SCOPE} [data-flag] {{ display: flex; align-items: center; gap: 0.3rem;"
        " white-space: nowrap; font-size: 0.95rem; }",
        f"{_SCOPE} [data-flag]::before {{ display: inline-block; width: 1.25em; height: 1.25em;"
        " line-height: 1.25em; text-align: center; border-radius: 50%; color: #fff;"
        " font-weight: 700; font-size: 0.85em; flex: none; }",
    ]
    for kind, flags, words in (
        (codes.ENTRY, codes.ENTRY_FLAGS, "Entry: "),
        (codes.ASSESSMENT, codes.ASSESSMENT_FLAGS, ", Assessment: "),
    ):
        for code in flags:
            info = codes.entry_flag(code) if kind == codes.ENTRY else codes.assessment_flag(code)
            symbol, colour = _quoted(info.symbol), _TONE_COLOURS[codes.TONES[code]]
            lines.append(
                f'{_SCOPE} [data-kind="{kind}"][data-flag="{code}"]::before {{ content: {symbol};'
                f" content: {symbol} / {_quoted(words)}; background: {colour}; }}"
            )
    lines.append(
        f'{_SCOPE} [data-kind="assessment"][data-flag=""]::before {{ content: "—";'
        ' content: "—" / ", Assessment: none"; color: var(--muted); }'
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(flag_css(), end="")
