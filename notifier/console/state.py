"""What the console's routers share, built once by the composition root and put on
`app.state.console`."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.web import state_dependency
from notifier.console.announcements import Publish
from notifier.console.previews import Previews
from notifier.workers.broker import Topology
from routing.web.pages import Pages
from routing.web.ratelimit import RateLimit

STATE = "console"


@dataclass(frozen=True)
class ConsoleWeb:
    pages: Pages
    sessions: async_sessionmaker[AsyncSession]  # for work in a transaction of its own
    is_admin_token: Callable[[str], bool]
    now: Callable[[], datetime]  # the composition root's clock; tests move it
    amqp_url: str
    topology: Topology
    previews: Previews  # every email the service sends, with sample data
    publish: Publish  # announcements' events onto the exchange
    wake: asyncio.Event  # a sender in this process starts at once on new outbox rows
    test_sends: RateLimit  # test sends per operator


ConsoleDep = Annotated[ConsoleWeb, Depends(state_dependency(STATE, ConsoleWeb))]
