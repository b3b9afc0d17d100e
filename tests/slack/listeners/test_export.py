"""Download CSV, clicked as Slack sends a click: the clicker passes the same checks as the command, the
lookup runs again for them, and the file (every ID, its outcome, the summary fields, the failure codes and
messages, the trace IDs; message texts redacted when asked; no live formula) goes to their direct message
with the bot, uploaded as files_upload_v2 uploads, never to the channel."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.slack.actions import EXPORT_ACTION, LookupRequest
from bot.slack.render.csv import BOM, COLUMNS
from bot.standins.slack import UploadedFile
from tests.harness import BOB, CHANNEL, GUEST, MEMBER, SECOND_MEMBER, TEAM_CHAT, UNKNOWN, Bot, BotFactory
from tests.messages import button_value, shown

JUNK = "=HYPERLINK(evil)"
DASHED = "-owner|1|peer"  # a valid ID that a spreadsheet would read as a formula


def rows_of(upload: UploadedFile) -> list[dict[str, str]]:
    assert upload.text.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(upload.text[len(BOM) :])))
    assert rows and list(rows[0]) == list(COLUMNS)
    return rows


async def download(bot: Bot, answer: dict[str, Any], **who: Any) -> str:
    """Click the answer's Download CSV; what the clicker is told where they clicked."""
    sent = await bot.press(EXPORT_ACTION, button_value(answer, EXPORT_ACTION), **who)
    (notice,) = await sent.replies()
    assert notice.get("response_type", "ephemeral") == "ephemeral"
    return shown(notice)


async def test_the_csv_goes_to_the_clickers_direct_message_with_every_id(bot: Bot) -> None:
    asked = [BOB, TEAM_CHAT, UNKNOWN, JUNK, DASHED]
    answer = await (await bot.command(" ".join(asked))).reply()
    assert LookupRequest.decode(button_value(answer, EXPORT_ACTION)).ids == tuple(asked)
    calls_before = len(bot.yunxin.calls)

    told = await download(bot, answer, user=SECOND_MEMBER)

    assert "direct messages" in told
    assert len(bot.yunxin.calls) > calls_before  # looked up again for the clicker
    (upload,) = bot.slack.files_for(SECOND_MEMBER)
    assert bot.slack.files_for(MEMBER) == [] and bot.slack.messages == []
    assert upload.channel_id == bot.slack.dm_channel(SECOND_MEMBER) and upload.channel_id != CHANNEL
    assert upload.filename.endswith(".csv") and upload.length == len(upload.content or b"")
    rows = rows_of(upload)
    assert [row["id"] for row in rows] == [BOB, TEAM_CHAT, UNKNOWN, "'" + JUNK, "'" + DASHED]
    assert [row["outcome"] for row in rows] == ["found", "found", "failed", "malformed", "failed"]
    bob, team, unknown, junk, _ = rows
    assert (bob["type"], bob["owner"], bob["peer_or_team"], bob["unread"], bob["pinned"]) == (
        "one-to-one",
        "sandbox_alice",
        "sandbox_bob",
        "2",
        "true",
    )
    assert bob["updated"] == "2026-03-02T09:15:03Z" and "release notes" in bob["last_message_text"]
    assert "<!channel>" in team["last_message_text"]  # a file pings nobody: the text as stored
    assert (unknown["error_code"], unknown["error_message"]) == ("110404", "conversation not exist")
    assert junk["error_code"] == "malformed" and junk["error_message"]
    last_lookup = bot.yunxin.trace_ids[calls_before:]
    assert all(row["lookup_trace_ids"].split() == last_lookup for row in rows)
    methods = bot.api_methods()
    assert methods[-3:] == ["conversations.open", "files.getUploadURLExternal", "files.completeUploadExternal"]


async def test_failed_calls_are_in_the_file_with_their_code_and_trace_id(bot: Bot) -> None:
    answer = await (await bot.command(f"{BOB} {UNKNOWN}")).reply()
    bot.yunxin.fail_next(416, "api freq control")
    await download(bot, answer)
    (upload,) = bot.slack.files_for(MEMBER)
    rows = rows_of(upload)
    assert {row["outcome"] for row in rows} == {"unanswered"}
    assert {row["error_code"] for row in rows} == {"416"}
    assert {row["trace_id"] for row in rows} == {bot.yunxin.trace_ids[-1]}
    assert all("api freq control" in row["error_message"] for row in rows)


