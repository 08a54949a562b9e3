"""Unsubscribe links (issue 10, #10): opaque, valid for a year, redacted in the log."""

import base64
import io
import logging
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer

from notifier.logs import JsonFormatter, RedactPersonalData
from notifier.web.unsubscribe import SALT, Unsubscribe

KEY = b"k" * 32
T0 = 1_800_000_000.0
USER = "user-4711-anna"


def links(at: float) -> Unsubscribe:
    return Unsubscribe(KEY, "https://example.se", now=lambda: at)


def test_a_token_names_neither_the_user_nor_the_event_type() -> None:
    token = links(T0).token(USER, "payment.disbursed")
    padded = token + "=" * (-len(token) % 4)
    decoded = base64.urlsafe_b64decode(padded)
    for secret in (USER, "payment.disbursed"):
        assert secret not in token and secret.encode() not in decoded
    assert links(T0).read(token) == (USER, "payment.disbursed")


@pytest.mark.parametrize(
    ("age", "valid"), [(timedelta(days=300), True), (timedelta(days=367), False)]
)
def test_a_token_is_valid_for_a_year(age: timedelta, valid: bool) -> None:
    token = links(T0).token(USER, "payment.disbursed")
    assert (links(T0 + age.total_seconds()).read(token) is not None) is valid


def test_a_tampered_token_or_another_key_reads_as_nothing() -> None:
    token = links(T0).token(USER, "payment.disbursed")
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    assert links(T0).read(flipped) is None
    assert Unsubscribe(b"o" * 32, "https://example.se", now=lambda: T0).read(token) is None


def test_links_in_emails_already_sent_still_unsubscribe() -> None:
    legacy = URLSafeSerializer(KEY, salt=SALT).dumps([USER, "payment.disbursed"])
    assert links(T0).read(legacy) == (USER, "payment.disbursed")


def test_the_access_log_never_carries_a_link_token() -> None:
    token = links(T0).token(USER, "payment.disbursed")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactPersonalData())
    access = logging.getLogger("test.uvicorn.access")
    access.addHandler(handler)
    try:
        # uvicorn's access log line, with its own arguments.
        access.error(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", f"/unsubscribe/{token}", "1.1", 200
        )
        access.error(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/support/skickad/abc.def", "1.1", 200
        )
    finally:
        access.removeHandler(handler)
    assert token not in stream.getvalue() and "abc.def" not in stream.getvalue()
    assert "/unsubscribe/[token]" in stream.getvalue()
