"""Build the Bolt app: `build_app(deps, identity, ...)` registers the listeners (and gives the HTTP lane for
slash commands, `slash.py`); nothing at import time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
from pydantic import SecretStr
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, async_default_handlers
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.otel import setup_tracing, shutdown_tracing
from bot.settings import Settings
from bot.shared import open_shared_state
from bot.yunxin.service import Lookups

from .access import AccessPolicy, build_rules, slack_error_code, slack_http_status
from .bodies import shape_problem
from .edge import SIGNATURE_WINDOW_SECONDS, ReplayCheck, ReplayGuard
from .listeners import register_listeners
from .pipeline import Deps, restarted_notice
from .replies import SessionRespond
from .slash import SlashCommands

if TYPE_CHECKING:
    from bot.shared.state import SharedState

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The app cannot start; the message is one line that says what to fix."""


def check_workers(settings: Settings) -> None:
    """Several workers of one server (WEB_CONCURRENCY) need REDIS_URL: otherwise each would keep its own call
    budget, pause, breaker, caches and replay guard, and together they could exceed Yunxin's limit."""
    if settings.web_concurrency > 1 and settings.redis_url is None:
        raise StartupError(
            f"WEB_CONCURRENCY: {settings.web_concurrency} workers need REDIS_URL (Redis or Valkey) to share the "
            "Yunxin call budget, pause and breaker and the replay guard; set REDIS_URL, or WEB_CONCURRENCY=1"
        )


@dataclass(frozen=True, slots=True)
class SlackIdentity:
    """Who the bot is, from auth.test at start-up."""

    team_id: str
    enterprise_id: str | None
    bot_user_id: str | None
    bot_id: str | None
    team_name: str | None = None


SLACK_TIMEOUT_SECONDS = 10
# A Web API call Slack answers 429 is made again after its Retry-After, this many times, when Slack asks for a
# wait of at most this: a person waiting for an access check or a file is told Slack is rate limiting (and
# when to try again) once these are spent, never left waiting.
SLACK_RATE_LIMIT_RETRIES = 2
SLACK_RATE_LIMIT_MAX_WAIT_SECONDS = 3.0


class BoundedRateLimitRetries(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's retry of a 429 after its Retry-After, except when Slack asks for a longer wait than
    `max_wait` seconds: then the 429 is answered at once, for the person to be told."""

    def __init__(self, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        if not await super()._can_retry_async(state=state, request=request, response=response, error=error):
            return False
        headers = {str(name).lower(): value for name, value in (response.headers or {}).items()}
        wait = headers.get("retry-after")
        wait = wait[0] if isinstance(wait, list | tuple) and wait else wait
        try:
            return float(str(wait)) <= self.max_wait if wait is not None else True
        except ValueError:
            return True


def rate_limit_retries() -> list[AsyncRetryHandler]:
    """slack_sdk retries only connection errors by default; a 429 is waited out (its Retry-After), boundedly."""
    return [BoundedRateLimitRetries(SLACK_RATE_LIMIT_RETRIES, SLACK_RATE_LIMIT_MAX_WAIT_SECONDS)]


# Shutdown lets lookups in flight run to their deadline, and this much more to post their answers.
DRAIN_MARGIN_SECONDS = 5.0


def web_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The bot's Web API client; with `session`, its calls share that session's connections."""
    if settings.slack_bot_token is None:
        raise StartupError("SLACK_BOT_TOKEN: missing; set it to the Bot User OAuth Token (xoxb-…) of your Slack app")
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        session=session,
        retry_handlers=[*async_default_handlers(), *rate_limit_retries()],
    )


def slack_session() -> aiohttp.ClientSession:
    """One session for every call to Slack and every reply: slack_sdk and Bolt's `respond()` otherwise open
    a session, and so a new connection (a TLS handshake), per call. A shared session's own timeout is
    the one slack_sdk uses."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS))


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


def access_policy(
    settings: Settings, identity: SlackIdentity, client: AsyncWebClient, shared: SharedState | None = None
) -> AccessPolicy:
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
    return AccessPolicy(rules, client, shared=shared)


def require_signing_secret(settings: Settings, socket_mode: bool) -> str | None:
    """HTTP mode verifies every request with the signing secret; Socket Mode needs none."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if not socket_mode and not secret:
        raise StartupError("SLACK_SIGNING_SECRET: missing; HTTP mode needs it (Basic Information → Signing Secret)")
    return secret


def build_app(
    deps: Deps, identity: SlackIdentity, client: AsyncWebClient, *, socket_mode: bool = False
) -> tuple[AsyncApp, SlashCommands | None]:
    """The Bolt app, and the slash commands' lane past Bolt's router for HTTP (None without a shared
    session, whose `respond()` the lane gives as `RepliesThrough` does)."""
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
        client=AsyncWebClient(
            base_url=client.base_url,
            timeout=client.timeout,
            session=client.session,
            retry_handlers=list(client.retry_handlers),
        ),
        authorize=authorize,
        signing_secret=signing_secret or "",
        # HTTP requests are verified at the edge (edge.py) before Bolt sees them; the socket needs none.
        request_verification_enabled=False,
        # Bolt answers Slack as soon as a listener returns; each listener returns once it has acked and
        # goes on in a task of its own (see `acked_then_detached`).
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    if socket_mode:
        app.use(QuietOnUnexpectedShape())  # over HTTP, the edge has checked it already
    if client.session is not None:
        app.use(RepliesThrough(client.session))
    commands = register_listeners(app, deps)
    return app, (SlashCommands(commands, client.session) if client.session is not None else None)


