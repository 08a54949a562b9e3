"""A `notifier consume` process on its own serves its live figures on NOTIFIER_METRICS_PORT,
and they move as events are published; the alert rules and the dashboard name only
metrics the service has."""

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import httpx
import pytest
import yaml
from aio_pika.abc import AbstractRobustConnection
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier import db
from notifier.web.metrics import read_metrics
from notifier.workers.broker import Topology, declare
from notifier.workers.telemetry import PipelineMetrics
from tests.conftest import AMQP_URL
from tests.factories import encode, event_body
from tests.smtp_server import free_port

DOCS = Path(__file__).parent.parent / "docs"


def scrape(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    return {
        sample.name + json.dumps(sample.labels, sort_keys=True): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def consume_process(tmp_path: Path, topology: Topology) -> Iterator[int]:
    port = free_port()
    env = os.environ | {
        "NOTIFIER_DATABASE_URL": f"sqlite:///{tmp_path}/notifier.db",
        "NOTIFIER_AMQP_URL": AMQP_URL,
        "NOTIFIER_SECRET_KEY": "k" * 32,
        "NOTIFIER_EVENTS_EXCHANGE": topology.exchange,
        "NOTIFIER_EVENTS_QUEUE": topology.queue,
        "NOTIFIER_DEAD_LETTER_QUEUE": topology.dead_letter_queue,
        "NOTIFIER_METRICS_PORT": str(port),
    }
    run = [sys.executable, "-m", "notifier"]
    subprocess.run([*run, "migrate"], env=env, check=True, capture_output=True, timeout=60)
    process = subprocess.Popen([*run, "consume"], env=env, stderr=subprocess.DEVNULL)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_consume_process_serves_figures_that_move_with_the_events(
    consume_process: int, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    channel = await amqp.channel()
    declared = await declare(channel, topology)
    for _ in range(3):
        body = encode(event_body("application.submitted", event_id=str(uuid.uuid4())))
        await declared.exchange.publish(aio_pika.Message(body), routing_key="application.submitted")
    await declared.exchange.publish(aio_pika.Message(b"{not json"), routing_key="x")
    consumed = 'notifier_events_consumed_total{"event_type": "application.submitted"}'
    dead = 'notifier_events_dead_lettered_total{"reason": "json"}'
    deadline = time.monotonic() + 30
    while True:
        try:
            found = scrape(consume_process)
        except httpx.TransportError:
            found = {}
        if found.get(consumed) == 3 and found.get(dead) == 1:
            break
        assert time.monotonic() < deadline, found
        time.sleep(0.2)  # noqa: ASYNC251 - the process under test is another process
    assert found["notifier_consumer_batch_size_count{}"] >= 1


@pytest.fixture
async def known_metrics(engine: AsyncEngine) -> set[str]:
    """Every series name the service exposes: its own figures and the database's state."""
    async with db.sessionmaker(engine)() as session:
        families = [*await read_metrics(session), *PipelineMetrics().registry.collect()]
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
    return {
        family.name + suffix for family in families for suffix in suffixes.get(family.type, [""])
    }


def named_in(text: str) -> set[str]:
    return set(re.findall(r"\bnotifier_[a-z_]+", text))


def test_every_metric_the_alert_rules_name_exists(known_metrics: set[str]) -> None:
    rules = yaml.safe_load((DOCS / "alerts.yaml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert expressions
    assert set().union(*(named_in(expr) for expr in expressions)) <= known_metrics


def test_every_metric_the_dashboard_names_exists(known_metrics: set[str]) -> None:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    targets = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert targets
    assert set().union(*(named_in(expr) for expr in targets)) <= known_metrics
