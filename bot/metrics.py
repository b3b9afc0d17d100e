"""Process metrics in Prometheus' text format, for `GET /metrics`.

A few counters and histograms do not justify a dependency; this writes the exposition format
(version 0.0.4) directly.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence

Labels = tuple[tuple[str, str], ...]

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = (*labels, *extra)
    if not pairs:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in pairs) + "}"


class Counter:
    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(sorted(labels.items())), 0.0)

    def expose(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for labels, value in sorted(self._values.items()):
            yield f"{self.name}{_format_labels(labels)} {value:g}"


class Histogram:
    def __init__(self, name: str, help_text: str, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.name = name
        self.help = help_text
        self._buckets = tuple(sorted(buckets))
        self._series: dict[Labels, list[float]] = {}  # per-bucket counts, then sum, then count
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._series.setdefault(key, [0.0] * (len(self._buckets) + 2))
            index = bisect.bisect_left(self._buckets, value)
            if index < len(self._buckets):
                series[index] += 1
            series[-2] += value
            series[-1] += 1

    def count(self, **labels: str) -> int:
        series = self._series.get(tuple(sorted(labels.items())))
        return int(series[-1]) if series else 0

    def expose(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        for labels, series in sorted(self._series.items()):
            cumulative = 0.0
            for bound, count in zip(self._buckets, series, strict=False):
                cumulative += count
                yield f"{self.name}_bucket{_format_labels(labels, (('le', f'{bound:g}'),))} {cumulative:g}"
            yield f"{self.name}_bucket{_format_labels(labels, (('le', '+Inf'),))} {series[-1]:g}"
            yield f"{self.name}_sum{_format_labels(labels)} {series[-2]:.6f}"
            yield f"{self.name}_count{_format_labels(labels)} {series[-1]:g}"


class Metrics:
    """The process's metrics. One instance per app, so tests can read their own."""

    def __init__(self) -> None:
        self.commands = Counter("conversation_bot_commands_total", "Lookups requested from Slack, by kind and outcome.")
        self.command_seconds = Histogram(
            "conversation_bot_command_seconds", "Time from a command's arrival to its last reply."
        )
        self.yunxin_calls = Counter("conversation_bot_yunxin_calls_total", "Calls to Yunxin, by result code.")
        self.yunxin_seconds = Histogram("conversation_bot_yunxin_call_seconds", "Duration of one Yunxin call.")

    def render(self) -> str:
        lines: list[str] = []
        for metric in (self.commands, self.command_seconds, self.yunxin_calls, self.yunxin_seconds):
            lines.extend(metric.expose())
        return "\n".join(lines) + "\n"
