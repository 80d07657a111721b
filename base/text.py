"""Text that cannot spoof (no bidirectional controls, no invisible characters), and names
folded for search.

A right-to-left override in a name made the chat show ULN 7000000006 as "6000000007"; a
zero-width space makes two different names look the same. Neither belongs in anything a
person types or the feed delivers, so both are taken out at every door (forms through
learnertracking.middleware.CleanInput, the feed and the bulk upload). Pure functions.
"""

import unicodedata

# Bidirectional embeddings, overrides, isolates and marks; zero-width and other invisible
# characters (the byte-order mark, the word joiner, the Mongolian vowel separator, soft
# hyphen); and NUL, which PostgreSQL refuses in text (a 500 in an admin search).
INVISIBLE = frozenset(
    "\x00"
    "\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069"
    "\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"
)
_TABLE = dict.fromkeys(map(ord, INVISIBLE))


def without_invisible(value: str) -> str:
    """The text with every bidirectional control and invisible character taken out."""
    return value.translate(_TABLE) if any(ch in INVISIBLE for ch in value) else value


def fold(text: str) -> str:
    """Lower case without accents: 'Ørsted' and 'orsted' match, as do 'Amélie' and 'Amelie'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Letters NFKD does not decompose.
    return plain.translate(
        str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe"})
    )


def search_key(text: str) -> str:
    """A name as search compares it: folded, with hyphens, apostrophes and spaces one space
    ('Ó Súilleabháin' -> 'o suilleabhain', 'Smith-Jones' -> 'smith jones')."""
    return " ".join("".join(ch if ch.isalnum() else " " for ch in fold(text)).split())
