# One image; its command picks the role: serve, api, consume, send, migrate.
# No Docker engine runs on our development machines: keep this correct by reading.

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md requirements.lock ./
# Exactly the locked versions, each checked against its hash; then our own package alone.
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY notifier notifier
COPY subscriptions subscriptions
COPY routing routing
COPY domain domain
COPY templates templates
COPY migrations migrations
RUN pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /app notifier \
    && install --directory --owner=notifier --group=notifier /app/var
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NOTIFIER_DATABASE_URL=sqlite:////app/var/notifier.db \
    NOTIFIER_MAIL_DIR=/app/var/mail
WORKDIR /app
USER notifier
# The SQLite database, the generated secret key and the .eml files without SMTP: kept
# when the container is recreated. Owned by notifier above, so a new volume is too.
VOLUME ["/app/var"]
EXPOSE 8000
# The HTTP roles answer /healthz; consume, send and migrate serve no HTTP, so for them
# the check only asks that PID 1 (the notifier process) is alive.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import sys, urllib.request; role = open('/proc/1/cmdline', 'rb').read().split(b'\0'); sys.exit(0) if not {b'serve', b'api'} & set(role) else urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
ENTRYPOINT ["notifier"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
