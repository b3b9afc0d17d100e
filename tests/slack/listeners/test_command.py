"""/conversation end to end: signed commands from the Slack stand-in through Bolt's dispatch to the HTTP app
on loopback, the Yunxin sandbox behind it, replies checked by the strict stand-in: help in the ack, the
answer, malformed IDs, many IDs, too many."""

from __future__ import annotations

from bot.slack.listeners.command import conversation_command
from bot.slack.pipeline import Deps
from bot.slack.render.kit import SANDBOX_LABEL
from bot.slack.render.limits import problems
from bot.standins.slack import slash_command_form
from bot.yunxin.models import REDACTED
from bot.yunxin.sandbox import SAMPLE_CONVERSATIONS, SAMPLE_IDS
from tests.fakes import ORIGIN, BoltRecorder, fake_deps
from tests.harness import BOB, TEAM_CHAT, UNKNOWN, Bot, BotFactory
from tests.messages import all_shown, shown

# --- help -------------------------------------------------------------------------------------------


async def test_empty_text_and_help_show_usage_with_an_example_and_call_nothing(bot: Bot) -> None:
    for text in ("", "help", "  help  "):
        sent = await bot.command(text)
        await bot.settle()

        assert sent.delivery.status == 200
        assert sent.ack["response_type"] == "ephemeral"
        usage = shown(sent.ack)
        assert "Usage:" in usage and "Example:" in usage
        assert SAMPLE_IDS[0] in usage  # in sandbox mode the example is a sample that answers
        assert SANDBOX_LABEL in usage
        assert problems(sent.ack) == []
        assert bot.slack.posts(sent.response_url) == []
    assert bot.api_methods() == ["auth.test"]
    assert bot.yunxin.calls == []


async def test_an_unknown_option_shows_usage_with_a_note(bot: Bot) -> None:
    sent = await bot.command(f"--all {BOB}")
    await bot.settle()

    usage = shown(sent.ack)
    assert "Unknown option --all." in usage and "Usage:" in usage
    assert bot.api_methods() == ["auth.test"]
    assert bot.yunxin.calls == []


# --- the answer -------------------------------------------------------------------------------------


async def test_a_few_conversations_are_answered_in_sections_with_the_sandbox_label(bot: Bot) -> None:
    sent = await bot.command(f"{BOB}\n{TEAM_CHAT}, {UNKNOWN}")
    (answer,) = await sent.replies()

    assert answer["response_type"] == "ephemeral"
    text = shown(answer)
    assert SANDBOX_LABEL in text
    assert "*2* found" in text and "*1* failed" in text
    assert "Hi Alice, the release notes for 4.2 are ready for review." in text
    assert "110404" in text and "conversation not exist" in text
    sections = [block for block in answer["blocks"] if block["type"] == "section"]
    assert any("fields" in block for block in sections)  # the detailed layout
    assert bot.slack.refused_posts(sent.response_url) == []


async def test_text_from_yunxin_is_escaped_so_it_cannot_notify_anyone(bot: Bot) -> None:
    answer = await (await bot.command(TEAM_CHAT)).reply()
    text = shown(answer)
    assert "<!channel>" not in text and "<@U123>" not in text and "<b>" not in text
    assert "&lt;!channel&gt;" in text and "&lt;@U123&gt;" in text
    assert "R&amp;D sees errors &gt; 1%" in text


async def test_redact_message_text_hides_what_people_wrote(start_bot: BotFactory) -> None:
    async with start_bot(redact_message_text=True) as bot:
        answer = await (await bot.command(f"{BOB} {TEAM_CHAT}")).reply()
    text = shown(answer)
    assert REDACTED in text
    assert "release notes" not in text and "Deploy done" not in text
    assert BOB in text and TEAM_CHAT in text


async def test_malformed_ids_say_what_is_wrong_and_are_not_sent_to_yunxin(bot: Bot) -> None:
    answer = await (await bot.command(f"{BOB} alice|9|bob alice|2|notanumber justtext")).reply()
    text = shown(answer)
    assert "*3* malformed" in text
    for bad in ("alice|9|bob", "alice|2|notanumber", "justtext"):
        assert bad in text
    assert "the type must be 1 (one-to-one), 2 (team) or 3 (super team)" in text
    assert "a team target must be a numeric team ID" in text
    assert "expected owner|type|target" in text
    asked = bot.yunxin.calls[0].conversation_ids
    assert asked == BOB


async def test_three_hundred_ids_are_all_answered_in_at_most_five_posts(bot: Bot) -> None:
    known = list(SAMPLE_CONVERSATIONS)
    unknown = [f"sandbox_user{n:03d}|1|sandbox_peer{n:03d}" for n in range(300 - len(known))]
    ids = known + unknown
    sent = await bot.command(" ".join(ids))
    assert not sent.delivery.timed_out
    assert "Looking up 300 conversations" in shown(sent.ack)

    answers = await sent.whole_answer()
    await bot.settle()

    assert len(answers) == len(bot.slack.posts(sent.response_url)) <= 5
    assert bot.slack.refused_posts(sent.response_url) == []
    text = all_shown(answers)
    assert [conversation_id for conversation_id in ids if conversation_id not in text] == []
    assert f"*{len(known)}* found" in text and f"*{len(unknown)}* failed" in text
    assert len(bot.yunxin.calls) == 3  # at most 100 IDs a call
    # Many conversations take the compact form: a line each, no per-conversation fields.
    assert not [block for answer in answers for block in answer["blocks"] if "fields" in block]


async def test_more_ids_than_allowed_get_a_clear_message_and_no_lookup(start_bot: BotFactory) -> None:
    async with start_bot(max_ids_per_command=3) as bot:
        sent = await bot.command(" ".join(SAMPLE_IDS[:4]))
        await bot.settle()
    text = shown(sent.ack)
    assert "4 IDs" in text and "at most 3" in text
    assert bot.api_methods() == ["auth.test"]
    assert bot.yunxin.calls == []
    assert bot.slack.posts(sent.response_url) == []


# --- the listener on its own, with fakes (tests/fakes.py) ----------------------------------------


async def test_too_many_ids_are_answered_in_the_ack_and_nothing_follows() -> None:
    slack = BoltRecorder()
    async with fake_deps(max_ids_per_command=2) as deps:
        command = slash_command_form(ORIGIN, text="a|1|b c|1|d e|1|f a|1|b")
        await conversation_command(deps, slack.ack, command, slack.respond)
    (ack,) = slack.acks
    assert ack["response_type"] == "ephemeral" and problems(ack) == []
    assert "That is 3 IDs; one command looks up at most 2." in shown(ack)  # duplicates counted once
    assert slack.replies == []


async def test_a_lookup_is_promised_in_the_ack_and_answered_at_the_response_url(deps: Deps) -> None:
    slack = BoltRecorder()
    await conversation_command(deps, slack.ack, slash_command_form(ORIGIN, text=f"{BOB} {UNKNOWN}"), slack.respond)
    (ack,) = slack.acks
    assert "Looking up 2 conversations" in shown(ack)
    (answer,) = slack.replies
    assert answer["response_type"] == "ephemeral"
    assert "*1* found" in shown(answer) and "*1* failed" in shown(answer) and SANDBOX_LABEL in shown(answer)
