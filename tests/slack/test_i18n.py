"""The reader's language: the catalog holds a real translation of every text the code marks, the compiled
catalog is the one its .po says, the texts written outside the Slack layer are translated where people read
them, and the locale chosen is the one Slack gives (zh-CN Simplified Chinese, en English, DEFAULT_LOCALE
otherwise)."""

from __future__ import annotations

import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from bot.slack import i18n
from bot.slack.i18n import EN, for_locale, locale_name, translator
from bot.slack.i18n.outside import FIXED, translate_outside
from bot.yunxin.errors import (
    ADVICE,
    BreakerOpen,
    CallsPaused,
    CredentialsRejected,
    MalformedResponse,
    RateLimited,
    RequestRejected,
    Timeout,
    Unavailable,
    YunxinError,
)
from bot.yunxin.ids import parse_id
from bot.yunxin.service import UnknownEnvironment

SLACK_DIR = Path(i18n.__file__).resolve().parents[1]
PO = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
ZH = translator("zh_CN")
HAN = re.compile(r"[\u4e00-\u9fff]")
# Texts whose translation may keep their English: names and codes (kept untranslated on purpose).
SAME_IN_BOTH = {"ID"}


def extracted() -> dict[str, tuple[str, ...]]:
    """Every text the code marks for translation (gettext, ngettext, N_), as Babel extracts it: msgid -> forms."""
    found: dict[str, tuple[str, ...]] = {}
    method_map = [("**.py", "python")]
    for _file, _line, message, _comments, _context in extract_from_dir(str(SLACK_DIR), method_map):
        forms = message if isinstance(message, tuple) else (message,)
        found[forms[0]] = tuple(forms)
    return found


def po_catalog() -> Catalog:
    with PO.open("rb") as file:
        return read_po(file)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_marked_text_has_a_chinese_translation() -> None:
    catalog = po_catalog()
    missing, fuzzy, untranslated, wrong_fields = [], [], [], []
    for msgid, forms in extracted().items():
        entry = catalog.get(forms if len(forms) > 1 else msgid)
        if entry is None:
            missing.append(msgid)
            continue
        if entry.fuzzy:
            fuzzy.append(msgid)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings) or (msgid not in SAME_IN_BOTH and not all(HAN.search(s) for s in strings)):
            untranslated.append(msgid)
        if any(fields(s) != fields(msgid) for s in strings):
            wrong_fields.append(msgid)
    hint = "extract and update the catalog as README's Languages section says, then translate"
    assert missing == [], f"not in {PO.name} ({hint}): {missing}"
    assert fuzzy == [] and untranslated == [], f"fuzzy {fuzzy}, untranslated {untranslated}"
    assert wrong_fields == [], f"translations with other placeholders than their English: {wrong_fields}"


def test_the_compiled_catalog_is_the_po_compiled() -> None:
    catalog = po_catalog()
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    with MO.open("rb") as file:
        committed = read_mo(file)
    fresh = read_mo(io.BytesIO(compiled.getvalue()))

    def messages(catalog: Catalog) -> dict[object, object]:
        return {_key(m.id): _key(m.string) for m in catalog if m.id}

    assert messages(committed) == messages(fresh), (
        "messages.mo is not messages.po compiled: run the compile step of README's Languages section"
    )


def test_translations_use_the_agreed_words() -> None:
    for english, chinese in [
        ("one-to-one", "单聊"),
        ("team", "群组"),
        ("super team", "超大群"),
        ("Yunxin conversations", "云信会话"),
    ]:
        assert ZH.gettext(english) == chinese
    trace = ZH.gettext("Trace ID to quote: {trace}")
    assert "追踪 ID" in trace
    # Command names, codes and IDs stay as they are.
    usage = ZH.gettext(
        "*Usage:* `{command} ID [ID …]`\nEach ID is `owner|type|target`: the owner's account, "
        "the conversation type, and its target.\n• `1` one-to-one: the target is the peer's account, "
        "e.g. `alice|1|bob`\n• `2` team: the target is the numeric team ID, e.g. `alice|2|123456`\n"
        "• `3` super team: the target is the numeric super team ID, e.g. `alice|3|7890`\n"
        "Separate IDs with spaces, commas or new lines."
    )
    assert "`owner|type|target`" in usage and "`alice|1|bob`" in usage and "{command}" in usage


ERRORS = [
    YunxinError("x"),
    CredentialsRejected("x"),
    RequestRejected("x"),
    RateLimited("x"),
    Unavailable("x"),
    Timeout("x"),
    MalformedResponse("x"),
    CallsPaused(7.2, trace_id="t"),
    BreakerOpen(30, trace_id="t", failures=5),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: type(error).__name__)
def test_every_error_title_and_advice_is_translated(error: YunxinError) -> None:
    for text in (error.title, ADVICE.get(error.kind, ADVICE[YunxinError.kind])):
        assert translate_outside(text, EN) == text
        chinese = translate_outside(text, ZH)
        assert HAN.search(chinese), f"untranslated: {text}"
    if isinstance(error, CallsPaused | BreakerOpen):
        assert str(error.seconds) in translate_outside(error.title, ZH)


def test_the_fixed_outside_texts_are_still_written_where_they_are_marked() -> None:
    """FIXED repeats texts other modules write: each must still be written there, or its translation is dead."""
    sources = "".join(
        path.read_text(encoding="utf-8")
        for path in [*SLACK_DIR.parent.joinpath("yunxin").glob("*.py"), SLACK_DIR / "access.py"]
    )
    flattened = re.sub(r'"\s*\n\s*"', "", sources)  # implicit concatenation across lines
    stale = [text for text in FIXED if text not in flattened and text not in set(ADVICE.values())]
    assert stale == []


