"""Figures: percentiles, ratios to the latency floor, the targets, and the machine they were measured on."""

from __future__ import annotations

import json
import math
import os
import platform
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def of_floor(seconds: float, floor: float) -> str:
    return f"{seconds / floor:5.2f} L"


def timing(seconds: float, floor: float) -> str:
    """An end-to-end figure with its ratio to the floor L (the upstream latency)."""
    return f"{ms(seconds)} ({of_floor(seconds, floor)})"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    passed: bool

    def line(self) -> str:
        return f"  {'PASS' if self.passed else 'MISS'}  {self.name:<44} {self.measured}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_lines() -> list[str]:
    return [
        f"date     {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine  {os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.release()}",
        f"python   {platform.python_implementation()} {platform.python_version()}",
    ]


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in KiB, from /proc/<pid>/status."""
    wanted = {"VmRSS", "VmHWM"}
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in wanted:
            found[name] = int(value.split()[0])
    return found


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time a process has used so far, from /proc/<pid>/stat (fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


@dataclass(frozen=True, slots=True)
class CpuReading:
    """A process's CPU so far: user and system seconds as /proc/<pid>/stat gives them (in clock ticks, 10 ms
    each), and each thread's time on a CPU as the scheduler counts it (/proc/<pid>/task/*/schedstat, in ns)."""

    user: float
    system: float
    threads_ns: dict[int, int]


def read_cpu(pid: int) -> CpuReading:
    threads: dict[int, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            threads[int(task.name)] = int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):  # a thread that ended while being read
            continue
    user, system = cpu_seconds(pid)
    return CpuReading(user, system, threads)


def cpu_used(before: CpuReading, after: CpuReading) -> tuple[float, float]:
    """User and system seconds used between two readings. The total is the scheduler's, to the nanosecond,
    split as the ticks split it (as the kernel splits its own total for /proc/<pid>/stat): a burst of 200
    commands read in ticks alone moves in steps of 0.05 ms a command. When a thread came or went in between,
    its time is not in both readings, and when the kernel keeps no schedstat there is none: then the ticks'
    own figures are given."""
    user, system = after.user - before.user, after.system - before.system
    if not after.threads_ns or after.threads_ns.keys() != before.threads_ns.keys():
        return user, system
    total = sum(after.threads_ns.values()) - sum(before.threads_ns.values())
    total_seconds = total / 1e9
    ticked = user + system
    share = user / ticked if ticked > 0 else 1.0
    return total_seconds * share, total_seconds * (1 - share)


def profile_summary(path: Path, top: int = 25) -> list[str]:
    """The functions a speedscope profile (py-spy's) spent most samples in: inclusive, then self time."""
    data = json.loads(path.read_text())
    frames = data["shared"]["frames"]
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0.0
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            names = [_frame_name(frames[index]) for index in stack]
            total += weight
            for name in set(names):
                inclusive[name] += weight
            if names:
                own[names[-1]] += weight
    lines = [f"{'incl':>6} {'self':>6}  function (of {total:g} samples)"]
    for name, weight in inclusive.most_common(top):
        lines.append(f"{100 * weight / total:5.1f}% {100 * own[name] / total:5.1f}%  {name}")
    lines.append("top self time:")
    for name, weight in own.most_common(top):
        lines.append(f"{'':6} {100 * weight / total:5.1f}%  {name}")
    return lines


def _frame_name(frame: dict[str, Any]) -> str:
    file = str(frame.get("file", ""))
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{frame.get('name', '?')} ({file}:{frame.get('line', '?')})"
