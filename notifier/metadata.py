"""Every table of the service on one SQLModel metadata, for Alembic."""

from sqlmodel import SQLModel

import notifier.models
import routing.models
import routing.staff
import subscriptions.models

__all__ = ["target_metadata"]
_MODELS = (notifier.models, routing.models, routing.staff, subscriptions.models)
target_metadata = SQLModel.metadata