@pytest.mark.parametrize(
    "raw",
    ["alice", "alice|4|bob", "|1|bob", "a" * 40 + "|1|bob", "al ice|1|bob", "alice|1|", "alice|2|abc", "alice|3|x"],
)
def test_every_reason_an_id_is_malformed_is_translated(raw: str) -> None:
    problem = parse_id(raw)
    reason = getattr(problem, "reason", None)
    assert reason is not None
    assert HAN.search(translate_outside(reason, ZH)), reason


def test_access_failures_and_unknown_environments_are_translated() -> None:
    for text in [
        "Slack is rate limiting the access check (users.info); try again in 7 s.",
        "Slack is rate limiting the access check (users.info); try again in a minute.",
        "Slack answered HTTP 502 to users.info; try again in a minute.",
        "Slack answered fatal_error to users.info; try again in a minute.",
        "the app lacks a Slack scope for users.info; reinstall it from the manifest.",
        "could not reach Slack to check access (usergroups.users.list); try again in a minute.",
        "you are not on the list of people allowed to query the prod environment",
        str(UnknownEnvironment("qa", ["prod", "staging"])),
    ]:
        chinese = translate_outside(text, ZH)
        assert HAN.search(chinese), text
        for value in re.findall(r"users\.info|usergroups\.users\.list|\b7\b|502|fatal_error|prod|'qa'", text):
            assert value in chinese


def test_text_nobody_translated_is_shown_as_it_came() -> None:
    assert translate_outside("code 416: api freq control", ZH) == "code 416: api freq control"


@pytest.mark.parametrize(
    ("slack", "ours"),
    [
        ("zh-CN", "zh_CN"),
        ("zh_CN", "zh_CN"),
        ("zh-Hans", "zh_CN"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("zh-TW", None),
        ("ja-JP", None),
        ("", None),
        (None, None),
    ],
)
def test_slack_locales_map_to_ours(slack: str | None, ours: str | None) -> None:
    assert locale_name(slack) == ours


def test_a_locale_without_texts_reads_the_default() -> None:
    assert for_locale("ja-JP", "zh_CN") is ZH
    assert for_locale("en-US", "zh_CN") is EN
    assert for_locale(None) is EN


def _key(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


# ---- through the whole app: the reader's language ---------------------------------------------------

from tests.harness import BOB, UNKNOWN, Bot, BotFactory  # noqa: E402
from tests.messages import shown  # noqa: E402

ZH_USER = "U0ZHONGWEN"


async def test_a_zh_cn_user_reads_the_answer_and_the_help_in_chinese(bot: Bot) -> None:
    bot.slack.add_user(ZH_USER, locale="zh-CN")
    sent = await bot.command(f"{BOB} {UNKNOWN}", user=ZH_USER)
    # The ack goes before users.info (at once): their locale is not known yet, so DEFAULT_LOCALE's.
    assert "Looking up 2 conversations" in shown(sent.ack)
    (answer,) = await sent.replies()
    text = shown(answer)
    assert "云信会话" in text and "*1* 已找到 · *1* 失败" in text and "单聊" in text
    assert "分享到频道" in text and "刷新" in text and "下载 CSV" in text
    assert "110404: conversation not exist" in text  # Yunxin's own words, as it sent them
    ((_, _, params),) = [call for call in bot.slack.api_calls if call[1] == "users.info"]
    assert params.get("include_locale") in ("true", "1", True)

    help_text = shown((await bot.command("help", user=ZH_USER)).ack)  # now cached: the ack is theirs too
    assert "查询云信会话" in help_text and "*用法：*`/conversation ID [ID …]`" in help_text
    assert "Looking up" not in shown((await bot.command(BOB, user=ZH_USER)).ack)


async def test_an_answer_shared_in_the_channel_is_in_the_default_locale(bot: Bot) -> None:
    bot.slack.add_user(ZH_USER, locale="zh-CN")
    answer = await (await bot.command(BOB, user=ZH_USER)).reply()
    assert "云信会话" in shown(answer)
    shared = await (await bot.click_share(answer, user=ZH_USER)).reply()
    assert shared["response_type"] == "in_channel"
    assert "Yunxin conversations" in shown(shared) and "云信" not in shown(shared)


async def test_default_locale_chinese_speaks_chinese_until_a_locale_says_otherwise(start_bot: BotFactory) -> None:
    async with start_bot(default_locale="zh_CN") as bot:
        bot.slack.add_user(ZH_USER, locale="ja-JP")  # no texts in Japanese: DEFAULT_LOCALE's
        sent = await bot.command(BOB, user=ZH_USER)
        assert "正在查询 1 个会话…" in shown(sent.ack)
        assert "云信会话" in shown(await sent.reply())
        english = await (await bot.command(BOB)).reply()  # MEMBER's Slack is en-US
        assert "Yunxin conversations" in shown(english)


async def test_a_refusal_is_in_the_refused_persons_language(bot: Bot) -> None:
    bot.slack.add_user(ZH_USER, locale="zh-CN", is_restricted=True)
    refusal = shown(await (await bot.command(BOB, user=ZH_USER)).reply())
    assert "你不能在这里查询云信会话。" in refusal and "访客账号不能查询会话" in refusal
