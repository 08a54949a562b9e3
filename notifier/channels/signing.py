"""Optional DKIM signing (RFC 6376) with dkimpy, for deployments whose relay does not
sign: NOTIFIER_DKIM_SELECTOR and NOTIFIER_DKIM_KEY_FILE, the signing domain being the
sender's. The public key is published at `<selector>._domainkey.<domain>`."""

from dataclasses import dataclass
from pathlib import Path

import dkim

# What a reader relies on and a relay does not rewrite (RFC 6376 §5.4).
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"auto-submitted",
)


@dataclass(frozen=True, slots=True)
class DkimKey:
    selector: str
    domain: str
    private_key: bytes  # PEM

    @classmethod
    def load(cls, *, selector: str, domain: str, key_file: Path) -> "DkimKey":
        """Read at start, so that a missing or unreadable key stops the service there."""
        key = key_file.read_bytes()
        if b"PRIVATE KEY" not in key:
            raise ValueError(f"{key_file} holds no PEM private key")
        return cls(selector, domain, key)

    def sign(self, message: bytes, *, linesep: bytes = b"\r\n") -> bytes:
        # relaxed/relaxed: survives a relay that refolds headers or trims line ends.
        signature: bytes = dkim.sign(
            message,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
            linesep=linesep,
        )
        return signature + message
