"""`--instructions`: the app's instructions per command, counted by valgrind's callgrind.

CPU time on a shared machine moves by a tenth from one run to the next; an instruction count does not
(the same code and inputs give the same count to a tenth of a per cent), so this is the figure to compare
a change against. The app runs under callgrind with counting off through start-up and the warm-up, on
for the commands only (`callgrind_control -i on|off`). Counted: user-space instructions of the app
process, not the kernel's work on its sockets, so it is a measure of the code, not a time.

The lean reference bot (bench/lean.py) runs beside it under callgrind too and is counted the same way,
after the app, over the same commands: the ratio of the two is what the app adds per command.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .harness import USERS, Bench, at_once, command_text, running_bench, running_lean

ROUNDS = 10
AT_ONCE = 20
_UNDER_VALGRIND = 50  # startup and waits take about this many times longer


def available() -> str | None:
    """Why the count cannot be taken here, or None."""
    missing = [tool for tool in ("valgrind", "callgrind_control") if shutil.which(tool) is None]
    return f"needs {' and '.join(missing)} (Debian: apt install valgrind)" if missing else None


@dataclass(frozen=True, slots=True)
class Counts:
    """Instructions per command of the app and of the lean bot, over `commands` commands each."""

    app: float
    lean: float
    commands: int


def _callgrind(out_dir: Path) -> list[str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "callgrind.out"
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]


async def count(latency_seconds: float, out_dir: Path) -> Counts:
    """Instructions per command over ROUNDS rounds of AT_ONCE commands at once, of the app then the lean bot."""
    app_dir, lean_dir = out_dir / "app", out_dir / "lean"
    async with (
        running_bench(latency_seconds, command_prefix=_callgrind(app_dir), startup_factor=_UNDER_VALGRIND) as bench,
        running_lean(bench, command_prefix=_callgrind(lean_dir), startup_factor=_UNDER_VALGRIND) as lean,
    ):
        await warm(bench)
        await warm(lean)
        app = await _counted(bench, app_dir, "i")  # the app's IDs as before the lean bot was counted too
        lean_bot = await _counted(lean, lean_dir, "li")
    commands = ROUNDS * AT_ONCE
    return Counts(app / commands, lean_bot / commands, commands)


async def _counted(bench: Bench, out_dir: Path, tag: str) -> int:
    """The instructions `bench`'s bot ran for ROUNDS rounds of AT_ONCE commands, counting on for them only."""
    _control(bench, "-i", "on")
    for round_ in range(ROUNDS):
        await at_once(bench, AT_ONCE, f"{tag}{round_}")  # one-digit rounds: no two commands share an ID
    await asyncio.sleep(1.0)  # the last audit lines and metrics are the commands' cost too
    _control(bench, "-i", "off")
    _control(bench, "-d")
    return _total_instructions(out_dir)


async def warm(bench: Bench) -> None:
    for index, user in enumerate(USERS):  # users.info cached, pools open: not counted
        await bench.command(command_text("iw", index), user)


def _control(bench: Bench, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(bench.app.pid)], check=True, capture_output=True)


def _total_instructions(out_dir: Path) -> int:
    """The largest `totals:`/`summary:` of the dumps: the one `callgrind_control -d` wrote."""
    total = 0
    for dump in out_dir.glob("callgrind.out*"):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith(("totals:", "summary:")):
                total = max(total, int(line.split()[1]))
    if total == 0:
        print("callgrind wrote no totals", file=sys.stderr)
    return total
