"""What README.md says about the demo, deploying and the pins holds: the demo sends the IDs and shows
the counts the README shows and ends with the next steps, and every file the Deploying section names
exists."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .files import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`python -m bot demo`, once, in an empty directory with none of the bot's settings set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YUNXIN_", "ALLOWED_"))}
    env["PYTHONPATH"] = str(ROOT)
    ran = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=tmp_path_factory.mktemp("demo"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


def test_the_readme_shows_the_demos_command(demo: str) -> None:
    (sent,) = re.findall(r"^/conversation .*$", demo, re.M)
    assert f"`{sent}`" in section("What a user sees")


def test_the_readme_shows_the_demos_counts(demo: str) -> None:
    shown = section("What a user sees")
    (ack,) = re.findall(r"^Looking up \d+ conversations…$", demo, re.M)
    assert ack in shown
    counts = re.search(r"^  · \d+ found .*$", demo, re.M)
    assert counts and counts[0] in shown
    (sent,) = re.findall(r"^/conversation (.*)$", demo, re.M)
    ids = sent.split()
    assert ack == f"Looking up {len(ids)} conversations…"
    positions = [shown.index(f"`{conversation_id}` ·") for conversation_id in ids]
    assert positions == sorted(positions), "the README's answer lists the IDs in the order sent"


def test_the_demo_ends_with_the_next_steps(demo: str) -> None:
    tail = demo[demo.rindex("── Next") :]
    assert "./dev run query " in tail
    (heading,) = re.findall(r'README\.md says under\s+"([^"]+)"', tail)
    assert f"\n## {heading}\n" in README


def test_the_quick_start_tells_what_the_first_run_does() -> None:
    quick_start = section("Quick start")
    assert "constraints.txt" in quick_start and "pipx install ." in quick_start
    assert "five sample IDs" in quick_start


def test_every_file_the_deploying_section_names_exists() -> None:
    deploying = section("Deploying")
    named = set(re.findall(r"\b((?:deploy/[\w./-]+)|compose\.yaml|Dockerfile|constraints\.txt|Procfile)", deploying))
    named = {name.rstrip(".") for name in named}
    assert {"Dockerfile", "compose.yaml", "constraints.txt", "deploy/kubernetes/"} <= named
    for name in named:
        assert (ROOT / name).exists(), f"README's Deploying section names {name}, which does not exist"
    units = re.findall(r"`(yunxin-conversation-bot[\w-]*\.service)`", deploying)
    assert units and all((ROOT / "deploy" / "systemd" / unit).is_file() for unit in units)


def test_the_readme_says_how_to_update_the_pins() -> None:
    assert "./dev pin" in section("Deploying")
    dev = Path(ROOT / "dev").read_text(encoding="utf-8")
    assert re.search(r"^    pin\)$", dev, re.M)
