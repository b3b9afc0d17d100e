"""`python -m bench.lean --host H --port N`: a lean hand-written bot, the bench's floor for CPU per command.

It answers `/conversation` as cheaply as a correct bot can, so the bench can measure what the real bot adds
per command against it, in the same run, under the same load: plain aiohttp, the Slack signature checked
(HMAC-SHA256, constant-time compare, 5-minute window), an empty ack at once, then in a task users.info
(cached per user), one signed Yunxin GET per 100 IDs on one shared session, a minimal Block Kit list (every
text from Yunxin or the user escaped), and one post to the response_url.

Deliberately left out: what the real bot's features cost. No Bolt, no settings models, no access rules
beyond refusing deleted and bot accounts, no ID validation, no call budget, retries, failover or deadline
beyond one timeout, no layouts measured to fit, no paging (one message, cut short if long), no buttons,
no translations, no audit line, no logs, no metrics. It reads the environment `running_bench` gives the
app: SLACK_API_URL, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, YUNXIN_BASE_URL, YUNXIN_APP_KEY and
YUNXIN_APP_SECRET. It is a reference to compare against, not a bot to run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

TITLE = "Yunxin conversations"  # is_complete() reads the answer's fallback text by it
SIGNATURE_WINDOW_SECONDS = 300
MAX_IDS_PER_CALL = 100
YUNXIN_PATH = "/im/v2/conversations/actions/conversation_ids"
CALL_TIMEOUT = aiohttp.ClientTimeout(total=10)
UVICORN_KEEPALIVE = 5.0  # seconds: uvicorn's --timeout-keep-alive default, which the app runs with
SNIPPET_MAX = 150  # characters of a last message shown
SECTION_TEXT_MAX = 2900  # under Block Kit's 3000 per section
MESSAGE_TEXT_MAX = 9000  # of lines in all: keeps the blocks' JSON under Slack's ~12,000 characters


def escape(text: str) -> str:
    """Slack's mrkdwn escapes, so no text from Yunxin or the user can mention, link or format."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def found_line(record: dict[str, Any]) -> str:
    last = record.get("last_message") or {}
    body = last.get("message", last)  # v2 nests the message's body; v2.1 is flat
    snippet = " ".join(str(body.get("text") or "(no text)").split())[:SNIPPET_MAX]
    name = escape(str(record.get("conversation_id")))
    return f"*{name}* · type {record.get('type')} · {record.get('unread_count', 0)} unread\n{escape(snippet)}"


def answer_message(found: list[str], failed: list[str], unanswered: list[str]) -> dict[str, Any]:
    """The header, the tally, then sections of lines until the message would grow too long."""
    tally = f"{len(found)} found, {len(failed)} failed" + (f", {len(unanswered)} unanswered" if unanswered else "")
    lines = found + failed + [f"*{escape(cid)}* · unanswered (the call failed)" for cid in unanswered]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": TITLE}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": tally}]},
    ]
    section: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) > MESSAGE_TEXT_MAX:
            section.append(f"…and {len(lines) - index} more: look up fewer at a time")
            break
        if section and sum(len(kept) + 1 for kept in section) + len(line) > SECTION_TEXT_MAX:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(section)}})
            section = []
        section.append(line)
        used += len(line) + 1
    if section:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(section)}})
    return {"response_type": "ephemeral", "text": f"{TITLE}: {tally}", "blocks": blocks}


