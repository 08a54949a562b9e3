"""One result per benchmark: a JSON line on stdout and a row in bench/RESULTS.md, each
with the machine and the versions it ran on, so figures from different days compare."""

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "| date | machine | python / postgres / rabbitmq | benchmark | ours | baseline | ratio "
    "| target | notes |\n|---|---|---|---|---|---|---|---|---|\n"
)


@dataclass(slots=True)
class Result:
    benchmark: str
    ours: float
    baseline: float
    unit: str  # of ours and baseline, e.g. "events/s" or "ms p99"
    # ours / baseline for a rate; for a time, baseline / ours, so that 1.0 is as good.
    ratio: float
    target: str
    details: dict[str, Any] = field(default_factory=dict)


def rate(benchmark: str, ours: float, baseline: float, unit: str, target: str) -> Result:
    return Result(benchmark, ours, baseline, unit, ours / baseline, target)


def duration(benchmark: str, ours: float, baseline: float, unit: str, target: str) -> Result:
    return Result(benchmark, ours, baseline, unit, baseline / ours, target)


# A smoke run's sizes are a few hundred events: fixed costs dominate, so its ratios are
# far from the targets by construction and prove only that each benchmark runs.
SMOKE_NOTICE = (
    "bench: smoke run: the sizes are too small for any target to be met; the ratios only "
    "show that each benchmark runs (make bench measures)."
)


def publish(result: Result, *, smoke: bool, results: Path = RESULTS) -> None:
    """Print the JSON line; a full run (not a smoke run) also appends its row. A smoke
    line's target says it is not judged."""
    line = {**asdict(result), **environment(), "smoke": smoke}
    if smoke:
        line["target"] = f"{result.target} (full run only; not judged at smoke sizes)"
    print(json.dumps(line, ensure_ascii=False), flush=True)
    if smoke:
        return
    if not results.exists():
        results.write_text("# Benchmark results\n\nAppended by `make bench`.\n\n" + HEADER)
    env = environment()
    versions = f"{env['python']} / {env['postgres']} / {env['rabbitmq']}"
    notes = ", ".join(f"{k}={v}" for k, v in result.details.items())
    row = (
        f"| {env['date']} | {env['machine']} | {versions} | {result.benchmark} "
        f"| {result.ours:,.1f} {result.unit} | {result.baseline:,.1f} {result.unit} "
        f"| {result.ratio:.2f} | {result.target} | {notes} |\n"
    )
    with results.open("a") as file:
        file.write(row)


@cache
def environment() -> dict[str, str]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
        "python": platform.python_version(),
        "postgres": _postgres(),
        "rabbitmq": _rabbitmq(),
    }


def _postgres() -> str:
    return _ask(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"])


def _rabbitmq() -> str:
    return _ask(["rabbitmqctl", "version"])


def _ask(command: list[str]) -> str:
    """A server's version from its own client; "?" where the client is missing."""
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.stdout.strip().split(" ")[0] or "?"
