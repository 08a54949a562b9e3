"""The admin bearer token, the service's signing key, and links made once an hour."""

import contextlib
import functools
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from notifier.settings import MIN_SECRET_BYTES, Settings

_bearer = HTTPBearer(auto_error=False)


def admin_token_check(settings: Settings) -> Callable[[str], bool]:
    """Whether a token is the configured admin token, compared in constant time; with no
    token configured nothing is."""
    expected = settings.admin_token.get_secret_value().encode() if settings.admin_token else None

    def is_admin_token(token: str) -> bool:
        return expected is not None and secrets.compare_digest(token.encode(), expected)

    return is_admin_token


def admin_dependency(settings: Settings) -> Callable[..., None]:
    """A dependency that lets a request through only with the configured admin token.

    With no token configured the admin API is closed, never open.
    """
    is_admin_token = admin_token_check(settings)

    def require_admin(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if not is_admin_token(credentials.credentials if credentials else ""):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "Saknar eller fel administratörsnyckel (Authorization: Bearer …).",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_admin


def signing_key(settings: Settings) -> bytes:
    """NOTIFIER_SECRET_KEY, or a random key kept in the var folder (one node only)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path: Path = settings.var_dir / "secret_key"
    if not path.exists():
        _create_key_file(path)
    key = path.read_text().strip().encode()
    if len(key) < MIN_SECRET_BYTES:
        raise RuntimeError(f"{path} holds a key shorter than {MIN_SECRET_BYTES} bytes")
    return key


def _create_key_file(path: Path) -> None:
    """Write a new key where no other process can see it half-written, then link it into
    place: of two first starts, one links and the other reads the winner's key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(MIN_SECRET_BYTES))
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another start linked its key first
            os.link(temporary, path)
    finally:
        temporary.unlink()


# A payment run mails the same users again and again within minutes: each makes their
# links (two encryptions) once an hour, not once an email. Bounded, so memory stays flat.
LINKS_KEPT = 16384


def kept_for_an_hour(make: Callable[..., str], now: Callable[[], float]) -> Callable[..., str]:
    """`make(at, *key)` called once per key and hour, with `at` the hour's first second
    (the token's time, so a link reused within the hour ages as the first one did)."""
    cached = functools.lru_cache(maxsize=LINKS_KEPT)(make)

    def link(*key: str) -> str:
        return cached(int(now()) // 3600 * 3600, *key)

    return link
