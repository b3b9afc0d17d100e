"""The fleet's Yunxin in a process of its own (`python -m tests.fleet.yunxin_process`), so that the time it
stamps on each arriving call is not held up by the test's own work (sending the burst, playing Slack).

It is the sandbox, recording every call's arrival, with a control path the test drives:
    POST /_control  {"limit_next": n, "down": bool, "hold": bool}   (any of them)
    GET  /_arrivals [[at, trace_id, ids], ...]   at: seconds on this process's monotonic clock
It prints `port N` once it listens on 127.0.0.1. `--latency-ms L`: each call is answered after L ms (20).
The benchmark's fleet scenario (bench/fleet.py) runs it too."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.parse
from typing import Any

import uvicorn
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from bot.yunxin.request import TRACE_HEADER
from bot.yunxin.sandbox import create_sandbox_app

HOLD_LIMIT_SECONDS = 20.0


class RecordingYunxin:
    def __init__(self, latency_seconds: float = 0.02) -> None:
        self.sandbox = create_sandbox_app(latency_seconds=latency_seconds)
        self.arrivals: list[tuple[float, str, str]] = []
        self.limit_next = 0
        self.down = False
        self.released = asyncio.Event()
        self.released.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.sandbox(scope, receive, send)
            return
        if scope["path"].startswith("/_"):
            await self._control(scope, receive, send)
            return
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        query = urllib.parse.parse_qs(scope["query_string"].decode())
        asked = ",".join(query.get("conversation_ids", []))
        self.arrivals.append((time.monotonic(), headers.get(TRACE_HEADER.lower(), ""), asked))
        async with asyncio.timeout(HOLD_LIMIT_SECONDS):
            await self.released.wait()
        response: Response | None = None
        if self.down:
            response = PlainTextResponse("Internal Server Error", status_code=500)
        elif self.limit_next > 0:
            self.limit_next -= 1
            response = JSONResponse({"code": 416, "msg": "api freq control"})
        if response is None:
            await self.sandbox(scope, receive, send)
        else:
            await response(scope, receive, send)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/_arrivals":
            await JSONResponse(self.arrivals)(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        change: dict[str, Any] = json.loads(body or b"{}")
        if "limit_next" in change:
            self.limit_next = int(change["limit_next"])
        if "down" in change:
            self.down = bool(change["down"])
        if "hold" in change:
            if change["hold"]:
                self.released.clear()
            else:
                self.released.set()
        if change.get("reset"):
            self.arrivals.clear()
        await JSONResponse({"ok": True})(scope, receive, send)


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fleet.yunxin_process")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    latency = parser.parse_args().latency_ms / 1000
    app = RecordingYunxin(latency)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn's flag)
        await asyncio.sleep(0.01)
    print(f"port {server.servers[0].sockets[0].getsockname()[1]}", flush=True)
    await serving


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
