"""GET /metrics: Prometheus' text format (0.0.4), read back by a small parser, and counts that move with
each command; and every failure seen three ways: the trace ID shown, one log line with it, its counter."""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.metrics import Counter, Histogram, Metrics
from tests.harness import BOB, HANG, Bot, BotFactory, Fault, ScriptedYunxin, envelope, html_page
from tests.messages import shown, shown_trace_ids

Labels = frozenset[tuple[str, str]]

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_HELP = re.compile(rf"# HELP ({_NAME}) (.*)")
_TYPE = re.compile(rf"# TYPE ({_NAME}) (counter|gauge|histogram|summary|untyped)")
_SAMPLE = re.compile(rf"({_NAME})(?:\{{(.*)\}})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


@dataclass
class Family:
    kind: str
    help: str = ""
    samples: dict[tuple[str, Labels], float] = field(default_factory=dict)


def parse_labels(text: str) -> Labels:
    labels: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _LABEL.match(text, position)
        assert match, f"bad label syntax at {text[position:]!r}"
        value = re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], match.group(2))
        labels.append((match.group(1), value))
        position = match.end()
        if position < len(text):
            assert text[position] == ",", f"labels not separated by commas: {text!r}"
            position += 1
    names = [name for name, _ in labels]
    assert len(names) == len(set(names)), f"a label twice: {text!r}"
    return frozenset(labels)


def parse_exposition(text: str) -> dict[str, Family]:
    """The families of a text exposition; fails on any line that is not HELP, TYPE or a sample of a
    family declared above it."""
    assert text.endswith("\n")
    families: dict[str, Family] = {}
    helps: dict[str, str] = {}
    for line in text[:-1].split("\n"):
        if help_line := _HELP.fullmatch(line):
            helps[help_line.group(1)] = help_line.group(2)
        elif type_line := _TYPE.fullmatch(line):
            name = type_line.group(1)
            assert name not in families, f"{name} declared twice"
            families[name] = Family(type_line.group(2), helps.get(name, ""))
        else:
            sample = _SAMPLE.fullmatch(line)
            assert sample, f"not a sample line: {line!r}"
            name, labels, value = sample.group(1), parse_labels(sample.group(2) or ""), float(sample.group(3))
            family = _family_of(name, families)
            key = (name, labels)
            assert key not in family.samples, f"sample twice: {line!r}"
            family.samples[key] = value
    return families


def _family_of(sample_name: str, families: dict[str, Family]) -> Family:
    if sample_name in families and families[sample_name].kind in ("counter", "gauge", "untyped"):
        return families[sample_name]
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample_name.removesuffix(suffix)
        if base != sample_name and base in families and families[base].kind == "histogram":
            return families[base]
    raise AssertionError(f"{sample_name} belongs to no family declared before it")


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
    metrics.commands.inc(kind="command", outcome="ok")
    metrics.commands.inc(2, kind="share", outcome='quote " backslash \\ newline \n end')
    for seconds in (0.001, 0.2, 3.0, 99.0):
        metrics.command_seconds.observe(seconds, kind="command")
        metrics.yunxin_seconds.observe(seconds)
    metrics.yunxin_calls.inc(result="416")
    families = parse_exposition(metrics.render())
    assert {name: family.kind for name, family in families.items()} == {
        "conversation_bot_commands_total": "counter",
        "conversation_bot_command_seconds": "histogram",
        "conversation_bot_yunxin_calls_total": "counter",
        "conversation_bot_yunxin_call_seconds": "histogram",
    }
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


def test_an_empty_registry_and_bare_metrics_still_parse() -> None:
    assert parse_exposition(Metrics().render())
    counter, histogram = Counter("c_total", "A counter."), Histogram("h_seconds", "A histogram.", (1.0,))
    histogram.observe(2.0)
    families = parse_exposition("\n".join([*counter.expose(), *histogram.expose()]) + "\n")
    assert families["c_total"].samples == {}
    check_histogram("h_seconds", families["h_seconds"])


# --- through the app ------------------------------------------------------------------------------


async def scrape(bot: Bot) -> dict[str, Family]:
    response = await bot.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
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
