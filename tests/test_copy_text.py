"""COPY's text format: values escaped as PostgreSQL reads them back, and the check that
lets a batch's own values go unescaped."""

from datetime import UTC, datetime

import pytest

from notifier.pipeline import copy_text


@pytest.mark.parametrize(
    ("item", "text"),
    [
        (None, "\\N"),
        ("\\N", "\\\\N"),
        ("a\tb\nc\rd\\e", "a\\tb\\nc\\rd\\\\e"),
        (0, "0"),
        (datetime(2026, 11, 27, 13, 5, tzinfo=UTC), "2026-11-27 13:05:00+00:00"),
    ],
)
def test_a_value_is_escaped_as_copy_reads_it_back(item: object, text: str) -> None:
    assert copy_text.value(item) == text


def test_a_tail_escapes_every_shared_value_and_ends_the_line() -> None:
    assert copy_text.tail(["a\tb", None]) == "\ta\\tb\t\\N\n"


@pytest.mark.parametrize(
    ("own", "plain"),
    [
        (("m", "u", "x@y"), True),
        (("m", "u\\v", "x@y"), False),
        (("m", "\\N", "x@y"), False),
        (("m", "u\tv", "x@y"), False),
        (("m", "u\nv", "x@y"), False),
        (("m", "u\rv", "x@y"), False),
        (("m", "u", "x\t\\N\n"), False),
    ],
)
def test_only_lines_that_needed_no_escaping_pass_as_plain(
    own: tuple[str, ...], plain: bool
) -> None:
    tails = [copy_text.tail(["k", None]), copy_text.tail(["k", "full"])]
    text = "".join("\t".join(own) + tail for tail in tails)
    assert copy_text.plain(text, 2, 5) is plain


def test_lines_escape_every_value() -> None:
    assert copy_text.lines([("a\tb", None), ("c", 1)]) == "a\\tb\t\\N\nc\t1\n"
