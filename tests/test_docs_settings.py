"""docs/configuration.md is the operator's list of every setting: a new Settings field
that is not named there fails here, so the page cannot fall behind the code."""

import re
from pathlib import Path

import pytest

from notifier.settings import Settings

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def env_name(field: str) -> str:
    return f"NOTIFIER_{field.upper()}"


def documented() -> set[str]:
    return set(re.findall(r"`(NOTIFIER_[A-Z0-9_]+)`", PAGE.read_text(encoding="utf-8")))


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_named_in_the_configuration_page(field: str) -> None:
    assert env_name(field) in documented(), f"{env_name(field)} is missing from {PAGE.name}"


def test_the_configuration_page_names_no_setting_that_does_not_exist() -> None:
    real = {env_name(field) for field in Settings.model_fields}
    assert documented() - real == set()
