"""The service: its one composition root (settings, database, RabbitMQ consumer, outbox
and email sender, the FastAPI app) and the `notifier` command line."""
