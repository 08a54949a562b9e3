"""The workers, above the outbox, the kinds and the channels: events in from RabbitMQ
(broker, consumer), the sender that delivers the outbox, dead letters, retention and the
sample publisher."""
