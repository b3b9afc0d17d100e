"""The bot's metrics, through prometheus-client, for `GET /metrics`.

One `Metrics` (and so one registry) per app, so tests read their own. With several worker processes
(WEB_CONCURRENCY), PROMETHEUS_MULTIPROC_DIR names a directory the workers share: prometheus-client's
multiprocess mode then keeps each worker's values there and `/metrics` serves their sum, whichever worker
answers. The process collectors (CPU, memory, open files, GC) describe one process, so they are served
only without that directory.

Every label takes only known values: kinds and outcomes are the pipeline's enums, Yunxin results a
fixed set (unknown codes count as `other`).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.registry import Collector

# The series are the bot's own, as they always were: no `_created` companion to every counter.
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the text format generate_latest writes, as every Prometheus reads it


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_DIR))


class _ChildrenKept:
    """`labels()` that hands back a labelset's child from a dict of its own once it has been asked for:
    prometheus-client checks the names, converts each value and takes a lock on every call (about 2 µs for
    two labels), and the bot asks for the same few labelsets on every command. Any change to the children
    (`remove`, `clear`) empties the dict."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: dict[tuple[Any, ...], Any] = {}

    def labels(self, *values: Any, **named: Any) -> Any:
        key = (values, *named.items())  # as the caller wrote it: another order only makes a second entry
        child = self._kept.get(key)
        if child is None:
            child = self._kept[key] = super().labels(*values, **named)  # type: ignore[misc]
        return child

    def remove(self, *values: Any) -> None:
        self._kept.clear()
        super().remove(*values)  # type: ignore[misc]

    def clear(self) -> None:
        self._kept.clear()
        super().clear()  # type: ignore[misc]


class _Counter(_ChildrenKept, Counter):
    pass


class _Histogram(_ChildrenKept, Histogram):
    pass


class Metrics:
    """The app's series. Counters and histograms as Prometheus names them (`_total`, `_bucket`, ...)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._multiprocess = multiprocess_mode()
        self._watched: list[Collector] = []
        if not self._multiprocess:
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(_Forward(collector))
        registry = self.registry
        self.commands = _Counter(
            "conversation_bot_commands",
            "Lookups requested from Slack, by kind and outcome.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.command_seconds = _Histogram(
            "conversation_bot_command_seconds",
            "Time from a command's arrival to its last reply.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.yunxin_calls = _Counter(
            "conversation_bot_yunxin_calls", "Calls to Yunxin, by result code.", ["result"], registry=registry
        )
        self.yunxin_seconds = _Histogram(
            "conversation_bot_yunxin_call_seconds",
            "Duration of one Yunxin call.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.slack_refusals = _Counter(
            "conversation_bot_slack_refusals",
            "Answers Slack refused, by layout (table, plain) and error; a refused table is sent again as lists.",
            ["layout", "error"],
            registry=registry,
        )

    def watch(self, collector: Collector) -> None:
        """Add a collector read at each scrape (the state of this process: shared state, the Yunxin gates),
        in multiprocess mode too, where each worker answers for what it sees itself."""
        self._watched.append(collector)
        if not self._multiprocess:
            self.registry.register(collector)

    def render(self) -> bytes:
        """The exposition in Prometheus' text format (`CONTENT_TYPE`)."""
        if not self._multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        for collector in self._watched:
            merged.register(collector)
        return generate_latest(merged)


class _Forward(Collector):
    """A process-wide collector (registered once in the default registry) shown in an app's registry."""

    def __init__(self, collector: Collector) -> None:
        self._collector = collector

    def collect(self):  # type: ignore[no-untyped-def]
        return self._collector.collect()
