# One image; its command picks the role: serve, api, consume, send, migrate.
# No Docker engine runs on our development machines: tests/test_compose.py reads it and
# runs hadolint on it.
# The base image by digest (python:3.11-slim-bookworm), so a rebuild gets the same system;
# renew both FROM lines together: `docker buildx imagetools inspect python:3.11-slim-bookworm`.

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md requirements.lock requirements-build.lock ./
# Exactly the locked versions, each checked against its hash, built (dkimpy from source) by
# the pinned build backend installed first; then our own package alone, by the same one.
RUN pip install --no-cache-dir --require-hashes -r requirements-build.lock \
    && pip install --no-cache-dir --no-build-isolation --require-hashes -r requirements.lock
COPY notifier notifier
COPY subscriptions subscriptions
COPY routing routing
COPY domain domain
COPY templates templates
COPY migrations migrations
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
# A numeric UID, so that a runtime policy (runAsNonRoot) can see it is not root.
RUN groupadd --system --gid 10001 notifier \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /app notifier \
    && install --directory --owner=10001 --group=10001 /app/var
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NOTIFIER_DATABASE_URL=sqlite:////app/var/notifier.db \
    NOTIFIER_MAIL_DIR=/app/var/mail
WORKDIR /app
USER 10001:10001
# The SQLite database, the generated secret key and the .eml files without SMTP: kept
# when the container is recreated. Owned by notifier above, so a new volume is too.
VOLUME ["/app/var"]
EXPOSE 8000
# The HTTP roles answer /healthz; consume, send and migrate serve no HTTP, so for them
# the check only asks that PID 1 (the notifier process) is alive. Exec form: no shell.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; role = open('/proc/1/cmdline', 'rb').read().split(b'\\0'); sys.exit(0) if not {b'serve', b'api'} & set(role) else urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["notifier"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
