"""Logging: JSON records for log pipelines, text for people; neither can be forged by what a record
carries, and neither grows without bound. Last, a real web process with LOG_FORMAT=json, whose every line
through a whole session parses as JSON."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logs import _ESCAPES, MESSAGE_MAX, AuditLine, BotJsonFormatter, LineHandler, TextFormatter, one_line
from bot.standins.slack import SlackStandIn, send_slash_command
from tests.processes import credentials, procfile_web_command, spawn

FORGED = 'ok\n2020-01-01 00:00:00,000 INFO bot.audit {"event": "command"}\r\x1b[2J'
WAIT_SECONDS = 20.0


def record(message: str, *args: object, exc: BaseException | None = None, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("bot.test", logging.WARNING, __file__, 1, message, args, None)
    if exc is not None:
        made.exc_info = (type(exc), exc, exc.__traceback__)
    made.__dict__.update(extra)
    return made


def failure() -> BaseException:
    try:
        raise ValueError("boom\n2020-01-01 00:00:00,000 INFO forged")
    except ValueError as error:
        return error


def test_text_keeps_a_record_on_its_line_whatever_it_carries() -> None:
    line = TextFormatter().format(record("user said %s", FORGED, trace_id=FORGED, exc=failure()))
    first, *rest = line.split("\n")
    assert "\\n2020-01-01" in first and "\\r" in first and "\\x1b" in first
    assert "trace_id=" in first
    assert rest and all(part.startswith("    ") for part in rest)  # the traceback, indented
    assert not any(part.startswith("2020-01-01") for part in line.split("\n"))


def test_json_is_one_object_a_line_with_the_fields_at_the_top() -> None:
    line = BotJsonFormatter().format(record("call failed %s", FORGED, trace_id="t-1", exc=failure()))
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "WARNING" and data["logger"] == "bot.test" and data["trace_id"] == "t-1"
    assert data["message"].startswith("call failed ok\n2020")  # kept as it is, safely inside a string
    assert "ValueError" in data["exception"] and "time" in data


def test_an_audit_line_is_json_text_and_its_fields_are_the_objects_fields() -> None:
    line = AuditLine(event="command", user="U1", ids=["a|1|b"], outcome="ok")
    audit = logging.LogRecord("bot.audit", logging.INFO, __file__, 1, line, (), None)
    assert json.loads(audit.getMessage()) == dict(line)
    data = json.loads(BotJsonFormatter().format(audit))
    assert data["event"] == "command" and data["ids"] == ["a|1|b"] and data["logger"] == "bot.audit"
    assert audit.msg is line  # other handlers still read the record as it was made
    assert json.loads(TextFormatter().format(audit).split(" bot.audit ", 1)[1]) == dict(line)


@pytest.mark.parametrize("formatter", [TextFormatter(), BotJsonFormatter()], ids=["text", "json"])
def test_a_huge_message_is_cut_saying_how_much(formatter: logging.Formatter) -> None:
    formatted = formatter.format(record("%s", "x" * (MESSAGE_MAX * 10)))
    assert len(formatted) < MESSAGE_MAX + 500
    assert f"({MESSAGE_MAX * 9} more characters)" in formatted


async def test_every_line_of_a_json_web_session_parses(tmp_path: Path, refused_url) -> None:  # type: ignore[no-untyped-def]
    token, secret = "xoxb-json-session", "json-session-secret"
    async with SlackStandIn(bot_token=token) as slack:
        slack.add_user("U0JSON", name="json")
        variables = {
            "SLACK_BOT_TOKEN": token,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": slack.api_url,
            "LOG_FORMAT": "json",
            **credentials(refused_url()),  # every Yunxin call fails: connection refused
        }
        log_path = tmp_path / "web.log"
        with log_path.open("wb") as log:
            process = await spawn(procfile_web_command(), tmp_path, variables, stdout=log, stderr=log)
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                found = None
                while found is None:  # another process's output: polled
                    found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log_path.read_text())
                    if found is None:
                        await asyncio.sleep(0.05)
            url = found.group(1)
            origin = slack.new_origin("U0JSON", "C0JSON")
            sent = await send_slash_command(f"{url}/slack/events", secret, origin, text="alice|1|bob")
            assert sent.status == 200
            (answer,) = await slack.wait_for_posts(origin.response_url, 1, timeout=WAIT_SECONDS)
            assert "Trace ID to quote" in json.dumps(answer)
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(WAIT_SECONDS):
                await process.wait()
    lines = log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line, or this fails
    loggers = {entry["logger"] for entry in records}
    assert {"uvicorn.error", "bot.audit", "bot.slack.pipeline"} <= loggers
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in records)
    audit = next(entry for entry in records if entry["logger"] == "bot.audit")
    assert audit["event"] == "command" and audit["outcome"] == "upstream_error" and audit["trace_ids"]
    assert any("Application shutdown complete" in entry["message"] for entry in records)


_EXTRA_NAMES = st.text(alphabet="abcdefgh_", min_size=1, max_size=6).filter(
    lambda name: name not in logging.makeLogRecord({}).__dict__
)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
) | st.sampled_from([datetime(2026, 12, 1, tzinfo=UTC), {1, 2}, b"bytes", ValueError("x")])


@given(
    message=st.text(max_size=40) | st.dictionaries(st.text(max_size=8), _VALUES, max_size=4),
    audit=st.booleans(),
    extra=st.dictionaries(_EXTRA_NAMES, _VALUES, max_size=4),
    level=st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]),
    name=st.sampled_from(["bot.audit", "uvicorn.access"]) | st.text(max_size=8),
    # What a filter or an odd addLevelName could leave in levelname, beside the level's own name.
    level_name=st.none() | st.text(max_size=8) | st.integers(),
)
def test_a_record_without_a_traceback_is_written_as_python_json_logger_writes_it(
    message: str | dict[str, Any], audit: bool, extra: dict[str, Any], level: int, name: str, level_name: object
) -> None:
    msg: Any = AuditLine(event="command", **message) if audit and isinstance(message, dict) else message
    made = logging.LogRecord(name, level, __file__, 1, msg, (), None)
    if level_name is not None:
        made.levelname = level_name  # type: ignore[assignment]
    made.__dict__.update(extra)
    formatter = BotJsonFormatter()
    reference = logging.makeLogRecord(dict(made.__dict__))
    assert formatter.format(made) == formatter.library_format(reference)


_SECONDS = st.integers(-62135596800, 253402300798)  # datetime's years 1 to 9999, less a second to round up into
_CREATED = (
    st.floats(-62135596800.0, 253402300799.0)
    | st.builds(lambda second, micro: second + micro / 1e6, _SECONDS, st.integers(0, 999_999))
    # Half a microsecond, and a hair either side of it: datetime rounds these to even, or up a second.
    | st.builds(lambda second, micro: second + (micro + 0.5) / 1e6, _SECONDS, st.integers(0, 999_999))
    | st.builds(lambda second, tail: second + tail, _SECONDS, st.sampled_from([0.0, 4e-7, 6e-7, 0.9999995, 0.9999999]))
)


@given(created=_CREATED, before=_CREATED)
def test_the_time_is_the_text_datetime_makes_of_it(created: float, before: float) -> None:
    formatter = BotJsonFormatter()
    formatter.time_text(before)  # whatever second the formatter last saw
    for _ in range(2):  # the first of its second, then from what was kept of it
        assert formatter.time_text(created) == str(datetime.fromtimestamp(created, tz=UTC))


class _Recording:
    """A stream that keeps each write and each flush, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def write(self, text: str) -> None:
        self.calls.append(text)

    def flush(self) -> None:
        self.calls.append("<flush>")


