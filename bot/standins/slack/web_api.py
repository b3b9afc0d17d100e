"""A local Slack, as strict as the real one, for the demo, the benchmark and the tests.

`SlackStandIn` serves, on loopback, the Web API methods the app calls and the `response_url`s that
`respond()` posts to, and refuses what Slack refuses: a wrong token, a message over Block Kit's limits
(tables included), a sixth post to one `response_url`, a post after its 30 minutes, a file upload that is not
the one announced. Faults (rate limits with Retry-After, errors, layouts refused) can be injected, on API
methods and on response_urls.

This module holds `SlackStandIn` itself: its state, start and stop, its routes, and the Web API's tokens.
What it serves comes from one mixin per family: `workspace.py` (users and user groups), `messages.py`
(chat.postMessage, direct messages, file uploads), `views.py` (modals and the Home tab), `steps.py`
(workflow steps), `response_urls.py`, and `faults.py` (the faults to inject).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..loopback import serve_on_loopback
from .faults import Faults
from .messages import Messages
from .response_urls import ResponseUrls
from .steps import EXECUTION_METHODS, WorkflowSteps
from .views import Views
from .wire import JsonObject, Refusal, api_error, api_params, bearer_token
from .workspace import Workspace


class SlackStandIn(Workspace, Messages, Views, WorkflowSteps, ResponseUrls, Faults):
    """Slack's Web API and `response_url`s on loopback. Use `async with SlackStandIn(...) as slack:`."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin-token",
        team_id: str = "T0STANDIN",
        enterprise_id: str | None = None,
        bot_user_id: str = "U0STANDINBOT",
        users: Mapping[str, Mapping[str, Any]] | None = None,
        usergroups: Mapping[str, Sequence[str]] | None = None,
        paid_plan: bool = True,
        bot_channels: Collection[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`users` maps a user ID to `users.info` fields (over sensible defaults). Without `paid_plan`,
        user-group methods answer `plan_upgrade_required` as on a free workspace. With `bot_channels`,
        `chat.postMessage` works only there (elsewhere `channel_not_found`, as for a DM the bot is not in)."""
        self._bot_token = bot_token
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B0STANDIN"
        self.paid_plan = paid_plan
        self._bot_channels = None if bot_channels is None else frozenset(bot_channels)
        self._clock = clock
        self.api_calls: list[tuple[float, str, JsonObject]] = []
        self.messages = []  # accepted chat.postMessage arguments, in order
        self._users = {}
        self._usergroups = {group: list(members) for group, members in (usergroups or {}).items()}
        self._faults = {}
        self._response_urls = {}
        self._response_url_failure = None
        # A message for which this is true is refused (response_urls and chat.postMessage) with this error.
        self._refuse = None
        self.files = []  # shared with a channel, in order
        self._uploads = {}  # announced, by file ID
        self._dms = {}  # DM channel -> its user
        self.executions = {}  # workflow step runs, by function_execution_id
        self.home_views = {}  # each person's Home tab, as last published
        self._posted = asyncio.Condition()
        self._exit_stack: contextlib.AsyncExitStack | None = None
        self._base_url: str | None = None
        self.add_user(bot_user_id, is_bot=True, name="yunxin-conversations")
        for user_id, fields in (users or {}).items():
            self._users[user_id] = {**self._default_user(user_id), **fields}
        self._methods: dict[str, Callable[[JsonObject], JsonObject]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "chat.postMessage": self._chat_post_message,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "conversations.open": self._conversations_open,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "views.publish": self._views_publish,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
        }
        self.views = {}  # open modals by view ID, as last opened or updated
        self._triggers = {}  # trigger_id -> when issued; removed when used

    def __repr__(self) -> str:
        return f"SlackStandIn(team_id={self.team_id!r}, base_url={self._base_url!r})"

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._exit_stack is not None:
            raise RuntimeError("the Slack stand-in is already running")
        stack = contextlib.AsyncExitStack()
        self._base_url = await stack.enter_async_context(serve_on_loopback(self._asgi_app()))
        self._exit_stack = stack

    async def stop(self) -> None:
        stack, self._exit_stack = self._exit_stack, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("start the Slack stand-in first")
        return self._base_url

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def _asgi_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/{method}", self._web_api, methods=["GET", "POST"]),
                Route("/response/{token}", self._response_url_post, methods=["POST"]),
                Route("/upload/{file_id}", self._upload, methods=["POST"]),
            ]
        )

    # --- Web API ---------------------------------------------------------------------------------

    async def _web_api(self, request: Request) -> Response:
        method = request.path_params["method"]
        try:
            params = await api_params(request)
        except Refusal as refusal:
            return api_error(refusal.error)
        token = bearer_token(request) or params.pop("token", None)
        self.api_calls.append((self._clock(), method, params))
        handler = self._methods.get(method)
        if handler is None:
            return api_error("unknown_method")
        if not token:
            return api_error("not_authed")
        if method in EXECUTION_METHODS:
            problem = self._execution_token_problem(params, str(token))
            if problem is not None:
                return api_error(problem)
        elif not hmac.compare_digest(str(token).encode(), self._bot_token.encode()):
            return api_error("invalid_auth")
        fault = self._take_fault(method)
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return JSONResponse({"ok": False, "error": fault.error}, status_code=fault.status, headers=headers)
        return JSONResponse(handler(params))
