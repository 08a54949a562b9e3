"""What every response and request passes through, whatever the route: registered once by
the application factory."""

from fastapi import FastAPI

from notifier.settings import Settings
from notifier.web.requestguard import ControlCharacterGuard


def harden(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(ControlCharacterGuard)
