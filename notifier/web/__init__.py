"""The web layer: the FastAPI app and the routes of the notification side (health,
metrics, explanations, unsubscribe)."""
