"""Build the Bolt app: `build_app(deps, identity, ...)` registers the listeners; nothing at import time."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.metrics import Metrics
from bot.settings import Settings
from bot.yunxin.service import Lookups

from .access import AccessPolicy, build_rules, slack_error_code, slack_http_status
from .actions import (
    DETAILS_ACTION,
    DETAILS_PICKER_ACTION,
    PICKER_BACK_ACTION,
    PICKER_CHOICE_ACTION,
    REFRESH_ACTION,
    SHARE_ACTION,
)
from .commands import COMMAND, Deps, handle_conversation_command, handle_share
from .shortcuts import (
    SHORTCUT_CALLBACK,
    handle_details,
    handle_details_picker,
    handle_message_shortcut,
    handle_picker_back,
    handle_picker_choice,
    handle_refresh,
)

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The app cannot start; the message is one line that says what to fix."""


@dataclass(frozen=True, slots=True)
class SlackIdentity:
    """Who the bot is, from auth.test at start-up."""

    team_id: str
    enterprise_id: str | None
    bot_user_id: str | None
    bot_id: str | None
    team_name: str | None = None


SLACK_TIMEOUT_SECONDS = 10


def web_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The bot's Web API client; with `session`, its calls share that session's connections."""
    if settings.slack_bot_token is None:
        raise StartupError("SLACK_BOT_TOKEN: missing; set it to the Bot User OAuth Token (xoxb-…) of your Slack app")
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        session=session,
    )


def slack_session() -> aiohttp.ClientSession:
    """One session for every call to Slack and every reply: slack_sdk and Bolt's `respond()` otherwise open
    a session, and so a new connection (a TLS handshake), per call. A shared session's own timeout is
    the one slack_sdk uses."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS))


class SessionRespond:
    """`respond()` for one response_url, posting through the app's shared session. It takes Bolt's
    keyword arguments (text, blocks, response_type, replace_original, thread_ts, ...) and, as Bolt does,
    leaves out the ones that are None or empty."""

    def __init__(self, response_url: str, session: aiohttp.ClientSession) -> None:
        self.response_url = response_url
        self._session = session

    async def __call__(self, text: str = "", **fields: Any) -> WebhookResponse:
        message = {"text": text, **{name: value for name, value in fields.items() if value is not None and value != []}}
        return await AsyncWebhookClient(url=self.response_url, session=self._session).send_dict(message)


async def verify_slack_token(client: AsyncWebClient) -> SlackIdentity:
    """Call auth.test once at start-up, so no request ever waits for it before its ack."""
    try:
        response = await client.auth_test()
    except SlackApiError as error:
        code = slack_error_code(error)
        if code is None:
            raise StartupError(
                f"SLACK_API_URL: {client.base_url} answered HTTP {slack_http_status(error) or '?'} without "
                "Slack's JSON; check the URL (https://slack.com/api/ unless on GovSlack)"
            ) from None
        raise StartupError(
            f"SLACK_BOT_TOKEN: Slack refused the token ({code}); copy the Bot User OAuth Token (xoxb-…) "
            "from your app's OAuth & Permissions page"
        ) from None
    except (SlackClientError, OSError, TimeoutError) as error:
        raise StartupError(
            f"SLACK_API_URL: could not reach Slack at {client.base_url} ({type(error).__name__})"
        ) from None
    return SlackIdentity(
        team_id=str(response.get("team_id") or ""),
        enterprise_id=response.get("enterprise_id") or None,
        bot_user_id=response.get("user_id"),
        bot_id=response.get("bot_id"),
        team_name=response.get("team"),
    )


