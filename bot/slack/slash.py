"""A slash command's own way in: `/conversation` over HTTP goes from the edge to its listener with the ack,
payload and `respond()` Bolt would give it, without passing through Bolt's router.

Bolt dispatches every request alike: a request and a context (with a new Web API client), its built-in
middlewares and the app's, each listener asked in turn whether it matches, every argument any listener
could ask for built for this one, and a runner. For a slash command none of that decides anything this
lane does not decide with one dictionary lookup: authorize() gives the token from start-up whatever the
request, no self-event, URL-verification or function-token check applies to a command, and the command's
listener reads only `ack`, `command` and `respond`. Bolt's router was about a tenth of the instructions a
command cost (see the README's Benchmark); the lane answers as Bolt did, with the same status, headers and
fields, its ack's body written compactly (`CommandAck`), which the tests hold it to.

Everything else, a command this app has no listener for included, goes through Bolt's dispatch as before,
and Socket Mode always does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from slack_bolt import BoltResponse
from slack_bolt.context.ack.async_ack import AsyncAck

from .ack import Listener
from .render.kit import message_json
from .replies import SessionRespond

log = logging.getLogger(__name__)


def _dicts(value: Sequence[Any] | None) -> bool:
    """None, or blocks or attachments that are plain dicts already (as the bot's renderers make them)."""
    return value is None or (isinstance(value, list | tuple) and all(type(item) is dict for item in value))


class CommandAck:
    """The `ack` a slash command's listener is given: Bolt's AsyncAck for the forms a command's ack takes
    (`text`, `blocks`, `attachments`, `response_type`, `unfurl_links`, `unfurl_media`), answering with the
    response Bolt's gives, its body (the same fields, in Bolt's order) written by `message_json`. Bolt's
    ack cost about 2% of a command's instructions, most of it json.dumps of a body of a hundred characters.
    Any other form (a whole response as a dict, slack_sdk Block objects, options, a view) is Bolt's own ack
    to answer."""

    __slots__ = ("response",)

    def __init__(self) -> None:
        self.response: BoltResponse | None = None

    async def __call__(
        self,
        text: Any = "",
        blocks: Sequence[Any] | None = None,
        attachments: Sequence[Any] | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        response_type: str | None = None,
        **others: Any,
    ) -> BoltResponse:
        if others or not isinstance(text, str) or not (_dicts(blocks) and _dicts(attachments)):
            bolt = AsyncAck()  # type: ignore[no-untyped-call]  # Bolt's, untyped
            self.response = await bolt(
                text,
                blocks=blocks,
                attachments=attachments,
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                response_type=response_type,
                **others,
            )
            return self.response
        # As Bolt's _set_response lays a command's ack out: attachments, if any, leave the blocks out.
        body: dict[str, Any] = {"text": text}
        if response_type:
            body["response_type"] = response_type
        if unfurl_links is not None:
            body["unfurl_links"] = unfurl_links
        if unfurl_media is not None:
            body["unfurl_media"] = unfurl_media
        if attachments:
            body["attachments"] = list(attachments)
        elif blocks:
            body["blocks"] = list(blocks)
        # Text alone is answered as text, as Bolt answers it; a body of JSON gets Bolt's JSON content type.
        self.response = BoltResponse(status=200, body=message_json(body).decode() if len(body) > 1 else text)
        return self.response


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
        ack = CommandAck()
        try:
            await listener(ack=ack, command=payload, respond=SessionRespond(response_url, self._session))
        except Exception:
            log.exception("the listener for %s failed before its ack", command)
            return BoltResponse(status=500, body="")
        if ack.response is None:
            log.warning("the listener for %s ended without an ack", command)
            return BoltResponse(status=404, body={"error": "unhandled request"})
        return ack.response
