"""Validation errors in Swedish: pydantic's own messages are English ("String should have
at least 1 character"), and everything the public or a kommun user reads is Swedish. One
message per error type, with the limits pydantic names in its context."""

from collections.abc import Mapping
from typing import Any

VALUE_ERROR_PREFIX = "Value error, "
EMAIL_MESSAGE = "Ange en giltig e-postadress, till exempel namn@kommun.se."
FALLBACK = "Värdet är ogiltigt."

# pydantic's error type → our message; {name} is filled from the error's context.
MESSAGES: dict[str, str] = {
    "missing": "Fältet måste fyllas i.",
    "extra_forbidden": "Fältet finns inte; ta bort det.",
    "string_type": "Ange en text.",
    "string_too_short": "Texten är för kort: minst {min_length} tecken.",
    "string_too_long": "Texten är för lång: högst {max_length} tecken.",
    "string_pattern_mismatch": "Värdet har fel form.",
    "enum": "Välj ett av värdena {expected}.",
    "literal_error": "Välj ett av värdena {expected}.",
    "int_type": "Ange ett heltal.",
    "int_parsing": "Ange ett heltal.",
    "float_parsing": "Ange ett tal.",
    "decimal_parsing": "Ange ett tal.",
    "bool_type": "Ange true eller false.",
    "bool_parsing": "Ange true eller false.",
    "greater_than": "Ange ett tal större än {gt}.",
    "greater_than_equal": "Ange ett tal som är minst {ge}.",
    "less_than": "Ange ett tal mindre än {lt}.",
    "less_than_equal": "Ange ett tal som är högst {le}.",
    "too_short": "Ange minst {min_length}.",
    "too_long": "Ange högst {max_length}.",
    "list_type": "Ange en lista.",
    "dict_type": "Ange ett objekt.",
    "model_type": "Ange ett objekt.",
    "model_attributes_type": "Ange ett objekt.",
    "datetime_type": "Ange datum och tid, t.ex. 2026-11-26T10:15:00+01:00.",
    "datetime_parsing": "Ange datum och tid, t.ex. 2026-11-26T10:15:00+01:00.",
    "datetime_from_date_parsing": "Ange datum och tid, t.ex. 2026-11-26T10:15:00+01:00.",
    "timezone_aware": "Ange tiden med tidszon, t.ex. 2026-11-26T10:15:00+01:00.",
    "date_type": "Ange ett datum, t.ex. 2026-11-26.",
    "date_parsing": "Ange ett datum, t.ex. 2026-11-26.",
    "date_from_datetime_parsing": "Ange ett datum, t.ex. 2026-11-26.",
    "uuid_type": "Ange ett UUID.",
    "uuid_parsing": "Ange ett UUID.",
    "url_parsing": "Ange en webbadress.",
    "url_scheme": "Ange en webbadress som börjar med http:// eller https://.",
    "json_invalid": "Innehållet är inte giltig JSON.",
    "json_type": "Innehållet är inte giltig JSON.",
    "union_tag_invalid": "Värdet är av fel slag.",
    "value_error": FALLBACK,
}


def swedish(error: Mapping[str, Any]) -> str:
    """The Swedish message for one pydantic error (`ValidationError.errors()` item).

    Our own validators already raise Swedish: their text is kept, without pydantic's
    "Value error, " prefix. An error made by our code (no `input`) is kept as it is."""
    message = str(error.get("msg", ""))
    kind = str(error.get("type", ""))
    if "input" not in error:
        return message
    if kind == "value_error":
        if "email address" in message:
            return EMAIL_MESSAGE
        if message.startswith(VALUE_ERROR_PREFIX):
            return message.removeprefix(VALUE_ERROR_PREFIX)
    template = MESSAGES.get(kind, FALLBACK)
    context = {key: _shown(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return FALLBACK


def _shown(value: Any) -> str:
    # pydantic joins choices with a final English "or": "'1' or '2'".
    return str(value).replace("' or '", "', '")