async def verify_app_token(api_url: str, app_token: SecretStr) -> None:
    """Ask for a Socket Mode URL once at start-up: Bolt's Socket Mode client retries a refused app-level
    token for ever, logging a traceback each time, and the bot would never say what is wrong."""
    client = AsyncWebClient(base_url=api_url, timeout=10)
    try:
        await client.apps_connections_open(app_token=app_token.get_secret_value())
    except SlackApiError as error:
        code = slack_error_code(error) or f"HTTP {slack_http_status(error) or '?'}"
        raise StartupError(
            f"SLACK_APP_TOKEN: Slack refused the app-level token ({code}); generate one (xapp-…) with the "
            "connections:write scope under Basic Information → App-Level Tokens"
        ) from None
    except (SlackClientError, OSError, TimeoutError) as error:
        raise StartupError(f"SLACK_API_URL: could not reach Slack at {api_url} ({type(error).__name__})") from None


def access_policy(settings: Settings, identity: SlackIdentity, client: AsyncWebClient) -> AccessPolicy:
    rules = build_rules(
        installed_team_id=identity.team_id,
        installed_enterprise_id=identity.enterprise_id,
        allowed_team_ids=settings.allowed_team_ids,
        allowed_user_ids=settings.allowed_user_ids,
        allowed_usergroup_ids=settings.allowed_usergroup_ids,
        allowed_channel_ids=settings.allowed_channel_ids,
        environments=settings.environment_access(),
        default_environment=settings.default_environment(),
    )
    return AccessPolicy(rules, client)


