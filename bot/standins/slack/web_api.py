"""A local Slack, as strict as the real one, for the demo, the benchmark and the tests.

`SlackStandIn` serves, on loopback, the Web API methods the app calls and the `response_url`s that
`respond()` posts to, and refuses what Slack refuses: a wrong token, a message over Block Kit's limits
(tables included), a sixth post to one `response_url`, a post after its 30 minutes, a file upload that is not
the one announced. Faults (rate limits with Retry-After, errors, layouts refused) can be injected, on API
methods and on response_urls.

Files go as slack_sdk's `files_upload_v2` sends them: `files.getUploadURLExternal` (a filename and the
length), a POST of exactly that many bytes to the URL it returns (no token: the URL is the credential), and
`files.completeUploadExternal` naming the file and a channel, which must be a direct message that
`conversations.open` opened. What was uploaded is kept in `files` for tests to read.

A person's Home tab (`views.publish`) is held to a Home view's limits and kept in `home_views`. A workflow
step runs when a test starts one (`new_function_execution`, whose `event()` is what `function_executed`
carries): functions.completeSuccess and functions.completeError take that run's own token only (as Bolt
sends them), end it once (`execution_not_in_running_state` after that), and check its outputs against the
output parameters declared (`parameter_validation_failed`).

The module-level helpers play Slack's part towards the app: they build the exact form body Slack sends for
a slash command or an interaction, sign it, and hold the app to the 3-second ack.

Where Slack does not document its answer (a used-up or expired `response_url`, an unknown one), the
stand-in answers HTTP 404 with a short word in the body (`used_url`, `expired_url`, `no_service`): what
matters to the app is that it is a 4xx that `WebhookClient` returns rather than raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.slack.render.limits import has_table, problems
from bot.slack.render.view_limits import view_problems

from ..loopback import serve_on_loopback
from .signed_requests import Origin
from .wire import (
    ACK_SECONDS,
    API_APP_ID,
    RESPONSE_URL_LIFETIME_SECONDS,
    RESPONSE_URL_MAX_POSTS,
    TEAM_DOMAIN,
    JsonObject,
    ReceivedPost,
    Refusal,
    RefusedPost,
    api_error,
    api_params,
    bearer_token,
    json_object,
    trigger_id_value,
)


@dataclass(slots=True)
class _ResponseUrl:
    created_at: float
    accepted: list[ReceivedPost] = field(default_factory=list)
    refused: list[RefusedPost] = field(default_factory=list)


@dataclass(slots=True)
class UploadedFile:
    """A file the app uploaded: announced by files.getUploadURLExternal, its bytes, then where it was shared."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    user_id: str | None = None  # whose direct message `channel_id` is
    initial_comment: str | None = None

    @property
    def text(self) -> str:
        return (self.content or b"").decode("utf-8")


@dataclass(slots=True)
class FunctionExecution:
    """One run of a workflow step (a custom function) the stand-in started: what the `function_executed` event
    carries (`event()`), the token it gave the app for this run alone, and how the app ended it. Slack takes
    one ending: `outputs` (functions.completeSuccess, checked against `output_parameters` as the manifest
    declares them) or `error` (functions.completeError); what it refused is in `refused`."""

    execution_id: str
    callback_id: str
    inputs: JsonObject
    output_parameters: dict[str, JsonObject]
    token: str
    outputs: JsonObject | None = None
    error: str | None = None
    refused: list[str] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.outputs is not None or self.error is not None

    def event(self) -> JsonObject:
        """The `function_executed` event, as the Events API delivers it inside an `event_callback`."""
        return {
            "type": "function_executed",
            "function": {
                "id": "Fn0STANDIN",
                "callback_id": self.callback_id,
                "title": self.callback_id,
                "type": "app",
                "app_id": API_APP_ID,
            },
            "inputs": self.inputs,
            "function_execution_id": self.execution_id,
            "workflow_execution_id": "Wx" + self.execution_id[2:],
            "event_ts": f"{time.time():.6f}",
            "bot_access_token": self.token,
        }


# Types of output parameters, and the Python values that are of them.
_OUTPUT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "slack#/types/user_id": (str,),
    "slack#/types/channel_id": (str,),
}
# Methods that take the token of one function execution (Bolt calls them with it), not the bot token.
_EXECUTION_METHODS = frozenset({"functions.completeSuccess", "functions.completeError"})