class LeanBot:
    def __init__(self, env: dict[str, str]) -> None:
        self._users_info_url = env["SLACK_API_URL"].rstrip("/") + "/users.info"
        self._slack_auth = {"Authorization": f"Bearer {env['SLACK_BOT_TOKEN']}"}
        self._signing_secret = env["SLACK_SIGNING_SECRET"].encode()
        self._yunxin_url = env["YUNXIN_BASE_URL"].rstrip("/") + YUNXIN_PATH
        self._app_key, self._app_secret = env["YUNXIN_APP_KEY"], env["YUNXIN_APP_SECRET"]
        self._users: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # held so a running answer is not garbage-collected
        self._session: aiohttp.ClientSession | None = None

    async def session_context(self, app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(timeout=CALL_TIMEOUT) as session:
            self._session = session
            yield

    def signed(self, timestamp: str, signature: str, body: bytes) -> bool:
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            return False
        digest = hmac.new(self._signing_secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
        return hmac.compare_digest(f"v0={digest.hexdigest()}".encode(), signature.encode())

    async def events(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = request.headers
        if not self.signed(headers.get("X-Slack-Request-Timestamp", ""), headers.get("X-Slack-Signature", ""), body):
            return web.Response(status=401)
        form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        if not form.get("user_id") or not form.get("response_url"):
            return web.Response(status=400)
        task = asyncio.create_task(self.answer(form["user_id"], form.get("text", ""), form["response_url"]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response()  # the ack: empty, within Slack's 3 seconds

    async def answer(self, user_id: str, text: str, response_url: str) -> None:
        user = await self.user(user_id)
        if user is None or user.get("deleted") or user.get("is_bot"):
            message = {"response_type": "ephemeral", "text": "This command is not available to your account."}
        elif not (ids := list(dict.fromkeys(text.replace(",", " ").split()))):
            message = {"response_type": "ephemeral", "text": "Usage: /conversation ID [ID ...]"}
        else:
            chunks = [ids[start : start + MAX_IDS_PER_CALL] for start in range(0, len(ids), MAX_IDS_PER_CALL)]
            found: list[str] = []
            failed: list[str] = []
            unanswered: list[str] = []
            for chunk, data in zip(chunks, await asyncio.gather(*map(self.conversations, chunks)), strict=True):
                if data is None:
                    unanswered += chunk
                    continue
                found += [found_line(record) for record in data.get("success_list") or []]
                failed += [
                    f"*{escape(str(item.get('conversation_id')))}* · not found: {escape(str(item.get('error_msg')))}"
                    for item in data.get("failed_list") or []
                ]
            message = answer_message(found, failed, unanswered)
        assert self._session is not None
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):  # Slack gone: nobody left to tell
            async with self._session.post(response_url, json=message) as response:
                await response.read()

    async def user(self, user_id: str) -> dict[str, Any] | None:
        """users.info, asked once per user; a failure is not cached."""
        if user_id not in self._users:
            assert self._session is not None
            form = {"user": user_id, "include_locale": "true"}
            try:
                async with self._session.post(self._users_info_url, data=form, headers=self._slack_auth) as response:
                    answer = await response.json()
            except (aiohttp.ClientError, TimeoutError, ValueError):
                return None
            if not answer.get("ok"):
                return None
            self._users[user_id] = answer["user"]
        return self._users[user_id]

    async def conversations(self, ids: list[str]) -> dict[str, Any] | None:
        """One signed call for up to 100 IDs: its `data`, or None when the call failed."""
        assert self._session is not None
        nonce, cur_time = uuid.uuid4().hex, str(int(time.time()))
        checksum = hashlib.sha1((self._app_secret + nonce + cur_time).encode()).hexdigest()
        headers = {"AppKey": self._app_key, "Nonce": nonce, "CurTime": cur_time, "CheckSum": checksum}
        params = {"conversation_ids": ",".join(ids)}
        try:
            async with self._session.get(self._yunxin_url, params=params, headers=headers) as response:
                answer = await response.json() if response.status == 200 else {}
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None
        data = answer.get("data") if answer.get("code") == 200 else None
        return data if isinstance(data, dict) else None


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lean", description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    bot = LeanBot(dict(os.environ))
    app = web.Application()
    app.cleanup_ctx.append(bot.session_context)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/slack/events", bot.events)
    # Idle connections closed after uvicorn's default 5 s (aiohttp's is 75 s), as the app's are: otherwise
    # a burst after a pause would find its connections open here and opened afresh at the app.
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None, keepalive_timeout=UVICORN_KEEPALIVE)


if __name__ == "__main__":
    main()
