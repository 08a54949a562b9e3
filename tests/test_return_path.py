"""Each email's return path names its outbox row, signed (notifier.channels.return_path)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.channels.mime import Composer
from notifier.channels.return_path import MAX_ID, ReturnPath
from notifier.outbox.models import OutboxMessage

KEY = b"k" * 32


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_every_row_id_comes_back_from_its_address_within_64_characters(row: int) -> None:
    paths = ReturnPath(KEY, "Svar.Example.SE")
    address = paths.address(row)
    local, _, domain = address.rpartition("@")
    assert len(local) <= 64 and domain == "svar.example.se"
    assert paths.row_of(address) == row
    assert paths.row_of(address.upper()) == row  # a relay that folds case


@pytest.mark.parametrize(
    "address",
    [
        "bounce+1a-aaaaaaaaaaaaaaaa@svar.example.se",  # a made-up signature
        "bounce+1b@svar.example.se",
        "bounce+-x@svar.example.se",
        "bounce+@svar.example.se",
        "svar+SUP-12345678@svar.example.se",
        "bounce+zzzzzzzzzzzzzzzzzzzz-aaaaaaaaaaaaaaaa@svar.example.se",
    ],
)
def test_an_address_we_did_not_make_names_no_row(address: str) -> None:
    assert ReturnPath(KEY, "svar.example.se").row_of(address) is None


def test_another_key_or_domain_does_not_verify() -> None:
    address = ReturnPath(KEY, "svar.example.se").address(42)
    assert ReturnPath(b"x" * 32, "svar.example.se").row_of(address) is None
    assert ReturnPath(KEY, "annan.example.se").row_of(address) is None


def test_the_composer_uses_the_row_s_return_path_only_when_given_one() -> None:
    row = OutboxMessage(id=7, message_id="m", kind="notification", recipient="a@example.org")
    paths = ReturnPath(KEY, "svar.example.se")
    assert Composer("no-reply@x.se").envelope_sender(row) == "no-reply@x.se"  # type: ignore[arg-type]
    with_path = Composer("no-reply@x.se", return_path=paths.sender_of)
    assert with_path.envelope_sender(row) == paths.address(7)  # type: ignore[arg-type]
