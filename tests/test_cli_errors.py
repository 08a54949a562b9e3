"""Every command answers a missing database or broker with one clear line and exit 69
(EX_UNAVAILABLE), never a traceback: real processes pointed at closed ports."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiormq.exceptions import AMQPConnectionError

from notifier import reachable
from notifier.settings import Settings
from tests.smtp_server import free_port

ROOT = Path(__file__).parent.parent
COMMANDS = [
    ["publish-sample"],
    ["dead-letters", "list"],
    ["dead-letters", "replay"],
    ["consume"],
    ["send"],
    ["migrate"],
    ["serve", "--port", "0"],
    ["api", "--port", "0"],
]


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notifier", *command],
        env=os.environ | {"PYTHONPATH": str(ROOT)} | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_nothing_answering_is_one_line_and_exit_69(command: list[str], tmp_path: Path) -> None:
    closed = free_port()
    result = run(
        command,
        tmp_path,
        NOTIFIER_DATABASE_URL=f"postgresql://notifier:hemligt@127.0.0.1:{closed}/notifier",
        NOTIFIER_AMQP_URL=f"amqp://guest:hemligt@127.0.0.1:{closed}/",
    )
    assert result.returncode == reachable.EXIT_UNAVAILABLE, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "svarar inte" in lines[0]
    assert "NOTIFIER_" in lines[0]
    assert "hemligt" not in lines[0]


def test_a_missing_broker_is_named_when_the_database_answers(tmp_path: Path) -> None:
    result = run(
        ["publish-sample"],
        tmp_path,
        NOTIFIER_DATABASE_URL=f"sqlite:///{tmp_path}/notifier.db",
        NOTIFIER_AMQP_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}/",
    )
    assert result.returncode == reachable.EXIT_UNAVAILABLE
    assert result.stderr.startswith("notifier publish-sample: RabbitMQ svarar inte")
    assert "NOTIFIER_AMQP_URL" in result.stderr


def test_a_broker_lost_after_the_checks_is_still_one_line() -> None:
    settings = Settings(amqp_url="amqp://guest:hemligt@mq.example:5672/")
    line = reachable.explain(settings, AMQPConnectionError("Connection refused"))
    assert line.startswith("RabbitMQ svarar inte på amqp://guest:***@mq.example:5672/")
    assert "\n" not in line


def test_a_database_error_shows_the_drivers_first_line_only() -> None:
    settings = Settings(database_url="postgresql://u:hemligt@db.example/notifier")
    line = reachable.explain(settings, ConnectionRefusedError("refused\nmore detail"))
    assert "hemligt" not in line
    assert "refused" in line and "more detail" not in line
