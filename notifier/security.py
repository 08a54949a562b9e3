"""The admin bearer token and the service's signing key."""

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from notifier.settings import Settings

_bearer = HTTPBearer(auto_error=False)


def admin_dependency(settings: Settings) -> Callable[..., None]:
    """A dependency that lets a request through only with the configured admin token.

    With no token configured the admin API is closed, never open.
    """
    expected = settings.admin_token.get_secret_value().encode() if settings.admin_token else None

    def require_admin(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        given = credentials.credentials.encode() if credentials else b""
        if expected is None or not secrets.compare_digest(given, expected):
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
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()
