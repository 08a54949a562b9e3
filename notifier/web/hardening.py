"""What every response and request passes through, whatever the route: registered once by
the application factory."""

from fastapi import FastAPI

from notifier.settings import Settings
from notifier.web.requestguard import ControlCharacterGuard


def harden(app: FastAPI, settings: Settings) -> None:
    # Starlette's slash redirect builds its absolute Location from the Host header, which
    # the client chooses: no redirect, a wrong path is a 404.
    app.router.redirect_slashes = False
    app.add_middleware(ControlCharacterGuard)
