"""What every group of settings shares: the environment prefix, and the limits the groups'
validators hold values to."""

from pydantic_settings import SettingsConfigDict

from routing.decision.engine import TICKET_DESTINATIONS

# The routes that open a ticket: a forward to any other destination is a configuration
# error, shown at start.
FORWARD_DESTINATIONS = tuple(sorted(destination.value for destination in TICKET_DESTINATIONS))
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# A shorter signing key can be guessed or searched; an empty one lets anyone forge every
# unsubscribe link and staff session.
MIN_SECRET_BYTES = 32

CONFIG = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")
