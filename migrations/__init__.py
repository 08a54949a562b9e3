"""Alembic migrations, shipped inside the package so `notifier migrate` works anywhere."""
