"""How fast `POST /api/v1/users/bulk` mirrors users, over real HTTP on loopback.

    .venv/bin/python -m bench.bulk_users [--users 50000] [--database-url postgresql://…]

Creates a fresh PostgreSQL database next to TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test), migrates it, serves the app with uvicorn on a
free loopback port and streams `--users` NDJSON lines to it twice from a generator (the
client never holds the body): a first load, where every user is new, and a reconcile,
where every user is sent again as the e-service reconciles: names and emails changed for
all, grants for one in ten. Each user has one or two grants and three subscriptions.
The database is dropped afterwards. Prints one JSON line: both rates in users/s and the
process's peak RSS before and after the loads (server and client share the process, so
the growth bounds the server's). The goal is at least 5,000 users/s on PostgreSQL.
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import uvicorn

from domain.organisations import organisations
from notifier import db
from notifier.app import create_app
from notifier.compose import build_services
from notifier.settings import Settings

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "bench-admin-token"
CHUNK_LINES = 200  # lines per chunk the client writes
EVENT_TYPES = ["payment.disbursed", "application.decided", "service.announcement"]
GRANTS = ["dygnsschablon-ensamkommande", "schablon-anvisade-barn"]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def user_lines(count: int, generation: int) -> Iterator[bytes]:
    orgs = list(organisations())
    for number in range(count):
        kind, code = orgs[number % len(orgs)]
        line: dict[str, Any] = {
            "id": f"user-{number}",
            "email": f"user{number}.{generation}@kommun.example.se",
            "name": f"Användare {number} gen {generation}",
            "organisation": {"kind": kind.value, "code": code},
            # One user in ten gains or loses a grant from one load to the next.
            "grants": {
                ctype: "full" for ctype in GRANTS[: 1 + (number % 10 == 0) * generation % 2]
            },
            "subscriptions": {"enabled": True, "event_types": EVENT_TYPES, "delivery": "daily"},
        }
        yield json.dumps(line).encode() + b"\n"


async def body(count: int, generation: int) -> AsyncIterator[bytes]:
    chunk: list[bytes] = []
    for line in user_lines(count, generation):
        chunk.append(line)
        if len(chunk) == CHUNK_LINES:
            yield b"".join(chunk)
            chunk.clear()
    if chunk:
        yield b"".join(chunk)


async def load(client: httpx.AsyncClient, count: int, generation: int) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = await client.post(
        "/api/v1/users/bulk",
        content=body(count, generation),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"},
    )
    answer.raise_for_status()
    return count / (time.perf_counter() - started), answer.json()


async def run(url: str, count: int) -> dict[str, Any]:
    settings = Settings(database_url=url, admin_token=TOKEN, secret_key="b" * 32)
    services = build_services(settings)
    await db.migrate(services.engine)
    port = free_port()
    config = uvicorn.Config(create_app(services), port=port, log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn sets a flag, it has no event)
        await asyncio.sleep(0.05)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            rss_before = peak_rss_mib()
            first, first_answer = await load(client, count, 1)
            again, again_answer = await load(client, count, 2)
    finally:
        server.should_exit = True
        await serving
        await services.engine.dispose()
    assert first_answer["created"] == count and again_answer["updated"] == count
    return {
        "users": count,
        "database": "postgresql",
        "first_load_users_per_s": round(first),
        "reconcile_users_per_s": round(again),
        "peak_rss_mib_before": round(rss_before, 1),
        "peak_rss_mib_after": round(peak_rss_mib(), 1),
        "goal_users_per_s": 5000,
        # Other work on the machine slows PostgreSQL and this process alike.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=50000)
    args = parser.parse_args()
    name = f"bench_bulk_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        result = await run(ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", args.users)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
