"""Delivery channels: how one outbox message leaves the service (SMTP or .eml files for
"email", a JSON POST for "http")."""