def test_the_handler_writes_and_flushes_as_the_stdlib_handler_does() -> None:
    streams = {kind: _Recording() for kind in ("stdlib", "ours")}
    handlers = {"stdlib": logging.StreamHandler(streams["stdlib"]), "ours": LineHandler(streams["ours"])}
    for handler in handlers.values():
        handler.setFormatter(BotJsonFormatter())
    made = [record("said %s", FORGED), record("plain", trace_id="t-1"), record("failed", exc=failure())]
    for each in made:
        for handler in handlers.values():
            handler.handle(logging.makeLogRecord(dict(each.__dict__)))
    assert streams["ours"].calls == streams["stdlib"].calls
    assert streams["ours"].calls[1::2] == ["<flush>"] * len(made)  # each line written whole, then flushed


def test_lines_from_many_threads_are_each_written_whole() -> None:
    stream = _Recording()
    handler = LineHandler(stream)
    handler.setFormatter(BotJsonFormatter())
    threads = [
        threading.Thread(target=lambda: [handler.handle(record("line %s", "x" * 100)) for _ in range(200)])
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = stream.calls[::2]
    assert len(lines) == 8 * 200 and stream.calls[1::2] == ["<flush>"] * len(lines)
    assert all(line.endswith("\n") and json.loads(line)["message"] == "line " + "x" * 100 for line in lines)


@given(st.text(st.characters() | st.sampled_from([chr(code) for code in _ESCAPES])))
def test_one_line_escapes_exactly_what_its_table_escapes(text: str) -> None:
    assert one_line(text) == text.translate(_ESCAPES)  # text with nothing to escape is not translated
