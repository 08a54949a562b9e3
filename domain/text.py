"""Text from outside: one rule for every field, API and web form alike.

PostgreSQL refuses NUL in text (a 500 if it gets that far), and control characters have no
place in what people write: in a single-line field a CR or LF would forge lines in a
forwarded ticket. So single-line text allows no control character at all, and multi-line
text allows only tab and line breaks. Tab, harmless, is allowed everywhere: HTTP headers
such as the User-Agent may carry it.
"""

import unicodedata

from pydantic import AfterValidator

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


def _single_line(value: str) -> str:
    if error := text_error(value):
        raise ValueError(error)
    return value


def _multi_line(value: str) -> str:
    if error := text_error(value, multiline=True):
        raise ValueError(error)
    return value


# Validators to put after a field's own constraints, e.g.
# `Annotated[str, StringConstraints(max_length=200), SingleLine]`.
SingleLine = AfterValidator(_single_line)
MultiLine = AfterValidator(_multi_line)
