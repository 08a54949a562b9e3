"""Message-IDs, the outbox's idempotency keys: the same (event, user), or (user, day) for a
digest, gives the same id every time, so a redelivered event or a second digest run
inserts nothing (the outbox's unique message_id decides). A user appears only as a hash.

PostgreSQL makes the notification ids itself (notifier.outbox.fan_out): `user_hash_sql`
is the same hash in SQL, held equal to `user_hash` by tests/test_message_ids.py."""

import hashlib
from datetime import date

DOMAIN = "statlig-ersattning.invalid"
HASH_CHARS = 20


def user_hash(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()[:HASH_CHARS]


def user_hash_sql(column: str) -> str:
    """`user_hash` of a text column, as a PostgreSQL expression."""
    return f"left(encode(sha256(convert_to({column}, 'UTF8')), 'hex'), {HASH_CHARS})"


def message_id(event_id: str, user_id: str) -> str:
    """Names neither the user nor anything of the event but its id."""
    return f"<{event_id}.{user_hash(user_id)}@{DOMAIN}>"


def message_id_sql(event_id: str, user_id: str) -> str:
    """`message_id` of two text columns, as a PostgreSQL expression."""
    return f"'<' || {event_id} || '.' || {user_hash_sql(user_id)} || '@{DOMAIN}>'"


def digest_id(user_id: str, day: date) -> str:
    return f"<digest.{user_hash(user_id)}.{day.isoformat()}@{DOMAIN}>"
