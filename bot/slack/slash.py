"""A slash command's own way in: `/conversation` over HTTP goes from the edge to its listener with the ack,
payload and `respond()` Bolt would give it, without passing through Bolt's router.

Bolt dispatches every request alike: a request and a context (with a new Web API client), its built-in
middlewares and the app's, each listener asked in turn whether it matches, every argument any listener
could ask for built for this one, and a runner. For a slash command none of that decides anything this
lane does not decide with one dictionary lookup: authorize() gives the token from start-up whatever the
request, no self-event, URL-verification or function-token check applies to a command, and the command's
listener reads only `ack`, `command` and `respond`. Bolt's router was about a tenth of the instructions a
command cost (see the README's Benchmark); the lane answers byte for byte as Bolt did (Bolt's own
`AsyncAck` writes the ack), which the tests hold it to.

Everything else, a command this app has no listener for included, goes through Bolt's dispatch as before,
and Socket Mode always does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_bolt import BoltResponse
from slack_bolt.context.ack.async_ack import AsyncAck

from .ack import Listener
from .replies import SessionRespond

log = logging.getLogger(__name__)


class SlashCommands:
    """The app's slash-command listeners by command, each run as Bolt runs a listener that acks."""

    def __init__(self, listeners: Mapping[str, Listener], session: aiohttp.ClientSession) -> None:
        self._listeners = dict(listeners)
        self._session = session

    async def answer(self, payload: dict[str, Any]) -> BoltResponse | None:
        """What Bolt answers for a slash command of ours with a response_url (every one Slack sends has
        one): the ack's response; a 500 if the listener failed before acking, Bolt's 404 if it ended without
        acking (both logged). None for any other payload: Bolt dispatches it."""
        command = payload.get("command")
        listener = self._listeners.get(command) if isinstance(command, str) else None
        response_url = payload.get("response_url")
        if listener is None or not isinstance(response_url, str):
            return None
        ack = AsyncAck()  # type: ignore[no-untyped-call]  # Bolt's, untyped: it writes the ack's body
        try:
            await listener(ack=ack, command=payload, respond=SessionRespond(response_url, self._session))
        except Exception:
            log.exception("the listener for %s failed before its ack", command)
            return BoltResponse(status=500, body="")
        if ack.response is None:
            log.warning("the listener for %s ended without an ack", command)
            return BoltResponse(status=404, body={"error": "unhandled request"})
        return ack.response
