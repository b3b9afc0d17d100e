"""OpenTelemetry tracing, optional: `pip install '.[otel]'`, on when OTEL_EXPORTER_OTLP_ENDPOINT is set
(the standard OTEL_* variables configure the exporter and OTEL_SERVICE_NAME the service's name).

Spans: one for each request from Slack, covering its listener's whole work from the ack to the last
reply; and, through aiohttp's instrumentation (the Yunxin transport, every Slack API call and every reply
go through aiohttp), one for each Yunxin call, with its `X-custom-traceid` as `yunxin.trace_id`, and one
for each Slack API call, as children of the request's span. httpx's own instrumentor would see nothing:
the Yunxin client's transport is aiohttp's. URLs are recorded without their query strings (conversation
IDs), and a response_url without its path (it can post to a channel for 30 minutes).

Without the extra installed or the endpoint set, `span()` costs a branch and nothing is imported.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import TYPE_CHECKING, Any

from yarl import URL

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

log = logging.getLogger(__name__)

SERVICE_NAME = "yunxin-conversation-bot"
TRACE_HEADER = "X-custom-traceid"
YUNXIN_QUERY_PATH_END = "/conversations/actions/conversation_ids"


class _Tracing:
    tracer: Tracer | None = None
    provider: TracerProvider | None = None


_state = _Tracing()


def setup_tracing(exporter: SpanExporter | None = None) -> bool:
    """Turn tracing on, once per process, before the bot's HTTP sessions are made (aiohttp's
    instrumentation reaches only sessions made after it). `exporter` (tests): spans go there, at once,
    whatever the environment says. True when tracing is on."""
    if _state.tracer is not None:
        return True
    if exporter is None and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    try:
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: pip install '.[otel]'")
        return False
    name = os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    AioHttpClientInstrumentor().instrument(
        tracer_provider=provider, request_hook=_yunxin_trace_id, url_filter=_scrubbed_url
    )
    _state.tracer, _state.provider = provider.get_tracer("bot"), provider
    log.info("OpenTelemetry tracing on (service %s)", name)
    return True


def shutdown_tracing() -> None:
    """Send the spans still buffered and turn tracing off."""
    provider, _state.provider, _state.tracer = _state.provider, None, None
    if provider is None:
        return
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

    AioHttpClientInstrumentor().uninstrument()
    provider.shutdown()


_NO_SPAN = contextlib.nullcontext()


def span(name: str, **attributes: str) -> contextlib.AbstractContextManager[object]:
    """A span around the block when tracing is on; nothing otherwise (one shared, reusable null context:
    no generator is made for each request)."""
    tracer = _state.tracer
    if tracer is None:
        return _NO_SPAN
    return tracer.start_as_current_span(name, attributes=attributes)


def _yunxin_trace_id(span: Span, params: Any) -> None:
    trace_id = params.headers.get(TRACE_HEADER) if params.headers is not None else None
    if trace_id:
        span.set_attribute("yunxin.trace_id", trace_id)


def _scrubbed_url(url: URL) -> str:
    """The URL to record: Slack's Web API methods and Yunxin's query as they are, without the query string;
    any other path (a response_url's, which carries its token) hidden."""
    path = url.path
    known = path.startswith("/api/") or path.endswith(YUNXIN_QUERY_PATH_END)
    return str((url if known else url.with_path("/redacted")).with_query(None))
