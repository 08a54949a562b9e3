"""The benchmark suite runs end to end (a smoke run: its figures mean nothing) and records
a full run's figures with the machine and versions they came from."""

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import SMOKE_NOTICE, Result, publish, rate
from tests.faults.counting import recovery

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    "matching 3,000 users",
    "matching 3,000 users vs by-id",
    "consumer",
    "consumer vs aio-pika",
    "fan-out",
    "fan-out vs COPY",
    "sender",
    "sender vs sendmail",
    "sender via Postfix",
    "sender via Postfix vs sendmail",
    "route()",
    "POST /api/v1/support/route",
    "payment run",
    "payment run vs sendmail",
    "latency",
    "memory 600 events",
}


def test_every_benchmark_runs_and_reports_a_ratio_to_its_baseline() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert {line["benchmark"] for line in lines} == EXPECTED
    for line in lines:
        assert line["ours"] > 0 and line["baseline"] > 0, line
        assert line["smoke"] is True and line["postgres"] and line["rabbitmq"], line


def test_a_full_run_appends_a_row_with_versions_and_the_ratio(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    publish(rate("sender", 800.0, 1000.0, "emails/s", "≥ 0.8"), smoke=False, results=results)
    publish(Result("x", 2.0, 1.0, "ms p99", 0.5, "—"), smoke=False, results=results)
    rows = [line for line in results.read_text().splitlines() if line.startswith("| 20")]
    assert len(rows) == 2
    assert "| sender | 800.0 emails/s | 1,000.0 emails/s | 0.80 | ≥ 0.8 |" in rows[0]
    assert f"| {platform.python_version()} / " in rows[0]


def test_a_smoke_run_records_nothing(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    publish(rate("sender", 1.0, 1.0, "emails/s", "—"), smoke=True, results=results)
    assert not results.exists()


def test_a_smoke_line_says_its_target_is_not_judged(capsys: pytest.CaptureFixture[str]) -> None:
    publish(
        rate("fanout", 15.0, 100.0, "rows/s", "≥ 0.5"), smoke=True, results=Path("/nonexistent")
    )
    line = json.loads(capsys.readouterr().out)
    assert line["target"] == "≥ 0.5 (full run only; not judged at smoke sizes)"
    assert "too small for any target" in SMOKE_NOTICE


@pytest.mark.parametrize(
    ("fault_at", "last", "shown"),
    [(100.0, 104.26, 4.3), (100.0, 99.8, 0.0), (100.0, None, None), (None, 99.0, None)],
)
def test_a_recovery_time_is_never_negative(
    fault_at: float | None, last: float | None, shown: float | None
) -> None:
    assert recovery(fault_at, last) == shown
