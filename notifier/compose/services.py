"""What the application's parts share: built once by notifier.compose.build_services and
handed down."""

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier.settings import Settings
from notifier.templating import Templates
from notifier.workers.telemetry import PipelineMetrics
from routing.decision.rules import RuleSet

Check = Callable[[], Awaitable[None]]
Worker = Callable[[], Coroutine[Any, Any, None]]


class Role(StrEnum):
    CONSUME = "consume"
    SEND = "send"


@dataclass
class Services:
    """What the application's parts share, built once and handed down."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Signs unsubscribe links and staff sessions; may be read from ./var/secret_key: once.
    key: bytes
    rules: RuleSet
    templates: Templates
    # Closes what was opened for these services, last opened first.
    resources: AsyncExitStack = field(default_factory=AsyncExitStack)
    # Named readiness checks for /readyz: each raises when its dependency does not answer.
    checks: dict[str, Check] = field(default_factory=dict)
    # Long-running tasks of the roles asked for (the consumer and sender under `serve`).
    workers: list[Worker] = field(default_factory=list)
    # Asked first when the process stops: each finishes what it has in hand (the sender
    # its batches), within runtime.GRACE, before the workers are cancelled.
    stops: list[Worker] = field(default_factory=list)
    # What "now" is for routing decisions; tests fix it to a moment.
    clock: Callable[[], datetime] = utcnow
    # Set when new outbox rows are committed: a sender in this process starts at once.
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # This process's consumer and sender figures (/metrics, or NOTIFIER_METRICS_PORT).
    metrics: PipelineMetrics = field(default_factory=PipelineMetrics)
