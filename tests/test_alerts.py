"""The alert rules of docs/alerts.yaml fire, and the dashboard reads as meant.

`promtool test rules` runs every alert in the case it is written for and in one where it
must stay silent (tests/alerts/alerts_test.yaml); the series those tests feed it are the
ones a process really exports from its start. Debian's `prometheus` package ships
promtool; .ci/run installs it."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from domain.compensation import EVENT_TYPES
from notifier.outbox.models import OutboxKind
from notifier.workers.telemetry import PipelineMetrics

ROOT = Path(__file__).parent.parent
RULES = ROOT / "docs" / "alerts.yaml"
RULE_TESTS = ROOT / "tests" / "alerts" / "alerts_test.yaml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: apt-get install prometheus (as .ci/run does)"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def alert_names() -> list[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule["alert"] for group in groups for rule in group["rules"]]


def test_the_rules_are_valid_prometheus_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_passes_its_rule_tests() -> None:
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("alert", alert_names())
def test_every_alert_is_tested_firing_and_silent(alert: str) -> None:
    tests: list[dict[str, Any]] = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    cases = [c for t in tests for c in t["alert_rule_test"] if c["alertname"] == alert]
    assert any(c["exp_alerts"] for c in cases), f"{alert} is never shown firing"
    assert any(not c["exp_alerts"] for c in cases), f"{alert} is never shown silent"


def test_a_new_process_exports_every_counter_label_set_at_zero() -> None:
    """What makes `sum(rate(…))` 0 rather than empty, and a first increment visible."""
    text = generate_latest(PipelineMetrics().registry).decode()
    for event_type in EVENT_TYPES:
        assert f'notifier_events_consumed_total{{event_type="{event_type}"}} 0.0' in text
    for reason in ("json", "schema", "processing"):
        assert f'notifier_events_dead_lettered_total{{reason="{reason}"}} 0.0' in text
    for kind in OutboxKind:
        line = f'notifier_messages_total{{kind="{kind.value}",outcome="failed"}} 0.0'
        assert line in text


def test_delivery_time_buckets_reach_an_smtp_timeout() -> None:
    metrics = PipelineMetrics()
    metrics.delivery_seconds.labels(channel="email").observe(45)
    text = generate_latest(metrics.registry).decode()
    assert 'notifier_delivery_seconds_bucket{channel="email",le="60.0"} 1.0' in text
    assert 'notifier_delivery_seconds_bucket{channel="email",le="30.0"} 0.0' in text


DASHBOARD: dict[str, Any] = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())


@pytest.mark.parametrize("panel", DASHBOARD["panels"], ids=lambda p: p["title"])
def test_every_panel_has_a_unit_and_one_line_per_label_it_means(panel: dict[str, Any]) -> None:
    unit = panel["fieldConfig"]["defaults"]["unit"]
    if "sekund" in panel["title"].lower() or "tid" in panel["title"].lower():
        assert unit in {"s", "ops"}
    for target in panel["targets"]:
        # Aggregated over every process of a deployment: one line, or one per named label.
        assert target["expr"].startswith(("sum", "max", "histogram_quantile"))
