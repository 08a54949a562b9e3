"""Text from outside: one rule for every field, API and web form alike.

PostgreSQL refuses NUL in text (a 500 if it gets that far), and control characters have no
place in what people write: in a single-line field a CR or LF would forge lines in a
forwarded ticket. So single-line text allows no control character at all, and multi-line
text allows only tab and line breaks. Tab, harmless, is allowed everywhere: HTTP headers
such as the User-Agent may carry it.
"""

import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

MULTILINE_ALLOWED = frozenset("\t\n\r")
# Unicode's own line and paragraph separators break lines as surely as LF does.
_LINE_BREAKS = frozenset("\u2028\u2029\x85")

CONTROL_MESSAGE = "Texten innehåller otillåtna tecken (styrtecken)."
LINE_BREAK_MESSAGE = "Texten får inte innehålla radbrytningar."


def text_error(value: str, *, multiline: bool = False) -> str | None:
    """A Swedish message when `value` holds a character it may not, else None."""
    for char in value:
        if char == "\t" or (multiline and char in MULTILINE_ALLOWED):
            continue
        if char in "\r\n" or char in _LINE_BREAKS:
            return LINE_BREAK_MESSAGE
        if unicodedata.category(char) == "Cc":
            return CONTROL_MESSAGE
    return None


def printable(value: str) -> str:
    """`value` without what `text_error` refuses in a single line: for text we did not ask
    for, such as a User-Agent header, which is kept rather than refused."""
    return "".join(char for char in value if text_error(char) is None)


# The same rules as JSON-schema patterns, so the OpenAPI document tells a client (and
# schemathesis) which text is refused: what the schema allows, the service accepts.
SINGLE_LINE_PATTERN = r"^[^\x00-\x08\x0A-\x1F\x7F-\x9F\u2028\u2029]*$"
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u2028\u2029]*$"


@dataclass(frozen=True)
class _Text:
    """Checks the text as it came, before any stripping: a refused character is refused
    wherever it stands, as the schema's pattern says."""

    multiline: bool

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault(
            "pattern", MULTI_LINE_PATTERN if self.multiline else SINGLE_LINE_PATTERN
        )
        return json_schema

    def _check(self, value: Any) -> Any:
        if isinstance(value, str) and (error := text_error(value, multiline=self.multiline)):
            raise ValueError(error)
        return value


# Put beside a field's own constraints, e.g.
# `Annotated[str, StringConstraints(max_length=200), SingleLine]`.
SingleLine = _Text(multiline=False)
MultiLine = _Text(multiline=True)
