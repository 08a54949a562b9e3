"""Live figures of one process's pipeline, for Prometheus: what the consumer and the sender
did since the process started. Each process builds its own registry (no globals), and
`serve` adds it to /metrics; a `consume` or `send` process alone serves it on
NOTIFIER_METRICS_PORT. The deployment-wide state (outbox, queues) is read from the
database at scrape time by notifier.web.metrics.

Every label set a counter can take is created at 0 when the process starts: a counter
with no series makes `sum(rate(…))` empty rather than 0, and its first increment invisible
to `increase()`, so the alerts in docs/alerts.yaml could not fire."""

from itertools import product

from prometheus_client import CollectorRegistry, Counter, Histogram

from domain.compensation import EVENT_TYPES
from notifier.channels.base import PermanentDeliveryError
from notifier.outbox.models import OutboxKind

BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000)
# One claimed batch through SMTP: milliseconds to a local relay with pipelining, seconds to
# a slow one, and up to the 10 minutes RFC 5321 (4.5.3.2) lets a server take over DATA.
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
DEAD_LETTER_REASONS = ("json", "schema", "processing")
OUTCOMES = ("sent", "retried", "failed")


def reason_class(reason: str) -> str:
    """A dead letter's reason as a label of few values (the text itself is in its header)."""
    if reason == "not valid JSON":
        return "json"
    if reason.startswith("processing failed"):
        return "processing"
    return "schema"


class PipelineMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.consumed = Counter(
            "notifier_events_consumed", "Valid events received", ["event_type"], registry=r
        )
        self.dead_lettered = Counter(
            "notifier_events_dead_lettered", "Messages dead-lettered", ["reason"], registry=r
        )
        self.matched = Counter(
            "notifier_recipients_matched", "Outbox rows added for matched users", registry=r
        )
        self.consumer_batch = Histogram(
            "notifier_consumer_batch_size",
            "Messages per consumed batch",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.delivered = Counter(
            "notifier_messages",
            "Outbox messages handled by the sender, by outcome (sent, retried, failed)",
            ["outcome", "kind"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "notifier_delivery_seconds",
            "Time to hand one claimed batch to a channel (SMTP, files, HTTP)",
            ["channel"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.sender_batch = Histogram(
            "notifier_sender_batch_size",
            "Rows per claimed batch",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self._initialise_label_sets()

    def _initialise_label_sets(self) -> None:
        for event_type in EVENT_TYPES:
            self.consumed.labels(event_type=event_type)
        for reason in DEAD_LETTER_REASONS:
            self.dead_lettered.labels(reason=reason)
        for outcome, kind in product(OUTCOMES, OutboxKind):
            self.delivered.labels(outcome=outcome, kind=kind.value)

    def outcome(self, kind: str, error: Exception | None, final: bool) -> None:
        if error is None:
            outcome = "sent"
        elif isinstance(error, PermanentDeliveryError) or final:
            outcome = "failed"
        else:
            outcome = "retried"
        self.delivered.labels(outcome=outcome, kind=kind).inc()
