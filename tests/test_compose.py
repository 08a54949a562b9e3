"""compose.yaml and the Dockerfile stay true to the code: no Docker engine runs here, so
the files are read and every command and NOTIFIER_ variable checked against the CLI and
Settings."""

import json
import re
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


@pytest.mark.parametrize("name", ["postgres", "rabbitmq", "mailpit", "redis", "api"])
def test_services_others_wait_for_have_health_checks(name: str) -> None:
    assert SERVICES[name]["healthcheck"]["test"][0] == "CMD"


def test_every_dependency_is_a_service() -> None:
    for service in SERVICES.values():
        assert set(service.get("depends_on", {})) <= set(SERVICES)


def test_dockerfile_keeps_var_and_runs_a_real_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'^VOLUME \["/app/var"\]$', dockerfile, re.MULTILINE)
    command = json.loads(re.search(r"^CMD (.*)$", dockerfile, re.MULTILINE)[1])  # type: ignore[index]
    assert command[0] in subcommands()
    _parser().parse_args(command)
