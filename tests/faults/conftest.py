"""The fault suite: each scenario runs the service's real processes against real RabbitMQ,
PostgreSQL and an SMTP sink process, breaks something, and counts every email.

Each scenario records its Tally in RESULTS; the table is printed at the end of the run.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.counting import Tally

RESULTS: list[Tally] = []
COLUMNS = (
    "scenario", "expected", "delivered", "missing", "extra", "dup(same id)", "dead", "recovery s",
    "total s", "result",
)  # fmt: skip


@pytest.fixture
def record() -> Iterator[list[Tally]]:
    """Where a scenario puts its tally, so it reaches the table even when it fails."""
    found: list[Tally] = []
    yield found
    RESULTS.extend(found)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def _row(t: Tally) -> tuple[str, ...]:
    recovery = "-" if t.recovery_s is None else f"{t.recovery_s:.1f}"
    dup = f"{t.duplicated}" + (f" (+{t.resent_new_id} new id)" if t.resent_new_id else "")
    return (
        t.scenario, str(t.expected), str(t.delivered), str(t.missing), str(t.extra), dup,
        str(t.dead_lettered), recovery, f"{t.total_s:.0f}", "pass" if t.passed else "FAIL",
    )  # fmt: skip


def table(results: list[Tally]) -> list[str]:
    rows = [COLUMNS, *(_row(t) for t in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    for t in results:
        lines += [f"  {t.scenario}: {note}" for note in t.notes]
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS:
        return
    terminalreporter.section("faults")
    for line in table(RESULTS):
        terminalreporter.write_line(line)
