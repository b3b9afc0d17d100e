"""GET /metrics: Prometheus' text format through prometheus-client, read back by its own parser; one
registry per app, process metrics, several workers summed; counts that move with each command; and every
failure seen three ways: the trace ID shown, one log line with it, its counter."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.metrics import Metrics
from tests.harness import BOB, HANG, Bot, BotFactory, Fault, ScriptedYunxin, envelope, html_page
from tests.messages import shown, shown_trace_ids
from tests.processes import subprocess_env

Labels = frozenset[tuple[str, str]]
BOT_FAMILIES = {
    "conversation_bot_commands": "counter",
    "conversation_bot_command_seconds": "histogram",
    "conversation_bot_yunxin_calls": "counter",
    "conversation_bot_yunxin_call_seconds": "histogram",
}


@dataclass
class Family:
    kind: str
    help: str = ""
    samples: dict[tuple[str, Labels], float] = field(default_factory=dict)


def parse_exposition(text: str | bytes) -> dict[str, Family]:
    """The families of a text exposition, read by prometheus-client's own parser (as Prometheus reads it);
    a sample twice fails."""
    families: dict[str, Family] = {}
    for metric in text_string_to_metric_families(text.decode() if isinstance(text, bytes) else text):
        family = families.setdefault(metric.name, Family(metric.type, metric.documentation))
        for sample in metric.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in family.samples, f"sample twice: {key}"
            family.samples[key] = sample.value
    return families


def check_histogram(name: str, family: Family) -> None:
    """Buckets rise with `le`, counts never fall, +Inf is last and equals _count; _sum is there."""
    series: dict[Labels, list[tuple[float, float]]] = defaultdict(list)
    for (sample, labels), value in family.samples.items():
        if sample == f"{name}_bucket":
            le = dict(labels)["le"]
            series[labels - {("le", le)}].append((math.inf if le == "+Inf" else float(le), value))
    assert series, f"{name} has no buckets"
    for labels, buckets in series.items():
        bounds = [bound for bound, _ in buckets]
        counts = [count for _, count in buckets]
        assert bounds == sorted(bounds) and bounds[-1] == math.inf
        assert counts == sorted(counts)
        assert family.samples[(f"{name}_count", labels)] == counts[-1]
        assert family.samples[(f"{name}_sum", labels)] >= 0


def value(families: dict[str, Family], sample: str, **labels: str) -> float:
    for family in families.values():
        found = family.samples.get((sample, frozenset(labels.items())))
        if found is not None:
            return found
    return 0.0


# --- the format -----------------------------------------------------------------------------------


def test_the_exposition_parses_back_with_escaped_labels_and_consistent_histograms() -> None:
    metrics = Metrics()
    metrics.commands.labels(kind="command", outcome="ok").inc()
    metrics.commands.labels(kind="share", outcome='quote " backslash \\ newline \n end').inc(2)
    for seconds in (0.001, 0.2, 3.0, 99.0):
        metrics.command_seconds.labels(kind="command").observe(seconds)
        metrics.yunxin_seconds.observe(seconds)
    metrics.yunxin_calls.labels(result="416").inc()
    families = parse_exposition(metrics.render())
    assert {name: families[name].kind for name in BOT_FAMILIES} == BOT_FAMILIES
    assert all(family.help for family in families.values())
    assert (
        value(families, "conversation_bot_commands_total", kind="share", outcome='quote " backslash \\ newline \n end')
        == 2
    )
    for name, family in families.items():
        if family.kind == "histogram":
            check_histogram(name, family)
    assert value(families, "conversation_bot_yunxin_call_seconds_count") == 4
    assert value(families, "conversation_bot_yunxin_call_seconds_bucket", le="0.25") == 2
    assert value(families, "conversation_bot_yunxin_call_seconds_sum") == pytest.approx(102.201)
    assert not any(name.endswith("_created") for family in families.values() for name, _ in family.samples)


def test_the_process_is_described_too() -> None:
    families = parse_exposition(Metrics().render())
    assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_gc_collections"} <= families.keys()


def test_each_app_reads_its_own_metrics() -> None:
    first, second = Metrics(), Metrics()
    first.commands.labels(kind="command", outcome="ok").inc()
    assert (
        value(parse_exposition(second.render()), "conversation_bot_commands_total", kind="command", outcome="ok") == 0
    )


def test_a_labelset_asked_for_again_counts_in_the_same_series_until_removed() -> None:
    metrics = Metrics()
    metrics.commands.labels(kind="command", outcome="ok").inc()
    metrics.commands.labels("command", "ok").inc()
    metrics.commands.labels(outcome="ok", kind="command").inc()
    metrics.commands.labels(kind="ok", outcome="command").inc()  # the same values under the other names
    families = parse_exposition(metrics.render())
    assert value(families, "conversation_bot_commands_total", kind="command", outcome="ok") == 3
    assert value(families, "conversation_bot_commands_total", kind="ok", outcome="command") == 1
    metrics.commands.remove("command", "ok")
    metrics.commands.labels(kind="command", outcome="ok").inc()
    metrics.command_seconds.labels(kind="command").observe(0.1)
    metrics.command_seconds.clear()
    metrics.command_seconds.labels(kind="command").observe(0.2)
    families = parse_exposition(metrics.render())
    assert value(families, "conversation_bot_commands_total", kind="command", outcome="ok") == 1
    assert value(families, "conversation_bot_command_seconds_count", kind="command") == 1
    assert value(families, "conversation_bot_command_seconds_sum", kind="command") == 0.2


WORKER = """
import sys
from bot.metrics import Metrics
metrics = Metrics()
metrics.commands.labels(kind="command", outcome="ok").inc(int(sys.argv[1]))
metrics.yunxin_seconds.observe(0.2)
sys.stdout.buffer.write(metrics.render())
"""


def test_several_workers_are_summed_in_multiprocess_mode(tmp_path: Path) -> None:
    env = subprocess_env({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    outputs = [
        subprocess.run([sys.executable, "-c", WORKER, str(n)], env=env, capture_output=True, check=True).stdout
        for n in (2, 3)
    ]
    last = parse_exposition(outputs[-1])  # any worker answers with the sum of all
    assert value(last, "conversation_bot_commands_total", kind="command", outcome="ok") == 5
    assert value(last, "conversation_bot_yunxin_call_seconds_count") == 2
    assert "process_cpu_seconds" not in last  # one process's own figures would mislead


# --- through the app ------------------------------------------------------------------------------


async def scrape(bot: Bot) -> dict[str, Family]:
    response = await bot.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    families = parse_exposition(response.text)
    for name, family in families.items():
        if family.kind == "histogram" and family.samples:
            check_histogram(name, family)
    return families


def moved(before: dict[str, Family], after: dict[str, Family], sample: str, **labels: str) -> float:
    return value(after, sample, **labels) - value(before, sample, **labels)


async def test_counts_and_histograms_move_with_each_command(
    start_bot: BotFactory, yunxin: ScriptedYunxin, yunxin_url: str
) -> None:
    async with start_bot(yunxin_url=yunxin_url) as bot:
        before = await scrape(bot)
        await bot.only_answer(await bot.command(BOB), listen_on=False)
        yunxin.queue(lambda: html_page(500))
        await bot.only_answer(await bot.command(BOB), listen_on=False)
        help_sent = await bot.command("help")
        assert help_sent.delivery.status == 200
        after = await scrape(bot)
    commands = "conversation_bot_commands_total"
    assert moved(before, after, commands, kind="command", outcome="ok") == 1
    assert moved(before, after, commands, kind="command", outcome="upstream_error") == 1
    assert moved(before, after, commands, kind="command", outcome="help") == 1
    assert moved(before, after, "conversation_bot_command_seconds_count", kind="command") == 3  # help included
    assert moved(before, after, "conversation_bot_yunxin_calls_total", result="200") == 1
    assert moved(before, after, "conversation_bot_yunxin_calls_total", result="unavailable") == 1
    assert moved(before, after, "conversation_bot_yunxin_call_seconds_count") == 2


@dataclass(frozen=True)
class Failure:
    faults: list[Fault]
    result: str  # the label its calls are counted under
    calls: int
    settings: dict[str, Any]


FAILURES = {
    "HTML page": Failure([lambda: html_page(500)], "unavailable", 1, {}),
    "code 414": Failure([lambda: envelope(414, "checksum")], "414", 1, {}),
    "code 416": Failure([lambda: envelope(416, "frequency control")], "416", 1, {}),  # never retried
    "code 503": Failure([lambda: envelope(503, "server busy")], "503", 1, {}),
    "past the deadline": Failure([HANG], "timeout", 1, {"yunxin_deadline_seconds": 0.5}),
}


@pytest.mark.parametrize("name", list(FAILURES))
async def test_a_failure_shows_its_trace_id_logs_it_once_and_is_counted_by_result(
    name: str, start_bot: BotFactory, yunxin: ScriptedYunxin, yunxin_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    failure = FAILURES[name]
    for fault in failure.faults:
        yunxin.queue(fault)
    async with start_bot(yunxin_url=yunxin_url, **failure.settings) as bot:
        before = await scrape(bot)
        answer = await bot.only_answer(await bot.command(BOB), listen_on=False)
        after = await scrape(bot)
    (trace,) = set(shown_trace_ids(answer))
    assert trace == yunxin.trace_ids[-1]
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and trace in r.getMessage()]
    assert len(lines) == 1
    assert "*0* found" in shown(answer)
    assert moved(before, after, "conversation_bot_yunxin_calls_total", result=failure.result) == failure.calls
    assert moved(before, after, "conversation_bot_yunxin_calls_total", result="200") == 0
    assert moved(before, after, "conversation_bot_commands_total", kind="command", outcome="upstream_error") == 1


async def test_a_pause_after_416_shows_in_metrics_until_it_ends(
    start_bot: BotFactory, yunxin: ScriptedYunxin, yunxin_url: str
) -> None:
    yunxin.queue(lambda: envelope(416, "frequency control"))
    async with start_bot(yunxin_url=yunxin_url, yunxin_rate_limit_pause_seconds=60) as bot:
        before = await scrape(bot)
        await bot.only_answer(await bot.command(BOB), listen_on=False)
        after = await scrape(bot)
    assert value(before, "conversation_bot_yunxin_paused", environment="default") == 0
    assert value(after, "conversation_bot_yunxin_paused", environment="default") == 1
    assert value(after, "conversation_bot_yunxin_breaker_open", environment="default") == 0
    assert "conversation_bot_shared_state_degraded" not in {
        name for family in after.values() for name, _ in family.samples
    }  # no REDIS_URL: nothing shared, nothing to be degraded


async def test_shared_state_out_of_reach_shows_as_degraded(
    start_bot: BotFactory, refused_url: Callable[[], str]
) -> None:
    port = refused_url().rsplit(":", 1)[1]
    async with start_bot(redis_url=SecretStr(f"redis://127.0.0.1:{port}/0")) as bot:
        families = await scrape(bot)
        assert (await bot.command("help")).delivery.status == 200  # and the bot serves on
    assert value(families, "conversation_bot_shared_state_degraded") == 1
    assert value(families, "conversation_bot_shared_state_outages_total") >= 1
