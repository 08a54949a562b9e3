"""Live figures of one process's pipeline, for Prometheus: what the consumer and the sender
did since the process started. Each process builds its own registry (no globals), and
`serve` adds it to /metrics; a `consume` or `send` process alone serves it on
NOTIFIER_METRICS_PORT. The deployment-wide state (outbox, queues) is read from the
database at scrape time by notifier.web.metrics."""

from prometheus_client import CollectorRegistry, Counter, Histogram

from notifier.channels.base import PermanentDeliveryError

BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000)


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
            registry=r,
        )
        self.sender_batch = Histogram(
            "notifier_sender_batch_size",
            "Rows per claimed batch",
            buckets=BATCH_BUCKETS,
            registry=r,
        )

    def outcome(self, kind: str, error: Exception | None, final: bool) -> None:
        if error is None:
            outcome = "sent"
        elif isinstance(error, PermanentDeliveryError) or final:
            outcome = "failed"
        else:
            outcome = "retried"
        self.delivered.labels(outcome=outcome, kind=kind).inc()
