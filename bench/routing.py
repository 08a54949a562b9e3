"""Support routing: `route()` decisions per second next to validating the same inquiries
(what the API does to every request before deciding), and POST /api/v1/support/route
p50 / p99 at a steady rate from a separate process against `notifier api`, next to
GET /healthz at the same rate from the same process (the web stack's own floor)."""

import asyncio
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.report import Result, rate
from bench.sink import free_port
from routing.decision.engine import route
from routing.decision.rules import default_rules
from routing.decision.schemas import Inquiry

MONDAY = "2026-11-23T09:30:00+01:00"
PERSON = {"name": "Anna Berg", "email": "anna.berg@stockholm.se", "message": "Hjälp!"}
ORGS = ({"kind": "kommun", "code": "0180"}, {"kind": "region", "code": "14"})
ISSUES: tuple[dict[str, Any], ...] = (
    {"issue_type": "login", "login_step": 1},
    {"issue_type": "login", "login_step": 2, "login_method": "siths_card_netid"},
    {"issue_type": "permissions"},
    {"issue_type": "browser", "browser": "Mozilla/4.0 (compatible; MSIE 8.0)"},
    {"issue_type": "compensation", "compensation_type": "fast-arlig-ensamkommande"},
    {"issue_type": "compensation", "target_group": "nyanlanda"},
    {"issue_type": "eservice_general"},
    {"issue_type": "notifications"},
)


def bodies() -> list[dict[str, Any]]:
    return [{"organisation": o, "asked_at": MONDAY} | PERSON | i for o in ORGS for i in ISSUES]


def decisions(count: int) -> Result:
    rules, now = default_rules(), datetime.now(UTC)
    samples = bodies()
    inquiries = [Inquiry.model_validate(samples[n % len(samples)]) for n in range(count)]
    start = time.perf_counter()
    for inquiry in inquiries:
        route(inquiry, rules, now)
    ours = count / (time.perf_counter() - start)
    start = time.perf_counter()
    for n in range(count):
        Inquiry.model_validate(samples[n % len(samples)])
    baseline = count / (time.perf_counter() - start)
    result = rate("route()", ours, baseline, "decisions/s", "—")
    result.details = {"baseline": "Inquiry.model_validate of the same inquiries"}
    return result


def _load(url: str, method: str, per_second: int, seconds: float, out: Any) -> None:
    """In its own process: requests at a steady rate (open loop), each one's latency.

    HTTP/1.1 written and read over kept connections with asyncio streams: an httpx client
    spent a whole core at 200 requests/s on this 2-core machine and fell behind its own
    schedule, so it measured itself rather than the server."""
    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    requests = [_request(method, host, body) for body in bodies()]

    async def main() -> list[float]:
        idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        latencies: list[float] = []

        async def one(n: int) -> None:
            start = time.perf_counter()
            kept = bool(idle)
            reader, writer = idle.pop() if kept else await asyncio.open_connection(host, port)
            try:
                writer.write(requests[n % len(requests)])
                status = await _response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                if not kept:
                    raise
                # The server closed a connection kept idle past its keep-alive: anew.
                reader, writer = await asyncio.open_connection(host, port)
                writer.write(requests[n % len(requests)])
                status = await _response(reader)
            if status != 200:
                raise RuntimeError(f"{method} answered {status}")
            latencies.append(time.perf_counter() - start)
            idle.append((reader, writer))

        tasks, begin = [], time.perf_counter()
        for n in range(int(per_second * seconds)):
            await asyncio.sleep(max(0.0, begin + n / per_second - time.perf_counter()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
        reached = len(tasks) / (time.perf_counter() - begin)
        for _, writer in idle:
            writer.close()
        # The rate reached, last: a loaded client falls behind its schedule and says so.
        return [*latencies, reached]

    out.put(asyncio.run(main()))


def _request(method: str, host: str, body: dict[str, Any]) -> bytes:
    if method == "GET":
        return f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    data = json.dumps(body).encode()
    head = (
        f"POST /api/v1/support/route HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _response(reader: asyncio.StreamReader) -> int:
    """Reads one response off a kept connection; its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if length is None:
        raise RuntimeError("a response without Content-Length")
    await reader.readexactly(int(length[1]))
    return status


def _latencies(url: str, method: str, per_second: int, seconds: float) -> list[float]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_load, args=(url, method, per_second, seconds, out))
    process.start()
    found: list[float] = out.get(timeout=seconds + 120)
    process.join(30)
    return found


def api(database_url: str, per_second: int, seconds: float) -> Result:
    port = free_port()
    env = os.environ | {"NOTIFIER_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "notifier", "api", "--port", str(port)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url)
        _latencies(url, "POST", per_second, 1.0)  # warm up
        *ours, reached = _latencies(url, "POST", per_second, seconds)
        *floor, _ = _latencies(url, "GET", per_second, seconds)
    finally:
        server.terminate()
        server.wait(30)
    p99, base_p99 = _ms(ours, 0.99), _ms(floor, 0.99)
    result = Result(
        "POST /api/v1/support/route", p99, base_p99, "ms p99", base_p99 / p99, "p99 < 50 ms"
    )
    result.details = {
        "rate": f"{per_second}/s for {seconds:g} s (reached {reached:.0f}/s)",
        "p50_ms": round(_ms(ours, 0.5), 2),
        "p99_ms": round(p99, 2),
        "baseline": f"GET /healthz p50 {_ms(floor, 0.5):.2f} ms",
    }
    return result


def _ms(values: list[float], q: float) -> float:
    if q == 0.5:
        return statistics.median(values) * 1000
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("notifier api did not start")
