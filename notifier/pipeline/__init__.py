"""The event pipeline: events in from RabbitMQ (broker, consumer), matched into the outbox,
delivered by the sender; dead letters and the sample publisher beside it."""
