"""JSON logs, one object per line, so operators can search them."""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

# color_message is uvicorn's ANSI-coloured copy of the message.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


# What a log line must never carry, whatever logged it: personal identity numbers
# (personnummer and samordningsnummer, 10 or 12 digits), email addresses (also
# percent-encoded, as in a URL), the row values PostgreSQL puts in an error's DETAIL, and
# the tokens of links sent to people.
_REDACTIONS = (
    (re.compile(r"[\w.%+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+"), "[e-post]"),
    (re.compile(r"(Failing row contains )\(.*?\)(?=\.?$)", re.MULTILINE), r"\1(…)"),
    (re.compile(r"(Key \([^)]*\)=)\(.*?\)( already exists| is not present)"), r"\1(…)\2"),
    # Link tokens in the access log: whoever reads the log could use them.
    (re.compile(r"(/(?:unsubscribe|mina-notifieringar|support/skickad)/)[^\s\"?]+"), r"\1[token]"),
)
# A personnummer is a date (day + 60 for a samordningsnummer) and four digits. Hex ids
# (UUIDs, hashes) can hold such a run of digits: they are matched first and kept whole.
_PERSONNUMMER = re.compile(
    r"(?P<id>[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,})"
    r"|(?<!\d)(?:1[89]|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
    r"[-+]?\d{4}(?!\d)"
)
# uvicorn's access line is (client, method, path with query, HTTP version, status).
ACCESS_LOGGER = "uvicorn.access"


def redact(text: str) -> str:
    text = _PERSONNUMMER.sub(lambda found: found["id"] or "[personnummer]", text)
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def request_target(path_with_query: str) -> str:
    """The request line's target as the log may keep it: the path decoded, so that the
    redactions see what it says, and no query: a search (`?q=Anna+Berg`) is free text."""
    path, query = path_with_query.partition("?")[::2]
    return unquote(path, errors="replace") + ("?…" if query else "")


class RedactPersonalData(logging.Filter):
    """Scrubs the message and the traceback of every record a handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
            record.args = (*args[:2], request_target(str(args[2])), *args[3:])
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Anything passed with `extra=` becomes a field of its own.
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_text:  # already formatted (and redacted) by RedactPersonalData
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactPersonalData())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
