"""Jinja2 templates: email/ (text and HTML twins per event type) and web/ pages."""
