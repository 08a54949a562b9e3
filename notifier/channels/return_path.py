"""Every email's envelope sender, `bounce+<token>@<reply domain>` (docs/contracts.md §2): a bounce
comes back to `notifier inbound` and names the outbox row it is about.

The token is the row's id in base 36, a dash, and 80 bits of an HMAC over that id, in
lower-case base 32: opaque to anyone without the secret key, unforgeable, and unchanged
by a mail system that folds the local part's case. At most 7 + 13 + 1 + 16 = 37 characters
of the 64 RFC 5321 allows a local part.
"""

import base64
import hashlib
import hmac
import string

from notifier.outbox.models import Claimed

PREFIX = "bounce+"
DIGITS = string.digits + string.ascii_lowercase
MAC_CHARS = 16  # 80 bits
MAX_ID = 2**63 - 1  # the outbox's BIGINT


def base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = DIGITS[digit] + text
        if not number:
            return text


class ReturnPath:
    """Makes and reads the bounce address of one outbox row."""

    def __init__(self, key: bytes, domain: str) -> None:
        # A key of its own: a token of another kind (a link, a session) never verifies here.
        self._key = hmac.new(key, b"notifier return path", hashlib.sha256).digest()
        self.domain = domain.lower()

    def _mac(self, row: str) -> str:
        digest = hmac.new(self._key, row.encode(), hashlib.sha256).digest()
        return base64.b32encode(digest).decode().lower()[:MAC_CHARS]

    def address(self, row_id: int) -> str:
        row = base36(row_id)
        return f"{PREFIX}{row}-{self._mac(row)}@{self.domain}"

    def sender_of(self, message: Claimed) -> str:
        return self.address(message.id)

    def row_of(self, address: str) -> int | None:
        """The row a bounce address names, or None if it is not one of ours."""
        local, _, domain = address.strip("<>").rpartition("@")
        local = local.lower()
        if domain.lower() != self.domain or not local.startswith(PREFIX):
            return None
        row, dash, mac = local[len(PREFIX) :].partition("-")
        if not dash or not row or len(row) > 13 or set(row) - set(DIGITS):
            return None
        if not hmac.compare_digest(mac, self._mac(row)):
            return None
        number = int(row, 36)
        return number if number <= MAX_ID else None
