"""Every table of the service on one SQLModel metadata, for Alembic."""

from sqlmodel import SQLModel

import notifier.console.models
import notifier.outbox.models
import routing.ticketing.models
import routing.ticketing.staff
import routing.ticketing.staff_sessions
import subscriptions.models
import subscriptions.suppressions

__all__ = ["target_metadata"]
_MODELS = (
    notifier.console.models,
    notifier.outbox.models,
    routing.ticketing.models,
    routing.ticketing.staff,
    routing.ticketing.staff_sessions,
    subscriptions.models,
    subscriptions.suppressions,
)
target_metadata = SQLModel.metadata