async def test_redaction_holds_in_the_file(start_bot: BotFactory) -> None:
    async with start_bot(redact_message_text=True) as bot:
        answer = await (await bot.command(f"{BOB} {TEAM_CHAT}")).reply()
        await download(bot, answer)
        (upload,) = bot.slack.files_for(MEMBER)
        assert "release notes" not in upload.text and "Deploy done" not in upload.text
        assert {row["last_message_text"] for row in rows_of(upload)} == {"[hidden]"}


async def test_a_guest_clicking_download_is_refused_and_gets_no_file(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    calls_before = len(bot.yunxin.calls)
    told = await download(bot, answer, user=GUEST)
    assert "guest" in told
    assert bot.slack.files == [] and len(bot.yunxin.calls) == calls_before


async def test_a_failed_upload_is_said_and_nothing_is_posted_in_the_channel(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    bot.slack.fail_method("files.completeUploadExternal", error="not_allowed_token_type", times=1)
    told = await download(bot, answer)
    assert "Couldn't send you the file" in told and "not_allowed_token_type" in told
    assert bot.slack.files == [] and bot.slack.messages == []


async def test_an_answer_without_found_or_failed_ids_offers_no_download(bot: Bot) -> None:
    bot.yunxin.fail_next(503, "busy")
    answer = await (await bot.command(BOB)).reply()
    assert EXPORT_ACTION not in [
        element["action_id"]
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


async def test_the_stand_in_takes_only_the_upload_announced(bot: Bot) -> None:
    """Strict as Slack: the bytes announced, a file uploaded before it is completed, a DM as the channel."""
    import httpx

    slack = bot.slack
    async with httpx.AsyncClient() as http:
        headers = {"Authorization": "Bearer xoxb-test-bot-token-8d1e"}

        async def call(method: str, **params: Any) -> dict[str, Any]:
            return (await http.post(slack.api_url + method, data=params, headers=headers)).json()

        grant = await call("files.getUploadURLExternal", filename="a.csv", length="5")
        assert (await http.post(grant["upload_url"], content=b"toolong")).status_code == 400
        files = f'[{{"id": "{grant["file_id"]}"}}]'
        assert (await call("files.completeUploadExternal", files=files, channel_id=CHANNEL))["error"] in (
            "file_upload_incomplete",
            "channel_not_found",
        )
        assert (await http.post(grant["upload_url"], content=b"12345")).status_code == 200
        assert (await call("files.completeUploadExternal", files=files, channel_id=CHANNEL))["error"] == (
            "channel_not_found"
        )
        dm = (await call("conversations.open", users=MEMBER))["channel"]["id"]
        assert (await call("files.completeUploadExternal", files=files, channel_id=dm))["ok"] is True
        assert (await call("files.completeUploadExternal", files=files, channel_id=dm))["error"] == "file_not_found"
        bad_token = await http.post(slack.api_url + "conversations.open", data={"users": MEMBER, "token": "xoxb-no"})
        assert bad_token.json()["error"] == "invalid_auth"
    assert slack.files_for(MEMBER)[0].content == b"12345"


async def test_a_part_of_a_long_answer_downloads_that_part(bot: Bot) -> None:
    asked = [BOB, *(f"sandbox_user{n:03d}|1|sandbox_peer{n:03d}" for n in range(120))]
    sent = await bot.command(" ".join(asked))
    answers = await sent.whole_answer()
    values = [
        element["value"]
        for answer in answers
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == EXPORT_ACTION
    ]
    parts = [LookupRequest.decode(value) for value in values]
    assert len(parts) > 1 and [i for part in parts for i in part.ids] == asked
    second = await bot.press(EXPORT_ACTION, values[1])
    assert "direct messages" in shown(await second.reply())
    (upload,) = bot.slack.files_for(MEMBER)
    assert [row["id"] for row in rows_of(upload)] == list(parts[1].ids)
