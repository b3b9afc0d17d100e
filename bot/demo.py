"""`python -m bot demo`: one /conversation answered end to end, with nothing but this machine.

The real HTTP app (as the Procfile runs it) serves on loopback, backed by the Yunxin sandbox; a
local stand-in of Slack signs the command as Slack does, receives the replies at its
response_url, and the replies are printed as a Slack user would read them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time

from pydantic import SecretStr

from bot.settings import Settings
from bot.slack.render.terminal import to_terminal
from bot.slack.web import create_asgi_app
from bot.standins.loopback import serve_on_loopback
from bot.standins.slack import SlackStandIn, send_slash_command
from bot.yunxin.sandbox import SAMPLE_IDS

DEMO_USER = "U0DEMOUSER"
DEMO_CHANNEL = "C0INCIDENT"
# A few sample conversations (one of each type, a revoked one, hostile text, an unknown ID), so the
# answer shows the detailed layout; `python -m bot demo ID ...` asks for others.
DEMO_IDS = [SAMPLE_IDS[i] for i in (0, 1, 2, 3)] + [SAMPLE_IDS[-1]]
QUIET_SECONDS = 0.5  # no new reply for this long after the last one: the answer is complete


def _rule(title: str) -> str:
    return f"\n── {title} " + "─" * max(0, 76 - len(title))


def demo_settings(settings: Settings, *, bot_token: str, signing_secret: str, api_url: str) -> Settings:
    """The settings' choices of what answers show, without anything that would reach beyond this machine
    (YUNXIN_ENVIRONMENTS, credentials) or refuse the demo's user (the ALLOWED_* lists)."""
    values = settings.model_dump()
    values.update(
        yunxin_sandbox=True,
        yunxin_environments=[],
        yunxin_default_environment=None,
        allowed_team_ids=[],
        allowed_user_ids=[],
        allowed_usergroup_ids=[],
        allowed_channel_ids=[],
        slack_bot_token=SecretStr(bot_token),
        slack_signing_secret=SecretStr(signing_secret),
        slack_api_url=api_url,
    )
    # Validated afresh: a copy would keep the environments read from the original settings.
    return Settings(_env_file=None, **values)


async def run_demo(settings: Settings, text: str = "") -> int:
    text = text.strip() or " ".join(DEMO_IDS)
    signing_secret = secrets.token_hex(16)
    bot_token = f"xoxb-demo-{secrets.token_hex(8)}"
    async with SlackStandIn(bot_token=bot_token) as slack:
        slack.add_user(DEMO_USER, name="on-call engineer")
        demo = demo_settings(settings, bot_token=bot_token, signing_secret=signing_secret, api_url=slack.api_url)
        async with serve_on_loopback(create_asgi_app(demo)) as app_url:
            response_url = slack.new_response_url()
            print(_rule("SANDBOX DEMO"))
            print("The bot runs in HTTP mode on this machine, against the built-in Yunxin sandbox")
            print("(sample data, not production) and a local stand-in of Slack.")
            print(_rule("You type in Slack"))
            print(f"/conversation {text}")
            started = time.monotonic()
            delivery = await send_slash_command(
                f"{app_url}/slack/events",
                signing_secret,
                text=text,
                user_id=DEMO_USER,
                team_id=slack.team_id,
                channel_id=DEMO_CHANNEL,
                response_url=response_url,
            )
            if delivery.timed_out or delivery.status != 200:
                print(f"error: the app did not acknowledge the command (HTTP {delivery.status})", file=sys.stderr)
                return 1
            print(_rule(f"Slack shows at once (ack in {delivery.seconds * 1000:.0f} ms)"))
            print(to_terminal([json.loads(delivery.body)]) if delivery.body else "(nothing)")
            posts = await _collect(slack, response_url)
            arrived = slack.timed_posts(response_url)[-1].at if posts else time.monotonic()
            elapsed = arrived - started
            print(_rule(f"Then the answer ({len(posts)} message(s), {elapsed * 1000:.0f} ms after the command)"))
            print(to_terminal(posts))
            print(_rule("Next"))
            print("1. Look up conversations from a terminal (the sandbox answers until YUNXIN_APP_KEY is set):")
            print("     ./dev run query 'sandbox_alice|1|sandbox_bob' 'sandbox_alice|2|8800000001'")
            print("2. Answer /conversation in your own Slack workspace: create the Slack app from a manifest and")
            print('   configure the bot, as README.md says under "Setting up the Slack app".')
            return 0 if posts else 1


async def _collect(slack: SlackStandIn, response_url: str) -> list[dict[str, object]]:
    """Wait for the first reply, then until no more arrive for a moment."""
    posts = await slack.wait_for_posts(response_url, 1, timeout=20.0)
    while True:
        await asyncio.sleep(QUIET_SECONDS)
        latest = slack.posts(response_url)
        if len(latest) == len(posts):
            return latest
        posts = latest
