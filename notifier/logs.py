"""JSON logs, one object per line, so operators can search them."""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# color_message is uvicorn's ANSI-coloured copy of the message.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


# What a log line must never carry, whatever logged it: personal identity numbers
# (personnummer and samordningsnummer, 10 or 12 digits), email addresses, the row values
# PostgreSQL puts in an error's DETAIL, and the tokens of links sent to people.
_REDACTIONS = (
    (re.compile(r"(?<!\d)(?:\d{2})?\d{6}[-+]?\d{4}(?!\d)"), "[personnummer]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[e-post]"),
    (re.compile(r"(Failing row contains )\(.*?\)(?=\.?$)", re.MULTILINE), r"\1(…)"),
    (re.compile(r"(Key \([^)]*\)=)\(.*?\)( already exists| is not present)"), r"\1(…)\2"),
    # Link tokens in the access log: whoever reads the log could use them.
    (re.compile(r"(/(?:unsubscribe|mina-notifieringar|support/skickad)/)[^\s\"?]+"), r"\1[token]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    """Scrubs the message and the traceback of every record a handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
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
