"""Dependencies (issue 10, #14): lower bounds above known CVEs, and the image installs a
hash-checked lock file that satisfies them."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).parent.parent
# The last version with the CVE and the first without, per package.
FIXED = {
    "jinja2": ("3.1.5", "3.1.6"),  # CVE-2025-27516
    "python-multipart": ("0.0.17", "0.0.18"),  # CVE-2024-53981
    "starlette": ("0.49.0", "0.49.1"),  # CVE-2025-62727
    "h11": ("0.15.0", "0.16.0"),  # CVE-2025-43859
    "pillow": ("11.2.1", "11.3.0"),  # CVE-2025-48379
}


def requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = (Requirement(line) for line in project["dependencies"])
    return {req.name.lower(): req for req in found}


def locked() -> dict[str, Version]:
    text = (ROOT / "requirements.lock").read_text()
    return {
        name.lower(): Version(version)
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.MULTILINE)
    }


@pytest.mark.parametrize(("package", "versions"), sorted(FIXED.items()))
def test_no_allowed_version_has_the_known_cve(package: str, versions: tuple[str, str]) -> None:
    vulnerable, fixed = versions
    specifier = requirements()[package].specifier
    assert not specifier.contains(vulnerable)
    assert specifier.contains(fixed)


def test_the_lock_file_pins_every_dependency_within_its_bounds() -> None:
    pins = locked()
    for name, requirement in requirements().items():
        assert name in pins, f"{name} is not in requirements.lock: refresh it (README)"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]}"
    assert "--hash=sha256:" in (ROOT / "requirements.lock").read_text()


def test_the_image_installs_the_lock_file_with_hashes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "pip install --no-cache-dir --no-deps --no-build-isolation ." in dockerfile


def test_notifier_uses_only_aiosmtplibs_public_names() -> None:
    """pyproject allows every aiosmtplib from 3.0; its internals (aiosmtplib.protocol's
    helpers, say) came and went within that range, so an install that resolved to another
    release failed at import. Its public names (`aiosmtplib.__all__`) are what it keeps."""
    import ast

    import aiosmtplib

    used: set[str] = set()
    for path in (ROOT / "notifier").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aiosmtplib"):
                names = {alias.name for alias in node.names}
                used |= {f"{node.module}.{name}" for name in names}
            elif isinstance(node, ast.Attribute) and ast.unparse(node.value) == "aiosmtplib":
                used.add(f"aiosmtplib.{node.attr}")
    assert used, "the SMTP channel imports aiosmtplib"
    assert used <= {f"aiosmtplib.{name}" for name in aiosmtplib.__all__}
