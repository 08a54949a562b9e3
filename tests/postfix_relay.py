"""A private Postfix for tests: its own config_directory, queue_directory and Maildir
under a temporary folder, on a free loopback port, strict the way a careful operator
configures a relay. Never the machine's own instance (no file of /etc/postfix changes).

Every recipient of DOMAIN lands in one Maildir, `<root>/mail/inbox/`. Test modules get
one instance each from the `relay` fixture (tests/conftest.py).
"""

import asyncio
import os
import pty
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.smtp_server import free_port

DOMAIN = "kommun.example.se"  # tests.pipeline_helpers.add_user's addresses

# Refuse what a strict relay refuses, and add nothing for us: with the default
# local_header_rewrite_clients a loopback client would get a missing Date or Message-ID
# filled in by Postfix, hiding our own omission.
STRICT = {
    "smtpd_helo_required": "yes",
    "smtpd_helo_restrictions": "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
    "strict_rfc821_envelopes": "yes",
    "smtpd_sender_restrictions": "reject_non_fqdn_sender",
    "smtpd_relay_restrictions": (
        "reject_non_fqdn_recipient, permit_mynetworks, reject_unauth_destination"
    ),
    "local_header_rewrite_clients": "",
}

# Only the services a message passes through from smtpd to the Maildir, none chrooted.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
smtp unix - - n - - smtp
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def postfix_binary() -> str | None:
    """Debian's /usr/sbin is not on every PATH."""
    found = shutil.which("postfix") or "/usr/sbin/postfix"
    return found if os.access(found, os.X_OK) else None


def main_cf(root: Path) -> dict[str, str]:
    owner = pwd.getpwnam("postfix")
    return {
        "compatibility_level": "3.6",
        "config_directory": str(root / "etc"),
        "queue_directory": str(root / "spool"),
        "data_directory": str(root / "data"),
        "syslog_name": "postfix-test",
        "maillog_file_prefixes": str(root),
        "maillog_file": str(root / "maillog"),
        "myhostname": "relay.postfix-test.invalid",
        "mydestination": "",
        "alias_maps": "",
        "alias_database": "",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "smtpd_peername_lookup": "no",  # no DNS: a test must not wait on a resolver
        "smtp_dns_support_level": "disabled",
        "virtual_mailbox_domains": DOMAIN,
        "virtual_mailbox_base": str(root / "mail"),
        "virtual_mailbox_maps": "static:inbox/",  # the trailing slash: Maildir
        "virtual_uid_maps": f"static:{owner.pw_uid}",
        "virtual_gid_maps": f"static:{owner.pw_gid}",
    } | STRICT


@dataclass
class Relay:
    root: Path
    port: int

    @property
    def maildir(self) -> Path:
        return self.root / "mail" / "inbox" / "new"

    async def delivered(self, count: int, *, within: float = 15.0) -> list[bytes]:
        """The raw messages in the Maildir once `count` have arrived."""
        deadline = time.monotonic() + within
        while len(files := sorted(self.maildir.glob("*"))) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(files)} of {count} delivered; see {self.log()}")
            await asyncio.sleep(0.05)
        return [path.read_bytes() for path in files]

    def empty(self) -> None:
        """Forget what earlier tests of the module had delivered."""
        for path in self.maildir.glob("*"):
            path.unlink()

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text() if path.exists() else "(no maillog)"


def postfix(binary: str, root: Path, command: str) -> None:
    """Postfix reports to stderr only when it is a terminal: give it one, so that a
    failure says why."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [binary, "-c", str(root / "etc"), command], stderr=follower, stdout=follower
        )
        os.close(follower)
        said = _drain(leader)
    finally:
        os.close(leader)
    if done.returncode != 0:
        raise RuntimeError(f"postfix {command} failed: {said}\n{Relay(root, 0).log()}")


def _drain(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the terminal's other end is closed: all is read
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def start(binary: str, root: Path, extra: dict[str, str] | None = None) -> Relay:
    """`extra`: main.cf settings beyond the strict relay's; `{etc}` in a value is the
    instance's configuration folder (for a map file the caller writes there first)."""
    port = free_port()
    for folder in ("etc", "spool", "data", "mail"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # the postfix user walks down to its folders
    for folder in ("data", "mail"):
        shutil.chown(root / folder, "postfix", "postfix")
    (root / "etc" / "main.cf").write_text("")
    (root / "etc" / "master.cf").write_text(MASTER_CF.format(port=port))
    added = {name: value.format(etc=root / "etc") for name, value in (extra or {}).items()}
    settings = [f"{name}={value}" for name, value in (main_cf(root) | added).items()]
    postconf = str(Path(binary).with_name("postconf"))
    subprocess.run([postconf, "-c", str(root / "etc"), "-e", *settings], check=True)
    postfix(binary, root, "start")
    return Relay(root, port)


def stop(binary: str, root: Path) -> None:
    """Whatever happened before: a master that started is stopped."""
    if (root / "spool" / "pid" / "master.pid").exists():
        postfix(binary, root, "stop")


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def running(
    extra: dict[str, str] | None = None, files: dict[str, str] | None = None
) -> Iterator[Relay]:
    """A started private Postfix, stopped and removed at the end; skips (fails under CI)
    when Postfix is missing or cannot start its master process. `files` are written to
    its configuration folder before it starts (maps that `extra` settings name)."""
    binary = postfix_binary()
    if binary is None:
        unavailable("Postfix is not installed (/usr/sbin/postfix): apt-get install postfix")
    if os.geteuid() != 0:
        unavailable("Postfix's master process starts only as root")
    assert binary is not None
    # Not under pytest's tmp folder: that is private to root, and Postfix's own user
    # delivers into the Maildir.
    root = Path(tempfile.mkdtemp(prefix="notifier-postfix-"))
    try:
        for name, text in (files or {}).items():
            (root / "etc").mkdir(parents=True, exist_ok=True)
            (root / "etc" / name).write_text(text)
        yield start(binary, root, extra)
    finally:
        try:
            stop(binary, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
