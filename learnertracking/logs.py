"""Log records without learners' personal data, and a JSON line per record.

Logs leave the service (docker, a log shipper, whoever reads them), so nothing that names a
learner may reach them: a learner's page has the ULN in its path, Search has the name in its
query string, and PostgreSQL quotes row values in its errors. `ScrubPersonalData` rewrites
every record before any formatter sees it; settings.LOGGING puts it on the one handler that
every logger (Django, Celery, axes, gunicorn) writes through.
"""

import copy
import datetime
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

ULN = "[uln]"
EMAIL = "[email]"
REDACTED = "[redacted]"

_ULN = re.compile(r"(?<!\d)\d{10}(?!\d)")
# Matches start only where a run of address characters starts: otherwise a long unbroken
# run (a 20 kB path) is retried from every position, in time that grows with its square.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_QUERY = re.compile(r"\?([^\s\"'<>#]*)")
# Parameter names are kept for debugging only when they look like the app's own; a name
# typed into a URL by hand could be anything.
_PARAM_NAME = re.compile(r"[a-z_][a-z0-9_]{0,39}")
# Paging cursors say nothing about a learner, and help read a slow page's log.
_NUMERIC_PARAMS = frozenset({"page", "p", "after"})
# Sign-in links: the token is a credential for as long as it is valid.
_ACCOUNT_LINK = re.compile(r"(/accounts/(?:confirm|reset)/)[^/\s?\"']+/[^/\s?\"']+")
# Calendar links: the token is the credential a calendar program reads with, every hour.
_CALENDAR_LINK = re.compile(r"(/calendar/)[^/\s?\"']+(\.ics)")
# PostgreSQL's constraint errors quote the offending values: names, dates of birth.
_PG_FAILING_ROW = re.compile(r"(Failing row contains \().*")
_PG_KEY = re.compile(r"(Key \([^)\n]*\)=\().*(\) (?:already exists|is not present|conflicts))")
# COPY's errors (the import, the rebuild) quote the value of the offending column.
_PG_COPY = re.compile(r"(COPY [^,\n]+, line \d+(?:, column [^:\n]+)?: ).*")
# The learner's part of a learner URL, whatever was typed there: a ULN with spaces, a name.
# Not the admin's /admin/learners/learner/: words, not a learner.
_LEARNER_PATH = re.compile(
    r"(?<!/admin)(/learners/)[^/?\"'\n]+?(?=[/?\"']|\s+HTTP/|\s*$)", re.MULTILINE
)

# Keys whose values are personal whatever they look like, in extras and in %(name)s args.
PERSONAL_KEYS = frozenset(
    {
        "uln",
        "learner_uln",
        "forename",
        "forenames",
        "surname",
        "first_name",
        "last_name",
        "full_name",
        "date_of_birth",
        "dob",
        "email",
        "candidate_number",
        "password",
        "token",
        "{cookie}i",
        "{authorization}i",
    }
)

# What a LogRecord has of its own; anything else on a record came in through `extra`.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# The extras a JSON line carries, as (record attribute, JSON key). Any other extra stays
# out: app code may pass objects whose text no pattern here recognises as personal.
_JSON_EXTRAS = (
    ("method", "method"),
    ("path", "path"),
    ("status_code", "status"),
    ("duration_ms", "duration_ms"),
    ("user_id", "user_id"),
    ("remote_addr", "remote_addr"),
)


def scrub_query(query: str) -> str:
    """`q=Smith&page=2` -> `q=[redacted]&page=2`."""
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if name and not _PARAM_NAME.fullmatch(name):
            name = "[param]"
        if value and not (name in _NUMERIC_PARAMS and value.isdigit() and len(value) <= 6):
            value = REDACTED
        pairs.append(name + equals + value)
    return "&".join(pairs)


def scrub(text: str) -> str:
    text = _QUERY.sub(lambda match: "?" + scrub_query(match.group(1)), text)
    text = _ACCOUNT_LINK.sub(r"\1[uid]/[token]", text)
    text = _CALENDAR_LINK.sub(r"\1[token]\2", text)
    text = _PG_FAILING_ROW.sub(rf"\g<1>{REDACTED})", text)
    text = _PG_KEY.sub(rf"\g<1>{REDACTED}\g<2>", text)
    text = _PG_COPY.sub(rf"\g<1>{REDACTED}", text)
    text = _LEARNER_PATH.sub(rf"\g<1>{ULN}", text)
    text = _EMAIL.sub(EMAIL, text)
    return _ULN.sub(ULN, text)


def scrub_value(key: str | None, value: Any) -> Any:
    """Strings are scrubbed, containers walked; numbers and other objects are left as they are."""
    if key is not None and key.lower() in PERSONAL_KEYS:
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: scrub_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_value(None, item) for item in value]
    return value


_TRACEBACKS = logging.Formatter()


class ScrubPersonalData(logging.Filter):
    """Rewrites the record in place, so every handler and formatter after it sees it clean.

    The message is rendered and the args dropped: an argument's own str() (a model
    instance, an exception) is only known once rendered. Running it twice is harmless.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            _lift_access_atoms(record, record.args)
        elif record.args and isinstance(record.args, Mapping):
            record.args = {
                key: REDACTED if str(key).lower() in PERSONAL_KEYS else value
                for key, value in record.args.items()
            }
        _lift_request(record)
        record.msg = scrub(_render(record))
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRS:
                setattr(record, key, scrub_value(key, value))
        return True


def _render(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string must not take the request down
        # The arguments stay out: they are what the message would have scrubbed in place.
        return f"{record.msg} [arguments not shown: the message did not format]"


def _lift_request(record: logging.LogRecord) -> None:
    """django.request's records carry the HttpRequest; take what a log line needs from it."""
    request = getattr(record, "request", None)
    method = getattr(request, "method", None)
    if not isinstance(method, str):  # runserver's django.server passes a socket
        return
    record.method = method
    record.path = scrub(request.get_full_path())
    # Only a user the request already loaded: loading one here would query the database,
    # which may be the very thing that failed.
    user = getattr(request, "_cached_user", None)
    if user is not None and user.is_authenticated:
        record.user_id = user.pk


_ACCESS_ATOM = re.compile(r"%\(([^)]+)\)")
_LIFTED_ATOMS = ("m", "U", "q", "s", "M", "h")


def _lift_access_atoms(record: logging.LogRecord, args: dict[str, Any]) -> None:
    """gunicorn's access record: its args are the atoms of `access_log_format`."""
    # A copy of the same class keeps gunicorn's "-" for atoms a format names but lacks.
    atoms = copy.copy(args)
    if atoms.get("q"):
        atoms["q"] = scrub_query(atoms["q"])
    # Only the atoms the line shows or the record lifts: the rest (every request header)
    # are dropped with the args once the message is rendered, and scrubbing them all cost
    # more than half a millisecond a request.
    for key in {*_ACCESS_ATOM.findall(str(record.msg)), *_LIFTED_ATOMS}:
        if key in atoms:
            atoms[key] = scrub_value(key, atoms[key])
    record.args = atoms
    query = atoms.get("q")
    record.method = atoms.get("m")
    record.path = scrub((atoms.get("U") or "") + (f"?{query}" if query else ""))
    status = str(atoms.get("s", ""))
    record.status_code = int(status) if status.isdigit() else None
    record.duration_ms = atoms.get("M")
    record.remote_addr = atoms.get("h")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for attr, key in _JSON_EXTRAS:
            value = getattr(record, attr, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
