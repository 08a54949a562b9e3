"""`make run` takes the port (and host) from the command line, as the README says."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def dry_run(*variables: str) -> str:
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "run", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ((), "serve --host 127.0.0.1 --port 8000"),
        (("PORT=8123",), "serve --host 127.0.0.1 --port 8123"),
        (("PORT=9000", "HOST=0.0.0.0"), "serve --host 0.0.0.0 --port 9000"),
    ],
)
def test_make_run_serves_on_the_port_given(variables: tuple[str, ...], expected: str) -> None:
    assert expected in dry_run(*variables)
