"""Figures: percentiles, ratios to the latency floor, the targets, and the machine they were measured on."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


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