def output_problems(outputs: Any, parameters: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """How `outputs` breaks the output parameters a function declares (`parameter_validation_failed`)."""
    if not isinstance(outputs, dict):
        return ["outputs is not an object"]
    found = [f"{name} is not an output of this function" for name in outputs if name not in parameters]
    for name, parameter in parameters.items():
        if name not in outputs:
            if parameter.get("is_required"):
                found.append(f"the required output {name} is missing")
            continue
        kinds = _OUTPUT_TYPES.get(str(parameter.get("type")), ())
        value = outputs[name]
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if not isinstance(value, kinds) or wrong_bool:
            found.append(f"the output {name} is not of type {parameter.get('type')}")
    return found


@dataclass(slots=True)
class _Fault:
    error: str
    status: int
    retry_after: int | None
    remaining: int | None  # None: every call fails until replaced


class SlackStandIn:
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
        self.messages: list[JsonObject] = []  # accepted chat.postMessage arguments, in order
        self._users: dict[str, JsonObject] = {}
        self._usergroups = {group: list(members) for group, members in (usergroups or {}).items()}
        self._faults: dict[str, _Fault] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._response_url_failure: _Fault | None = None
        # A message for which this is true is refused (response_urls and chat.postMessage) with this error.
        self._refuse: tuple[Callable[[JsonObject], bool], str] | None = None
        self.files: list[UploadedFile] = []  # shared with a channel, in order
        self._uploads: dict[str, UploadedFile] = {}  # announced, by file ID
        self._dms: dict[str, str] = {}  # DM channel -> its user
        self.executions: dict[str, FunctionExecution] = {}  # workflow step runs, by function_execution_id
        self.home_views: dict[str, JsonObject] = {}  # each person's Home tab, as last published
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
        self.views: dict[str, JsonObject] = {}  # open modals by view ID, as last opened or updated
        self._triggers: dict[str, float] = {}  # trigger_id -> when issued; removed when used

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

    # --- workspace data and faults ---------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        name: str | None = None,
        locale: str = "en-US",
    ) -> None:
        """A person of the workspace; `locale` is what users.info tells when asked with include_locale."""
        user = self._default_user(user_id, team_id=team_id, name=name)
        user.update(
            is_bot=is_bot,
            deleted=deleted,
            is_restricted=is_restricted,
            is_ultra_restricted=is_ultra_restricted,
            locale=locale,
        )
        self._users[user_id] = user

    def add_usergroup(self, usergroup_id: str, members: Sequence[str]) -> None:
        self._usergroups[usergroup_id] = list(members)

    def _default_user(self, user_id: str, *, team_id: str | None = None, name: str | None = None) -> JsonObject:
        team = team_id or self.team_id
        handle = name or user_id.lower()
        user: JsonObject = {
            "id": user_id,
            "team_id": team,
            "name": handle,
            "real_name": handle,
            "deleted": False,
            "is_bot": False,
            "is_app_user": False,
            "is_admin": False,
            "is_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "tz": "Asia/Shanghai",
            "profile": {"real_name": handle, "display_name": handle, "team": team},
        }
        if self.enterprise_id is not None:
            user["enterprise_user"] = {
                "id": user_id,
                "enterprise_id": self.enterprise_id,
                "enterprise_name": "Stand-in Org",
                "is_admin": False,
                "is_owner": False,
                "teams": [team],
            }
        return user

    def fail_method(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int | None = None,
    ) -> None:
        """Make `method` fail (`times` times, or until replaced). Status 429 answers as Slack rate-limits:
        a `Retry-After` header (1 s unless given) and `ratelimited`."""
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            error, retry_after = error or "ratelimited", retry_after or 1
        elif error is None:
            if status == HTTPStatus.OK:
                raise ValueError("a failure with HTTP 200 needs an error code, such as error='internal_error'")
            error = "internal_error"
        self._faults[method] = _Fault(error=error, status=status, retry_after=retry_after, remaining=times)

    def fail_response_urls(
        self, status: int | None, *, retry_after: int | None = None, times: int | None = None
    ) -> None:
        """Every `response_url` answers this HTTP status (`times` posts, or until replaced; None: back to normal).
        A 429 carries `Retry-After` (1 s unless given), as Slack rate-limits."""
        if status is None:
            self._response_url_failure = None
            return
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            retry_after = retry_after or 1
        self._response_url_failure = _Fault(
            HTTPStatus(status).phrase.lower().replace(" ", "_"), status, retry_after, times
        )

    def refuse_messages(
        self, when: Callable[[JsonObject], bool] | None = has_table, error: str = "invalid_attachments"
    ) -> None:
        """Refuse every message for which `when` is true (by default: one holding a table), on response_urls
        (HTTP 400) and chat.postMessage, with `error`, as a Slack that does not take that layout would; None:
        back to normal."""
        self._refuse = None if when is None else (when, error)

    def dm_channel(self, user_id: str) -> str | None:
        """The direct message channel conversations.open opened with `user_id`, if any."""
        return next((channel for channel, user in self._dms.items() if user == user_id), None)

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
        if method in _EXECUTION_METHODS:
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

    def _take_fault(self, method: str) -> _Fault | None:
        fault = self._faults.get(method)
        if fault is None:
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[method]
        return fault

    def _auth_test(self, params: JsonObject) -> JsonObject:
        answer: JsonObject = {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.invalid/",
            "team": "Stand-in Workspace",
            "user": self._users[self.bot_user_id]["name"],
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if self.enterprise_id is not None:
            answer["enterprise_id"] = self.enterprise_id
        return answer

    def _users_info(self, params: JsonObject) -> JsonObject:
        user = self._users.get(str(params.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        # As Slack does: the locale only when asked for it.
        asked = str(params.get("include_locale", "")).lower() in ("true", "1")
        shown = user if asked else {key: value for key, value in user.items() if key != "locale"}
        return {"ok": True, "user": shown}

    def _usergroups_users_list(self, params: JsonObject) -> JsonObject:
        if not self.paid_plan:
            return {"ok": False, "error": "plan_upgrade_required"}
        members = self._usergroups.get(str(params.get("usergroup", "")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(members)}

    def _chat_post_message(self, params: JsonObject) -> JsonObject:
        channel = params.get("channel")
        if not channel or (
            self._bot_channels is not None and channel not in self._bot_channels and channel not in self._dms
        ):
            return {"ok": False, "error": "channel_not_found"}
        message = dict(params)
        if isinstance(message.get("blocks"), str):
            try:
                message["blocks"] = json.loads(message["blocks"])
            except ValueError:
                return {"ok": False, "error": "invalid_blocks_format"}
        if isinstance(message.get("attachments"), str):
            try:
                message["attachments"] = json.loads(message["attachments"])
            except ValueError:
                return {"ok": False, "error": "invalid_attachments"}
        if not message.get("text") and not message.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if self._refuse is not None and self._refuse[0](message):
            return {"ok": False, "error": self._refuse[1]}
        found = problems(message)
        if found:
            return {"ok": False, "error": "invalid_blocks", "errors": found}
        ts = f"{time.time():.6f}"
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"type": "message", "ts": ts, **message}}

    # --- direct messages and files ---------------------------------------------------------------

    def _conversations_open(self, params: JsonObject) -> JsonObject:
        users = [user for user in str(params.get("users", "")).split(",") if user]
        if len(users) != 1:
            return {"ok": False, "error": "not_enough_users" if not users else "invalid_arguments"}
        user = users[0]
        if user not in self._users or user == self.bot_user_id:
            return {"ok": False, "error": "user_not_found"}
        channel = self.dm_channel(user) or f"D{secrets.token_hex(5).upper()}"
        self._dms[channel] = user
        return {"ok": True, "channel": {"id": channel, "is_im": True, "user": user}}

    def _files_get_upload_url(self, params: JsonObject) -> JsonObject:
        filename = str(params.get("filename") or "")
        try:
            length = int(str(params.get("length", "")))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not filename or length < 1:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{secrets.token_hex(5).upper()}"
        self._uploads[file_id] = UploadedFile(file_id, filename, length)
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: Request) -> Response:
        upload = self._uploads.get(request.path_params["file_id"])
        if upload is None or upload.content is not None:
            return PlainTextResponse("invalid_upload", status_code=HTTPStatus.NOT_FOUND)
        body = await request.body()
        if len(body) != upload.length:
            # Slack's upload URL takes exactly the bytes announced.
            return PlainTextResponse("length_mismatch", status_code=HTTPStatus.BAD_REQUEST)
        upload.content = body
        return PlainTextResponse(f"OK - {len(body)}")

    def _files_complete_upload(self, params: JsonObject) -> JsonObject:
        try:
            files = json.loads(str(params.get("files") or ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            return {"ok": False, "error": "invalid_arguments"}
        channel = params.get("channel_id")
        if params.get("channels") or not channel:
            return {"ok": False, "error": "invalid_arguments"}  # strict: one channel, by channel_id
        user = self._dms.get(str(channel))
        if user is None:
            return {"ok": False, "error": "channel_not_found"}  # only a DM the app opened, never a channel
        completed: list[UploadedFile] = []
        for entry in files:
            upload = self._uploads.get(str(entry.get("id", "")))
            if upload is None or upload.content is None:
                return {"ok": False, "error": "file_not_found" if upload is None else "file_upload_incomplete"}
            completed.append(upload)
        for upload, entry in zip(completed, files, strict=True):
            del self._uploads[upload.file_id]
            upload.title = str(entry.get("title") or upload.filename)
            upload.channel_id, upload.user_id = str(channel), user
            upload.initial_comment = params.get("initial_comment") or None
            self.files.append(upload)
        return {"ok": True, "files": [{"id": upload.file_id, "title": upload.title} for upload in completed]}

    def files_for(self, user_id: str) -> list[UploadedFile]:
        """The files shared in the direct message with `user_id`, in order."""
        return [upload for upload in self.files if upload.user_id == user_id]

    # --- workflow steps --------------------------------------------------------------------------

    def new_function_execution(
        self, callback_id: str, inputs: JsonObject, *, output_parameters: Mapping[str, JsonObject]
    ) -> FunctionExecution:
        """Start a run of the step `callback_id` with `inputs`; send the app `execution.event()` (in an
        `event_callback`, see signed_requests.event_callback_payload) for it to run."""
        execution_id = f"Fx{secrets.token_hex(5).upper()}"
        token = f"xwfp-{secrets.token_hex(12)}"
        execution = FunctionExecution(execution_id, callback_id, dict(inputs), dict(output_parameters), token)
        self.executions[execution_id] = execution
        return execution

    def _execution_token_problem(self, params: JsonObject, token: str) -> str | None:
        execution = self.executions.get(str(params.get("function_execution_id", "")))
        if execution is None:
            return "function_execution_not_found"
        if not hmac.compare_digest(token.encode(), execution.token.encode()):
            return "invalid_auth"  # only the token the event gave for this run
        return None

    def _functions_complete_success(self, params: JsonObject) -> JsonObject:
        execution = self.executions[str(params["function_execution_id"])]
        if execution.ended:
            return {"ok": False, "error": "execution_not_in_running_state"}
        outputs = params.get("outputs")
        if isinstance(outputs, str):
            try:
                outputs = json.loads(outputs)
            except ValueError:
                outputs = None
        found = output_problems(outputs, execution.output_parameters)
        if found:
            execution.refused.extend(found)
            return {"ok": False, "error": "parameter_validation_failed", "errors": found}
        execution.outputs = outputs
        return {"ok": True}

    def _functions_complete_error(self, params: JsonObject) -> JsonObject:
        execution = self.executions[str(params["function_execution_id"])]
        if execution.ended:
            return {"ok": False, "error": "execution_not_in_running_state"}
        error = params.get("error")
        if not isinstance(error, str) or not error.strip():
            execution.refused.append("the error is not a non-empty string")
            return {"ok": False, "error": "invalid_arguments"}
        execution.error = error
        return {"ok": True}

    # --- the Home tab ----------------------------------------------------------------------------

    def _views_publish(self, params: JsonObject) -> JsonObject:
        user_id = str(params.get("user_id", ""))
        user = self._users.get(user_id)
        if user is None or user.get("is_bot"):
            return {"ok": False, "error": "user_not_found"}
        view = params.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["no view"]}}
        found = view_problems(view, "home")
        if found:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": found}}
        self.home_views[user_id] = view
        return {"ok": True, "view": {"id": f"VH{user_id}", **view}}

    # --- modals ----------------------------------------------------------------------------------

    def new_trigger_id(self) -> str:
        """A trigger_id as Slack puts in an interaction: good for one views.open within 3 seconds."""
        trigger = trigger_id_value()
        self._triggers[trigger] = self._clock()
        return trigger

    def _views_open(self, params: JsonObject) -> JsonObject:
        issued = self._triggers.pop(str(params.get("trigger_id", "")), None)
        if issued is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        if self._clock() - issued > ACK_SECONDS:
            return {"ok": False, "error": "expired_trigger_id"}
        return self._store_view(f"V{secrets.token_hex(5).upper()}", params.get("view"))

    def _views_update(self, params: JsonObject) -> JsonObject:
        view_id = str(params.get("view_id", ""))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        return self._store_view(view_id, params.get("view"))

    def _store_view(self, view_id: str, view: Any) -> JsonObject:
        if isinstance(view, str):  # form-encoded calls carry the view as JSON text
            try:
                view = json.loads(view)
            except ValueError:
                return {"ok": False, "error": "invalid_arguments"}
        found = view_problems(view) if isinstance(view, dict) else ["the view is not an object"]
        if found:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": found}}
        self.views[view_id] = view
        return {"ok": True, "view": {"id": view_id, **view}}

    # --- response_url ----------------------------------------------------------------------------

    def new_response_url(self) -> str:
        token = secrets.token_urlsafe(16)
        self._response_urls[token] = _ResponseUrl(created_at=self._clock())
        return f"{self.base_url}/response/{token}"

    def new_origin(
        self, user_id: str, channel_id: str, *, team_id: str | None = None, enterprise_id: str | None = None
    ) -> Origin:
        """A request from `user_id` in `channel_id` of this workspace (or of `team_id`), answered at a new
        response_url of this stand-in."""
        return Origin(user_id, team_id or self.team_id, channel_id, self.new_response_url(), enterprise_id)

    def posts(self, response_url: str) -> list[JsonObject]:
        """The JSON bodies `response_url` accepted, in order of arrival."""
        return [post.body for post in self._response_url_state(response_url).accepted]

    def timed_posts(self, response_url: str) -> list[ReceivedPost]:
        return list(self._response_url_state(response_url).accepted)

    def refused_posts(self, response_url: str) -> list[RefusedPost]:
        return list(self._response_url_state(response_url).refused)

    async def wait_for_posts(
        self,
        response_url: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - a hang guard for callers, not a deadline on Slack
    ) -> list[JsonObject]:
        """Wait until `response_url` has accepted `count` posts; return all it has accepted."""
        state = self._response_url_state(response_url)
        try:
            async with asyncio.timeout(timeout), self._posted:
                await self._posted.wait_for(lambda: len(state.accepted) >= count)
        except TimeoutError:
            refused = "; ".join(f"{r.status} {r.error} {r.problems}" for r in state.refused) or "none"
            raise TimeoutError(
                f"response_url got {len(state.accepted)} of {count} posts within {timeout} s (refused: {refused})"
            ) from None
        return [post.body for post in state.accepted]

    def _response_url_state(self, response_url: str) -> _ResponseUrl:
        token = urlsplit(response_url).path.rsplit("/", 1)[-1]
        state = self._response_urls.get(token)
        if state is None or not response_url.startswith(self.base_url + "/response/"):
            raise ValueError("not a response_url this stand-in handed out")
        return state

    async def _response_url_post(self, request: Request) -> Response:
        state = self._response_urls.get(request.path_params["token"])
        if state is None:
            return PlainTextResponse("no_service", status_code=HTTPStatus.NOT_FOUND)
        fault = self._response_url_failure
        if fault is not None:
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._response_url_failure = None
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return PlainTextResponse(fault.error, status_code=fault.status, headers=headers)
        now = self._clock()
        body = await request.body()
        try:
            message = self._accept(state, now, body)
        except Refusal as refusal:
            text = body.decode("utf-8", errors="replace")
            state.refused.append(RefusedPost(now, refusal.status, refusal.error, refusal.problems, text))
            return PlainTextResponse(refusal.error, status_code=refusal.status)
        state.accepted.append(ReceivedPost(now, message))
        async with self._posted:
            self._posted.notify_all()
        return PlainTextResponse("ok")

    def _accept(self, state: _ResponseUrl, now: float, body: bytes) -> JsonObject:
        if now - state.created_at > RESPONSE_URL_LIFETIME_SECONDS:
            raise Refusal(HTTPStatus.NOT_FOUND, "expired_url")
        if len(state.accepted) >= RESPONSE_URL_MAX_POSTS:
            raise Refusal(HTTPStatus.NOT_FOUND, "used_url")
        message = json_object(body)
        if message is None:
            raise Refusal(HTTPStatus.BAD_REQUEST, "invalid_payload", ["the body is not a JSON object"])
        _check_response_fields(message)
        if message.get("delete_original") is True:
            return message
        if not message.get("text") and not message.get("blocks"):
            raise Refusal(HTTPStatus.BAD_REQUEST, "no_text")
        if self._refuse is not None and self._refuse[0](message):
            raise Refusal(HTTPStatus.BAD_REQUEST, self._refuse[1], ["this Slack refuses that layout"])
        found = problems(message)
        if found:
            raise Refusal(HTTPStatus.BAD_REQUEST, "invalid_blocks", found)
        return message


def _check_response_fields(message: JsonObject) -> None:
    """Stricter than Slack, which silently ignores these mistakes (a misspelt response_type posts ephemerally)."""
    wrong = [
        f"{flag} must be a boolean"
        for flag in ("replace_original", "delete_original")
        if flag in message and not isinstance(message[flag], bool)
    ]
    if message.get("response_type", "ephemeral") not in ("ephemeral", "in_channel"):
        wrong.append("response_type must be ephemeral or in_channel")
    if wrong:
        raise Refusal(HTTPStatus.BAD_REQUEST, "invalid_payload", wrong)