# Both middlewares are AsyncMiddleware classes rather than functions: Bolt calls a function middleware
# through its argument injection, which builds every argument any listener could ask for (the payload read
# as an action, a view, a shortcut, a step...) on each request, a tenth of Bolt's CPU per command.


class QuietOnUnexpectedShape(AsyncMiddleware):
    """A payload whose fields are not of the types Slack sends is acked and dropped with one log line, as
    the HTTP edge does: no listener ever reads it."""

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        body = req.body
        problem = shape_problem(body) if isinstance(body, dict) else "not an object"
        if problem is not None:
            log.info("dropped a Socket Mode payload: unexpected payload: %s", problem)
            return BoltResponse(status=200, body="")
        return await next()


class RepliesThrough(AsyncMiddleware):
    """Gives listeners a `respond()` that posts through `session` (in memory, before the ack)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        response_url = req.context.response_url
        if response_url:
            req.context["respond"] = SessionRespond(response_url, self._session)
        return await next()


@dataclass
class Runtime:
    """Everything one running bot holds; `aclose()` lets lookups finish, then closes the clients."""

    deps: Deps
    app: AsyncApp
    client: AsyncWebClient
    identity: SlackIdentity
    # Slash commands over HTTP go to their listeners this way rather than through `app` (slash.py).
    commands: SlashCommands | None = None
    # The state shared with the other replicas (REDIS_URL); None: everything is this process's own.
    # For /metrics: `shared.degraded`, `shared.outages`; `deps.lookups.gate_status()` per environment.
    shared: SharedState | None = None

    def replay_guard(self) -> ReplayCheck:
        """The HTTP edge's replay guard: the fleet's with REDIS_URL, else this process's."""
        local = ReplayGuard()
        if self.shared is None:
            return local
        from bot.shared.replay import SharedReplayGuard

        return SharedReplayGuard(self.shared, local, SIGNATURE_WINDOW_SECONDS)

    @property
    def drain_seconds(self) -> float:
        """How long shutdown lets lookups in flight run: to their deadline, and a moment more to answer."""
        return self.deps.settings.yunxin_deadline_seconds + DRAIN_MARGIN_SECONDS

    async def aclose(self, drain_seconds: float | None = None) -> None:
        """Let lookups in flight finish for up to `drain_seconds` (default: `self.drain_seconds`), tell the
        people whose lookups still run that the bot restarted, then close the clients."""
        drain_seconds = self.drain_seconds if drain_seconds is None else drain_seconds
        if not await self.deps.inflight.drain(drain_seconds):
            left = await self.deps.inflight.abandon(restarted_notice)
            log.warning(
                "shut down with %d lookups unfinished after %g s; their askers were told to retry", left, drain_seconds
            )
        await self.deps.lookups.aclose()
        session = getattr(self.client, "session", None)
        if session is not None:
            await session.close()
        if self.shared is not None:
            await self.shared.aclose()
        shutdown_tracing()


async def start_runtime(
    settings: Settings,
    *,
    socket_mode: bool = False,
    yunxin_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Runtime:
    """Check the Slack token, connect to the shared state (REDIS_URL), open the Yunxin clients, build the app.
    Raises StartupError. Redis being down stops nothing: the bot starts on its in-process fallbacks."""
    token_client = web_client(settings)  # the local checks first: say what is missing before calling Slack
    require_signing_secret(settings, socket_mode)
    setup_tracing()  # before any HTTP session is made: aiohttp's instrumentation reaches only later ones
    identity = await verify_slack_token(token_client)
    shared = await open_shared_state(settings)
    session = slack_session()
    try:
        return _runtime(settings, identity, web_client(settings, session), socket_mode, yunxin_transports, shared)
    except BaseException:
        await session.close()
        if shared is not None:
            await shared.aclose()
        raise


def _runtime(
    settings: Settings,
    identity: SlackIdentity,
    client: AsyncWebClient,
    socket_mode: bool,
    yunxin_transports: Mapping[str, httpx.AsyncBaseTransport] | None,
    shared: SharedState | None = None,
) -> Runtime:
    metrics = Metrics()

    def count_call(result: str, seconds: float) -> None:
        metrics.yunxin_calls.labels(result=result).inc()
        metrics.yunxin_seconds.observe(seconds)

    lookups = Lookups.from_settings(settings, on_call=count_call, transports=yunxin_transports, shared=shared)
    deps = Deps(settings, lookups, access_policy(settings, identity, client, shared), metrics=metrics)
    app, commands = build_app(deps, identity, client, socket_mode=socket_mode)
    if lookups.config().sandbox:
        log.warning("Yunxin SANDBOX: answers come from the built-in emulator, not from Yunxin")
    log.info("Slack app ready for team %s (%s)", identity.team_name or "?", identity.team_id)
    return Runtime(deps, app, client, identity, commands=commands, shared=shared)
