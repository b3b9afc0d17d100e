"""Command line: `python -m bot [run | serve | query | demo]`.

run     the Slack app in Socket Mode (needs SLACK_APP_TOKEN); the default when it is set
serve   the Slack app in HTTP mode (what the Procfile's web: line runs)
query   look up conversation IDs from the terminal (--format table|json|csv; --json is --format json)
demo    a /conversation answered end to end on the sandbox, shown as a Slack user sees it
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.logs import configure_logging, report_startup_error
from bot.settings import Settings, SettingsError, load_settings
from bot.yunxin.models import Failed, Found, LookupResult, Malformed, Unanswered

EXIT_OK, EXIT_LOOKUP_FAILED, EXIT_USAGE = 0, 1, 2
FORMATS = ("table", "json", "csv")
SERVICES = ("run", "serve")  # the commands that run the Slack app, and log as LOG_FORMAT says


def _parser() -> argparse.ArgumentParser:
    # The name it was run by: `python -m bot`, or the installed `yunxin-conversation-bot` command.
    invoked = Path(sys.argv[0]).name
    prog = "python -m bot" if invoked in ("__main__.py", "-m") else invoked
    parser = argparse.ArgumentParser(prog=prog, description="Look up Yunxin IM conversations.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the Slack app in Socket Mode (SLACK_APP_TOKEN)")
    serve = sub.add_parser("serve", help="run the Slack app in HTTP mode on $PORT")
    serve.add_argument("--host", default="0.0.0.0")
    query = sub.add_parser("query", help="look up conversation IDs and print a summary")
    query.add_argument("ids", nargs="+", metavar="ID", help="owner|type|target, e.g. alice|1|bob")
    query.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table: a readable summary (the default); json: the parsed result; csv: one row per ID, as Slack's "
        "Download CSV sends it",
    )
    query.add_argument("--json", dest="format", action="store_const", const="json", help="the same as --format json")
    query.add_argument("--env", help="the Yunxin environment to ask (see YUNXIN_ENVIRONMENTS)")
    demo = sub.add_parser("demo", help="answer a /conversation end to end on the sandbox")
    demo.add_argument("text", nargs="*", help="the command text (default: sample IDs)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        # A service reports it in its log format; the terminal commands to the person at the terminal.
        if args.command in SERVICES:
            report_startup_error(str(error))
        else:
            print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    # From the settings, not os.environ: SLACK_APP_TOKEN may be a line of .env.
    command = args.command or ("run" if settings.slack_app_token else None)
    if command is None:
        _parser().print_help()
        return EXIT_USAGE
    if command in SERVICES:
        configure_logging(settings.log_level, settings.log_format)
    else:
        configure_logging("ERROR", "text")
    if command == "query":
        return asyncio.run(_query(settings, args.ids, output=args.format, environment=args.env))
    if command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(settings, " ".join(args.text)))
    if command == "serve":
        return _serve(settings, args.host)
    return asyncio.run(_socket_mode(settings))


def _serve(settings: Settings, host: str) -> int:
    import uvicorn

    from bot.slack.server import GuardedProtocol
    from bot.slack.web import create_asgi_app

    uvicorn.run(
        create_asgi_app(settings),
        host=host,
        port=settings.port,
        http=GuardedProtocol,
        log_level=settings.log_level.lower(),
        log_config=None,  # logging is the bot's (bot/logs.py), set up by create_asgi_app's caller
    )
    return EXIT_OK


async def _socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.slack.app import StartupError, start_runtime, verify_app_token
    from bot.slack.ops import Health, ops_server
    from bot.slack.server import freeze_startup_heap

    if settings.slack_app_token is None:
        report_startup_error(
            "SLACK_APP_TOKEN: missing; Socket Mode needs an app-level token (xapp-…) with connections:write"
        )
        return EXIT_USAGE
    try:
        runtime = await start_runtime(settings, socket_mode=True)
    except StartupError as error:
        report_startup_error(str(error))
        return EXIT_USAGE
    try:
        await verify_app_token(settings.slack_api_url, settings.slack_app_token)
    except StartupError as error:
        report_startup_error(str(error))
        await runtime.aclose()
        return EXIT_USAGE
    handler = AsyncSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
    health = Health()
    health.attach(runtime)
    freeze_startup_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        if settings.metrics_port is not None:
            await stack.enter_async_context(ops_server(settings.metrics_port, health))
        # The client retries a failing connection every 10 s for ever; connecting in a task lets a signal stop it.
        connecting = asyncio.ensure_future(handler.connect_async())  # type: ignore[no-untyped-call]
        try:
            await stop.wait()
        finally:
            health.lifecycle.begin_draining()  # /readyz: 503 from the signal on
            connecting.cancel()
            await handler.close_async()  # type: ignore[no-untyped-call]
            await runtime.aclose()
    return EXIT_OK


async def _query(settings: Settings, ids: Sequence[str], *, output: str, environment: str | None) -> int:
    from bot.slack.render.csv import render_csv
    from bot.slack.render.lookup import render_lookup
    from bot.slack.render.terminal import to_terminal
    from bot.yunxin.ids import parse_ids, split_text
    from bot.yunxin.service import Lookups, UnknownEnvironment

    lookups = Lookups.from_settings(settings)
    try:
        result = await lookups.lookup(parse_ids(piece for item in ids for piece in split_text(item)), environment)
    except UnknownEnvironment as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await lookups.aclose()
    if output == "json":
        print(json.dumps(result_as_json(result, redact=settings.redact_message_text), ensure_ascii=False, indent=2))
    elif output == "csv":
        sys.stdout.write(render_csv(result, redact=settings.redact_message_text, bom=False))
        sys.stdout.flush()
    else:
        print(to_terminal(render_lookup(result, redact_text=settings.redact_message_text, max_messages=50)))
    for failure in result.errors:
        print(f"error: {failure}", file=sys.stderr)
    if result.chunk_failures:
        return EXIT_LOOKUP_FAILED
    if result.requested and len(result.invalid) == len(result.requested):
        return EXIT_USAGE
    return EXIT_OK


def result_as_json(result: LookupResult, *, redact: bool = False) -> dict[str, Any]:
    """The parsed result: one entry per requested ID, in order, plus the trace IDs."""
    entries: list[dict[str, Any]] = []
    for outcome in result.outcomes():
        entry: dict[str, Any] = {"id": outcome.conversation_id, "status": outcome.status}
        if isinstance(outcome, Found):
            entry["conversation"] = outcome.conversation.as_returned(redact=redact)
        elif isinstance(outcome, Failed):
            entry["error_code"] = outcome.failure.error_code
            entry["error_msg"] = outcome.failure.error_msg
        elif isinstance(outcome, Malformed):
            entry["reason"] = outcome.reason
        elif isinstance(outcome, Unanswered) and outcome.error is not None:
            entry["error"] = {
                "kind": outcome.error.kind,
                "message": str(outcome.error),
                "trace_id": outcome.error.trace_id,
            }
        entries.append(entry)
    return {
        "environment": result.environment,
        "sandbox": result.sandbox,
        "counts": result.counts(),
        "results": entries,
        "trace_ids": result.trace_ids,
    }


if __name__ == "__main__":
    raise SystemExit(main())
