"""PostgreSQL's COPY text format, for rows whose values are mostly shared with other rows.

asyncpg's binary COPY encodes every value of every row, and a timestamp costs it about
1.4 µs (a time zone conversion and a subtraction per value): more than the rest of an
outbox row. In the text format, the values a row shares with others are escaped once into
a tail that each such line ends with, and a row's own values are written into it as they
are; `plain` then proves, over the whole batch at once, that none of them needed escaping.
"""

from collections.abc import Iterable, Sequence

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def value(item: object) -> str:
    """One value as COPY reads it back: None is NULL, and str() of a datetime is ISO 8601
    with its offset, which PostgreSQL reads as that instant."""
    return NULL if item is None else str(item).translate(_ESCAPES)


def tail(items: Iterable[object]) -> str:
    """The end of a line: shared values, each escaped, after a tab, and the newline."""
    return "".join("\t" + value(item) for item in items) + "\n"


def lines(rows: Iterable[Sequence[object]]) -> str:
    """Rows written value by value, each escaped: the way that is right for any value."""
    return "".join("\t".join(map(value, row)) + "\n" for row in rows)


def plain(text: str, count: int, width: int) -> bool:
    """Whether `count` lines of `width` values whose last one came from `tail` (escaped)
    and whose others were written unescaped read back as written: no unescaped value held
    a tab, a newline, a carriage return or a backslash. A backslash may then only begin a
    NULL in the last place, where `value` put it."""
    if "\r" in text or text.count("\n") != count or text.count("\t") != count * (width - 1):
        return False
    return "\\" not in text or text.count("\\") == text.count("\t" + NULL + "\n")
