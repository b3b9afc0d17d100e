"""The package installs as a command of its own (what `pipx install .` needs), its metadata says what it
is, and the tools the tests run with are the exact versions constraints.txt pins."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .files import ROOT

SCRIPT = "yunxin-conversation-bot"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONSTRAINTS = ROOT / "constraints.txt"


def pins() -> dict[str, str]:
    """Package name (canonical) -> the exact version constraints.txt pins."""
    pinned = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"constraints.txt: {line!r} is not an exact pin"
        pinned[canonicalize_name(requirement.name)] = specifier.version
    return pinned


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_pyproject_declares_the_console_script() -> None:
    assert PYPROJECT["project"]["scripts"] == {SCRIPT: "bot.__main__:main"}


def test_the_installed_package_has_the_console_script_entry_point() -> None:
    (entry,) = metadata.entry_points(group="console_scripts", name=SCRIPT)
    assert entry.value == "bot.__main__:main"
    assert entry.dist is not None and entry.dist.name == "yunxin-conversation-bot"


def test_the_entry_point_runs_help(tmp_path: Path) -> None:
    load_and_run = (
        "from importlib.metadata import entry_points; "
        f"(entry,) = entry_points(group='console_scripts', name={SCRIPT!r}); "
        "raise SystemExit(entry.load()(['--help']))"
    )
    ran = run(sys.executable, "-c", load_and_run, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    for command in ("run", "serve", "query", "demo"):
        assert command in ran.stdout


def test_the_installed_script_looks_up_a_sandbox_conversation(tmp_path: Path) -> None:
    """The script pip wrote into the venv's bin, as a person runs it: no account, the sandbox answers."""
    script = Path(sys.executable).parent / SCRIPT
    assert script.is_file(), f"{script} is missing: reinstall with ./dev (pip install -e .)"
    ran = run(str(script), "query", "sandbox_alice|1|sandbox_bob", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "sandbox_bob" in ran.stdout and "SANDBOX" in ran.stdout


def test_metadata_names_license_urls_classifiers_and_keywords() -> None:
    meta = metadata.metadata("yunxin-conversation-bot")
    assert meta["License-Expression"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    urls = dict(entry.split(", ", 1) for entry in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Issues"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())
    classifiers = meta.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")], "the license expression says it"
    assert "slack" in (meta["Keywords"] or "").split(",")


def test_the_dev_extra_keeps_ranges_and_constraints_pin_every_requirement() -> None:
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    pinned = pins()
    lines = [*project["dependencies"], *extras["dev"]]
    for line in list(lines):
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):  # dev takes other extras
            lines.remove(line)
            lines.extend(item for extra in sorted(requirement.extras) for item in extras[extra])
    for line in lines:
        requirement = Requirement(line)
        pinned_here = [s for s in requirement.specifier if s.operator == "=="]
        assert not pinned_here, f"pyproject.toml pins {line!r}: exact pins go in constraints.txt"
        assert canonicalize_name(requirement.name) in pinned, f"constraints.txt has no pin for {requirement.name}"


def test_the_venv_has_the_pinned_versions() -> None:
    """./dev installs with -c constraints.txt, so what runs the tests is what is pinned."""
    wrong = {}
    for name, version in pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong[name] = (version, None)
            continue
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"pinned vs installed: {wrong}; ./dev reinstalls when constraints.txt changes"


@pytest.mark.parametrize("needle", ['-c "$CONSTRAINTS"', "CONSTRAINTS=constraints.txt", '"$CONSTRAINTS" -nt "$stamp"'])
def test_dev_installs_with_the_constraints_and_reinstalls_when_they_change(needle: str) -> None:
    assert needle in (ROOT / "dev").read_text(encoding="utf-8")