def require_signing_secret(settings: Settings, socket_mode: bool) -> str | None:
    """HTTP mode verifies every request with the signing secret; Socket Mode needs none."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if not socket_mode and not secret:
        raise StartupError("SLACK_SIGNING_SECRET: missing; HTTP mode needs it (Basic Information → Signing Secret)")
    return secret


def build_app(deps: Deps, identity: SlackIdentity, client: AsyncWebClient, *, socket_mode: bool = False) -> AsyncApp:
    signing_secret = require_signing_secret(deps.settings, socket_mode)
    token = client.token

    async def authorize(**_: Any) -> AuthorizeResult:
        # From the start-up auth.test: Bolt's default would call auth.test before the first ack.
        return AuthorizeResult(
            enterprise_id=identity.enterprise_id,
            team_id=identity.team_id,
            bot_token=token,
            bot_id=identity.bot_id,
            bot_user_id=identity.bot_user_id,
        )

    app = AsyncApp(
        # Bolt makes each request's client from this one's base URL, session and the token authorize() gives.
        client=AsyncWebClient(base_url=client.base_url, timeout=client.timeout, session=client.session),
        authorize=authorize,
        signing_secret=signing_secret or "",
        request_verification_enabled=not socket_mode,
        # Bolt answers Slack as soon as a listener returns; each listener returns once it has acked and
        # goes on in a task of its own (see `acked_then_detached`).
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    if client.session is not None:
        app.use(replies_through(client.session))
    register_listeners(app, deps)
    return app


def replies_through(session: aiohttp.ClientSession) -> Callable[..., Awaitable[None]]:
    """A middleware giving listeners a `respond()` that posts through `session` (in memory, before the ack)."""

    async def shared_session_respond(context: AsyncBoltContext, next_: Callable[[], Awaitable[None]]) -> None:
        if context.response_url:
            context["respond"] = SessionRespond(context.response_url, session)
        await next_()

    return shared_session_respond


Listener = Callable[..., Awaitable[None]]


def acked_then_detached(listener: Listener, running: set[asyncio.Task[None]]) -> Listener:
    """Run `listener` in a task of its own and return as soon as it has called `ack()` (or ended).

    Without this, Bolt runs listeners in the background and notices their ack by polling every 10 ms,
    which every answer then waits for. An error before the ack reaches Bolt as it would have; later
    ones are logged. Bolt reads the listener's parameter names through `functools.wraps`.
    """

    @functools.wraps(listener)
    async def run(*, ack: Any, **kwargs: Any) -> None:
        acked = asyncio.Event()

        async def ack_and_tell(*args: Any, **values: Any) -> None:
            try:
                await ack(*args, **values)
            finally:
                acked.set()

        work = asyncio.ensure_future(listener(ack=ack_and_tell, **kwargs))
        ack_seen = asyncio.ensure_future(acked.wait())
        try:
            await asyncio.wait({work, ack_seen}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ack_seen.cancel()
        if work.done():
            work.result()
            return
        running.add(work)
        work.add_done_callback(_forget_and_log(running))

    return run


def _forget_and_log(running: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a listener failed after its ack", exc_info=task.exception())

    return done


def register_listeners(app: AsyncApp, deps: Deps) -> None:
    running: set[asyncio.Task[None]] = set()  # listeners still working after their ack

    def detached(listener: Listener) -> Listener:
        return acked_then_detached(listener, running)

    @app.command(COMMAND)
    @detached
    async def conversation_command(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await handle_conversation_command(deps, ack, command, respond)

    @app.action(SHARE_ACTION)
    @detached
    async def share_in_channel(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await handle_share(deps, ack, body, respond)

    @app.action(REFRESH_ACTION)
    @detached
    async def refresh(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await handle_refresh(deps, ack, body, respond)

    @app.action(DETAILS_ACTION)
    @detached
    async def details(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await handle_details(deps, ack, body, respond, client)

    @app.action(DETAILS_PICKER_ACTION)
    @detached
    async def details_picker(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await handle_details_picker(deps, ack, body, respond, client)

    # Clicks inside the Details modal: no response_url, so everything they answer goes into the modal.
    @app.action(PICKER_CHOICE_ACTION)
    @detached
    async def picker_choice(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await handle_picker_choice(deps, ack, body, client)

    @app.action(PICKER_BACK_ACTION)
    @detached
    async def picker_back(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await handle_picker_back(deps, ack, body, client)

    @app.shortcut(SHORTCUT_CALLBACK)
    @detached
    async def look_up_in_message(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await handle_message_shortcut(deps, ack, body, respond)


@dataclass
class Runtime:
    """Everything one running bot holds; `aclose()` lets lookups finish, then closes the clients."""

    deps: Deps
    app: AsyncApp
    client: AsyncWebClient
    identity: SlackIdentity

    async def aclose(self, drain_seconds: float = 10.0) -> None:
        if not await self.deps.inflight.drain(drain_seconds):
            log.warning("shutting down with %d lookups still running", self.deps.inflight.count)
        await self.deps.lookups.aclose()
        session = getattr(self.client, "session", None)
        if session is not None:
            await session.close()


async def start_runtime(
    settings: Settings,
    *,
    socket_mode: bool = False,
    yunxin_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Runtime:
    """Check the Slack token, open the Yunxin clients, build the app. Raises StartupError."""
    token_client = web_client(settings)  # the local checks first: say what is missing before calling Slack
    require_signing_secret(settings, socket_mode)
    identity = await verify_slack_token(token_client)
    session = slack_session()
    try:
        return _runtime(settings, identity, web_client(settings, session), socket_mode, yunxin_transports)
    except BaseException:
        await session.close()
        raise


def _runtime(
    settings: Settings,
    identity: SlackIdentity,
    client: AsyncWebClient,
    socket_mode: bool,
    yunxin_transports: Mapping[str, httpx.AsyncBaseTransport] | None,
) -> Runtime:
    metrics = Metrics()

    def count_call(result: str, seconds: float) -> None:
        metrics.yunxin_calls.inc(result=result)
        metrics.yunxin_seconds.observe(seconds)

    lookups = Lookups.from_settings(settings, on_call=count_call, transports=yunxin_transports)
    deps = Deps(settings, lookups, access_policy(settings, identity, client), metrics=metrics)
    app = build_app(deps, identity, client, socket_mode=socket_mode)
    if lookups.config().sandbox:
        log.warning("Yunxin SANDBOX: answers come from the built-in emulator, not from Yunxin")
    log.info("Slack app ready for team %s (%s)", identity.team_name or "?", identity.team_id)
    return Runtime(deps, app, client, identity)
