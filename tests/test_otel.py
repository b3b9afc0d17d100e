"""Tracing (the optional `otel` extra), into memory: one span per request from Slack, and under it one per
Yunxin call (carrying the trace ID Yunxin saw) and one per Slack API call and reply, with no token or
response_url path recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from bot.otel import setup_tracing, shutdown_tracing
from bot.settings import SANDBOX_APP_KEY, SANDBOX_APP_SECRET
from bot.slack.web import create_asgi_app
from bot.standins.slack import SlackStandIn, send_slash_command
from bot.yunxin.sandbox import SAMPLE_IDS, create_sandbox_app
from tests.factories import bot_settings
from tests.loopback import ServeAsgi

TOKEN, SECRET, MEMBER = "xoxb-otel-token", "otel-signing-secret", "U0OTEL"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert setup_tracing(exporter)
    try:
        yield exporter
    finally:
        shutdown_tracing()


def test_tracing_is_off_without_an_endpoint() -> None:
    assert not setup_tracing()


async def test_a_command_is_one_span_with_its_yunxin_and_slack_calls_under_it(
    spans: InMemorySpanExporter, serve_asgi: ServeAsgi
) -> None:
    sandbox = create_sandbox_app()
    seen: list[str] = []

    async def recording(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            seen.extend(v.decode() for k, v in scope["headers"] if k.decode().lower() == "x-custom-traceid")
        await sandbox(scope, receive, send)

    async with SlackStandIn(bot_token=TOKEN) as slack, serve_asgi(recording) as yunxin_url:
        slack.add_user(MEMBER)
        settings = bot_settings(
            slack_bot_token=SecretStr(TOKEN),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=slack.api_url,
            yunxin_app_key=SANDBOX_APP_KEY,
            yunxin_app_secret=SecretStr(SANDBOX_APP_SECRET),
            yunxin_base_urls=[yunxin_url],
        )
        async with serve_asgi(create_asgi_app(settings)) as app_url:
            origin = slack.new_origin(MEMBER, "C0OTEL")
            await send_slash_command(f"{app_url}/slack/events", SECRET, origin, text=SAMPLE_IDS[0])
            await slack.wait_for_posts(origin.response_url, 1, timeout=10.0)
    finished = spans.get_finished_spans()
    (request,) = [s for s in finished if s.name == "slack command /conversation"]
    children = [s for s in finished if s.parent is not None and s.parent.span_id == request.context.span_id]
    yunxin = [s for s in children if "yunxin.trace_id" in (s.attributes or {})]
    assert [s.attributes["yunxin.trace_id"] for s in yunxin] == seen  # type: ignore[index]
    urls = [str((s.attributes or {}).get("http.url") or (s.attributes or {}).get("url.full")) for s in children]
    assert any(url.endswith("/api/users.info") for url in urls)
    assert any(url.endswith("/redacted") for url in urls)  # the reply, its response_url path hidden
    assert not any(origin.response_url in url or "?" in url for url in urls)
