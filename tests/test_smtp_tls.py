"""The SMTP channel over TLS, against a loopback relay with a certificate made for the test:
smtps:// (TLS from the first byte) and smtp+starttls:// (upgraded after the greeting). The
connection is handed from aiosmtplib to notifier.channels.pipelining after the handshake,
TLS transport and all; the relay pipelines, as Postfix does."""

import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notifier.channels.smtp import SmtpChannel, parse_smtp_url
from notifier.outbox.models import Claimed, OutboxMessage
from tests.smtp_server import Mailbox, free_port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def claimed(id: int, recipient: str) -> Claimed:
    row = OutboxMessage(id=id, message_id=f"<m{id}@x>", kind="k", recipient=recipient,
                        body_text="Hej!")  # fmt: skip
    return Claimed(**row.model_dump())


@pytest.mark.parametrize("scheme", ["smtps", "smtp+starttls"])
async def test_messages_go_over_tls_and_pipelined(
    scheme: str, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_file, key_file = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    # The client trusts the test's certificate the way it trusts any: the default store.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    port, mailbox = free_port(), Mailbox(pipelining=True)
    if scheme == "smtps":
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=server_tls)
    else:
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=port,
            tls_context=server_tls,
            require_starttls=True,
        )
    controller.start()
    try:
        config = parse_smtp_url(f"{scheme}://127.0.0.1:{port}")
        channel = SmtpChannel(config, "no-reply@example.se", timeout=5, connections=2)
        outcomes = await channel.deliver([claimed(i, f"u{i}@b.se") for i in range(1, 5)])
        await channel.aclose()
    finally:
        controller.stop()
    assert outcomes == {1: None, 2: None, 3: None, 4: None}
    assert sorted(m["To"] for m in mailbox.messages) == ["u1@b.se", "u2@b.se", "u3@b.se", "u4@b.se"]
