"""A lookup's answer as Block Kit messages: within Slack's limits, escaped, every ID asked for shown, with
the buttons its reader needs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.actions import DETAILS_ACTION, DETAILS_PICKER_ACTION, REFRESH_ACTION, SHARE_ACTION, LookupRequest
from bot.slack.i18n import EN, translator
from bot.slack.render.kit import SANDBOX_LABEL, escape_mrkdwn
from bot.slack.render.limits import problems
from bot.slack.render.lookup import DETAILS_LEFT_OUT, render_lookup
from bot.slack.render.lookup_body import JUNK_SHOWN_MIN
from bot.yunxin.errors import ADVICE, RateLimited, RequestRejected, Timeout, Unavailable, YunxinError
from bot.yunxin.ids import InvalidId, parse_id
from bot.yunxin.models import REDACTED, ChunkFailure, Conversation, FailedConversation, LastMessage, LookupResult
from tests.messages import button_lookups, every_text

SHARED_BY = "U0SHARER1"


# The only <...> tokens the bot writes itself.
OWN_TOKEN = re.compile(r"<!date\^-?\d+\^\{date_short_pretty\} \{time\}\|[0-9T:Z-]+>|<@" + SHARED_BY + ">")


HOSTILE_PIECES = [
    "<!channel>",
    "<@U1>",
    "<!here>",
    "&",
    "&amp;",
    "<",
    ">",
    "*bold*",
    "`",
    '"',
    "\\",
    "中文",
    "😀",
    "\x01",
]


def picker_parts(messages: list[dict[str, Any]]) -> list[LookupRequest]:
    return button_lookups(messages, DETAILS_PICKER_ACTION)


def conversation(conversation_id: str, **fields: Any) -> Conversation:
    return Conversation.model_validate({"conversation_id": conversation_id, **fields})


def found_result(*conversations: Conversation, **options: Any) -> LookupResult:
    return LookupResult(requested=[str(c.conversation_id) for c in conversations], found=list(conversations), **options)


def assert_valid(messages: list[dict[str, Any]]) -> None:
    assert 1 <= len(messages) <= 5
    for message in messages:
        assert problems(message) == []


# ---- a few conversations, in detail -------------------------------------------------------


def test_one_found_conversation_is_shown_in_detail() -> None:
    item = conversation(
        "alice|2|123456",
        sender_id="alice",
        receiver_id="123456",
        type=2,
        stick_top="true",
        unread_count=3,
        create_time=1_700_000_000_000,
        update_time=1_700_000_500_123,
        group_ids=[7, 8],
        server_extension='{"topic": "launch"}',
        last_message={"message": {"message_type": 0, "text": "hello team"}},
    )
    [message] = render_lookup(found_result(item, environment="cn-prod"))
    assert_valid([message])
    text = every_text([message])
    assert message["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Yunxin conversations", "emoji": True},
    }
    assert "*1* found · environment `cn-prod`" in text
    assert "`alice|2|123456`" in text and "team" in text and ":pushpin: pinned" in text
    assert "*Owner*\n`alice`" in text and "*Team*\n`123456`" in text
    assert "*Unread*\n3" in text and "*Pinned*\nyes" in text
    assert "*Created*\n<!date^1700000000^{date_short_pretty} {time}|2023-11-14T22:13:20Z>" in text
    assert "*Updated*\n<!date^1700000500^{date_short_pretty} {time}|2023-11-14T22:21:40Z>" in text
    assert "*Groups*\n7, 8" in text
    assert '`{"topic": "launch"}`' in text
    assert "text: hello team" in text
    assert message["text"] == "Yunxin conversations: 1 found"


def test_detail_reads_the_flat_last_message_shape_and_labels_types() -> None:
    p2p = conversation("a|1|b", type=1, last_message={"message_type": 1, "message_server_id": 2**62})
    unknown = conversation("a|3|9", type=None, last_message={"message_type": 0, "text": "flat text"})
    text = every_text(render_lookup(found_result(p2p, unknown)))
    assert "one-to-one" in text and "*Peer*" in text and "last message: image" in text
    assert "super team" in text and "flat text" in text  # the type is read from the ID


def test_detail_shows_revoked_missing_and_unknown_values() -> None:
    revoked = conversation("a|1|b", message_state=1, last_message={"message": {"text": "gone"}})
    bare = conversation("a|1|c")
    text = every_text(render_lookup(found_result(revoked, bare)))
    assert "last message revoked" in text and "gone" not in text
    assert "no last message" in text
    assert "*Unread*\n—" in text and "*Created*\n—" in text and "*Pinned*\n—" in text


def test_redact_hides_message_texts_but_keeps_their_kind() -> None:
    nested = conversation("a|1|b", last_message={"message": {"message_type": 0, "text": "SECRET one"}})
    flat = conversation("a|1|c", last_message={"message_type": 0, "text": "SECRET two"})
    for result in (
        found_result(nested, flat),
        found_result(
            *[conversation(f"a|1|u{i}", last_message={"message_type": 0, "text": f"SECRET {i}"}) for i in range(50)]
        ),
    ):
        text = every_text(render_lookup(result, redact_text=True))
        assert "SECRET" not in text
        assert f"text: {REDACTED}" in text


def test_hostile_values_are_escaped_shortened_and_within_limits() -> None:
    hostile = "<!channel> <@U1> & " * 2000  # 38,000 characters
    item = conversation(
        "a|1|b",
        sender_id=hostile,
        receiver_id=hostile,
        server_extension=hostile,
        group_ids=list(range(1000)),
        last_message={"message": {"message_type": 0, "text": hostile}},
    )
    messages = render_lookup(found_result(item, item.model_copy(update={"conversation_id": "a|1|c"})))
    assert_valid(messages)
    text = every_text(messages)
    assert "<!channel>" not in text and "<@U1>" not in text
    assert "&lt;!channel&gt; &lt;@U1&gt; &amp;" in text
    assert "(1000 in all)" in text
    assert len(text) < 10_000


def test_failures_are_listed_with_their_reasons() -> None:
    result = LookupResult(
        requested=["a|1|b", "bad", "a|1|gone", "a|1|lost"],
        failed=[FailedConversation(conversation_id="a|1|gone", error_code=110404, error_msg="<not> found")],
        invalid=[InvalidId("bad", "expected owner|type|target")],
    )
    text = every_text(render_lookup(result))
    assert "`a|1|gone` · :x: failed: 110404: &lt;not&gt; found" in text
    assert "`bad` · :no_entry: malformed: expected owner|type|target" in text
    assert "`a|1|b` · :grey_question: Yunxin did not return this ID" in text
    assert "`a|1|lost` · :grey_question: Yunxin did not return this ID" in text
    assert "*0* found · *1* failed · *1* malformed · *2* unanswered" in text


def test_a_failed_call_is_explained_once_with_advice_and_trace_id() -> None:
    ids = [f"user{i}|1|peer{i}" for i in range(250)]
    first = Unavailable("code 503: <busy>", trace_id="trace-one")
    second = Timeout("no answer within 10 s", trace_id="trace-two")
    result = LookupResult(
        requested=ids,
        chunk_failures=[ChunkFailure(tuple(ids[:100]), first), ChunkFailure(tuple(ids[100:]), second)],
    )
    messages = render_lookup(result)
    assert_valid(messages)
    text = every_text(messages)
    assert text.count("Trace ID to quote:") == 2
    assert "Trace ID to quote: `trace-one`" in text and "Trace ID to quote: `trace-two`" in text
    assert "code 503: &lt;busy&gt;" in text
    assert ADVICE[Unavailable.kind] in text and ADVICE[Timeout.kind] in text
    assert all(f"`{i}`" in text for i in ids)


def test_no_ids_still_answers() -> None:
    [message] = render_lookup(LookupResult(requested=[]))
    assert_valid([message])
    assert "No conversation IDs were given." in every_text([message])


def test_max_messages_must_allow_one() -> None:
    with pytest.raises(ValueError):
        render_lookup(LookupResult(requested=["a|1|b"]), max_messages=0)


# ---- sandbox, sharing, buttons ------------------------------------------------------------


def test_sandbox_is_labelled_on_every_message() -> None:
    ids = [f"user{i}|1|peer{i}" for i in range(300)]
    found = [conversation(i, type=1, last_message={"message_type": 0, "text": "x" * 200}) for i in ids]
    messages = render_lookup(LookupResult(requested=ids, found=found, sandbox=True))
    assert len(messages) > 1
    for message in messages:
        assert SANDBOX_LABEL in every_text([message])
        assert message["text"].startswith("SANDBOX DATA")
    assert not any(SANDBOX_LABEL in every_text([m]) for m in render_lookup(LookupResult(requested=ids, found=found)))


def test_the_notification_text_is_its_own_counts_sandbox_and_language_however_often_asked() -> None:
    ids = ["a|1|b", "c|1|d"]
    one_found = LookupResult(requested=ids, found=[conversation("a|1|b", type=1)])
    both_found = LookupResult(requested=ids, found=[conversation("a|1|b", type=1), conversation("c|1|d", type=1)])
    asked = [
        (one_found, False, EN),
        (one_found, True, EN),
        (both_found, False, EN),
        (one_found, False, translator("zh_CN")),
    ]

    def texts() -> list[str]:
        made = [render_lookup(LookupResult(r.requested, r.found, sandbox=sandbox), t=t) for r, sandbox, t in asked]
        return [messages[0]["text"] for messages in made]

    first = texts()
    assert first == texts()  # and again, from what was made once
    assert first[:3] == [
        "Yunxin conversations: 1 found, 1 unanswered",
        "SANDBOX DATA — Yunxin conversations: 1 found, 1 unanswered",
        "Yunxin conversations: 2 found",
    ]
    assert first[3] not in first[:3] and "found" not in first[3]


def test_request_adds_share_and_refresh_buttons_to_the_last_message() -> None:
    request = LookupRequest(("a|1|b",), environment="cn")
    messages = render_lookup(LookupResult(requested=["a|1|b"]), request=request)
    actions = messages[-1]["blocks"][-1]
    assert actions["type"] == "actions"
    assert [(b["action_id"], b["value"]) for b in actions["elements"]] == [
        (SHARE_ACTION, request.encode()),
        (REFRESH_ACTION, request.encode()),
    ]
    assert actions["elements"][0]["text"]["text"] == "Share in channel"


# Any text JSON can hold: escapes, control characters, lone surrogates, text beyond the BMP.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)


@given(st.lists(any_text, max_size=5), st.none() | any_text)
def test_a_button_value_is_the_compact_json_of_its_lookup(ids: list[str], environment: str | None) -> None:
    request = LookupRequest(tuple(ids), environment)
    payload: dict[str, Any] = {"v": 1, "ids": ids} if environment is None else {"v": 1, "ids": ids, "env": environment}
    assert request.encode() == json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def test_a_shared_answer_names_the_sharer_and_offers_no_share_button() -> None:
    request = LookupRequest(("a|1|b",))
    messages = render_lookup(LookupResult(requested=["a|1|b"]), request=request, shared_by=SHARED_BY)
    assert f"Shared by <@{SHARED_BY}>" in every_text(messages)
    assert [b["action_id"] for b in messages[-1]["blocks"][-1]["elements"]] == [REFRESH_ACTION]


def test_a_sharer_that_is_not_a_user_id_is_escaped() -> None:
    text = every_text(render_lookup(LookupResult(requested=["a|1|b"]), shared_by="<!channel>"))
    assert "Shared by &lt;!channel&gt;" in text


def test_a_request_too_large_for_a_button_says_so() -> None:
    ids = tuple(f"user{i:04d}|1|peer{i:04d}" for i in range(200))
    request = LookupRequest(ids)
    assert request.encode() is None
    messages = render_lookup(LookupResult(requested=list(ids)), request=request)
    assert_valid(messages)
    assert not any(block["type"] == "actions" for m in messages for block in m["blocks"])
    assert "too many to share or refresh with one button" in every_text(messages[-1:])


# ---- many IDs -----------------------------------------------------------------------------


def openable_ids(messages: list[dict[str, Any]]) -> list[str]:
    """Every conversation the answer lets its reader open in Details: by its own button or a Details… list."""
    own = [
        LookupRequest.decode(block["accessory"]["value"]).ids[0]
        for message in messages
        for block in message["blocks"]
        if block.get("accessory", {}).get("action_id") == DETAILS_ACTION
    ]
    return own + [conversation_id for part in picker_parts(messages) for conversation_id in part.ids]


def test_a_compact_answer_offers_details_of_its_found_conversations_through_one_button() -> None:
    ids = [f"owner{i:02d}|1|peer{i:02d}" for i in range(40)]
    result = LookupResult(requested=ids, found=[conversation(i) for i in ids[:30]], environment="cn")
    messages = render_lookup(result, request=LookupRequest(tuple(ids), "cn"))
    assert_valid(messages)
    assert picker_parts(messages) == [LookupRequest(tuple(ids[:30]), "cn")]  # the failed IDs are not offered
    *_, picker_row, closing = [block for block in messages[-1]["blocks"] if block["type"] == "actions"]
    assert [(e["action_id"], e["text"]["text"]) for e in picker_row["elements"]] == [
        (DETAILS_PICKER_ACTION, "Details…")
    ]
    assert [e["action_id"] for e in closing["elements"]] == [SHARE_ACTION, REFRESH_ACTION]
    detailed = render_lookup(LookupResult(requested=ids[:2], found=[conversation(ids[0])]), request=LookupRequest(()))
    assert picker_parts(detailed) == [] and openable_ids(detailed) == [ids[0]]


def test_every_one_of_400_found_conversations_can_be_opened_in_details() -> None:
    ids = [f"sandbox_user_{i:03d}|1|sandbox_peer_{i:03d}" for i in range(400)]
    found = [conversation(i, type=1, last_message={"message": {"message_type": 0, "text": "hi " * 90}}) for i in ids]
    request = LookupRequest(tuple(ids), "prod")
    assert request.encode() is None  # far too many for the one value Refresh would carry
    messages = render_lookup(LookupResult(requested=ids, found=found, environment="prod"), request=request)
    assert_valid(messages)
    parts = picker_parts(messages)
    assert len(parts) > 1 and openable_ids(messages) == ids
    assert {part.environment for part in parts} == {"prod"}
    labels = [
        e["text"]["text"]
        for m in messages
        for b in m["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == DETAILS_PICKER_ACTION  # the Download CSV parts have rows of their own
    ]
    assert labels[0] == f"Details 1–{len(parts[0].ids)} of 400 found" and labels[-1].endswith("–400 of 400 found")
    assert DETAILS_LEFT_OUT not in every_text(messages)


def test_300_ids_all_appear_within_five_messages() -> None:
    ids = [f"account_{i:03d}.owner@x|{1 + i % 3}|{'peer' if i % 3 == 0 else ''}{i:06d}" for i in range(300)]
    found = [
        conversation(
            i.lower(), unread_count=i.count("1"), stick_top=True, last_message={"message": {"text": "hi " * 90}}
        )
        for i in ids[::2]
    ]
    failed = [
        FailedConversation(conversation_id=i, error_code=414, error_msg="no such conversation") for i in ids[1::4]
    ]
    result = LookupResult(requested=ids, found=found, failed=failed, sandbox=True)
    messages = render_lookup(result, request=LookupRequest(tuple(ids)))
    assert_valid(messages)
    text = every_text(messages)
    assert all(f"`{i}`" in text for i in ids)
    assert "*150* found · *75* failed · *75* unanswered" in text


WORST_TEXT = '<!channel>&\x01"' * 3000  # grows the most when escaped and written as JSON


def longest_id(index: int, kind: int) -> str:
    """A valid ID of the greatest length (67 characters), unique by index."""
    owner = f"{index:03d}" + "o" * 29
    target = f"{index:03d}" + "p" * 29 if kind == 1 else "9" * 16 + f"{index:03d}"
    return f"{owner}|{kind}|{target}"


@pytest.mark.parametrize("mix", [(400, 0, 0, 0), (0, 400, 0, 0), (0, 0, 400, 0), (0, 0, 0, 400), (100, 100, 100, 100)])
def test_400_of_the_longest_ids_with_the_worst_values_all_fit(mix: tuple[int, int, int, int]) -> None:
    found_count, failed_count, junk_count, unanswered_count = mix
    result = LookupResult(requested=[], sandbox=True, environment=WORST_TEXT)
    index = iter(range(400))
    for i in (next(index) for _ in range(found_count)):
        result.requested.append(longest_id(i, 1))
        fields = {"sender_id": WORST_TEXT, "receiver_id": WORST_TEXT, "unread_count": 10**12, "stick_top": True}
        last = {"message": {"message_type": 0, "text": WORST_TEXT}}
        result.found.append(conversation(longest_id(i, 1), type=1, last_message=last, **fields))
    for i in (next(index) for _ in range(failed_count)):
        result.requested.append(longest_id(i, 2))
        result.failed.append(
            FailedConversation(conversation_id=longest_id(i, 2), error_code=1, error_msg=f"{WORST_TEXT}{i}")
        )
    for i in (next(index) for _ in range(junk_count)):
        result.requested.append(f"{i}#" + "\x01" * 400)
        result.invalid.append(InvalidId(result.requested[-1], f"{WORST_TEXT}{i}"))
    unanswered = [longest_id(i, 3) for i in (next(index) for _ in range(unanswered_count))]
    result.requested.extend(unanswered)
    result.chunk_failures = [
        ChunkFailure(tuple(unanswered[k::4]), Unavailable(WORST_TEXT, trace_id=f"{WORST_TEXT[:200]}{k}"))
        for k in range(4)
        if unanswered[k::4]
    ]
    request = LookupRequest(tuple(result.requested), WORST_TEXT)
    messages = render_lookup(result, request=request, shared_by=SHARED_BY)
    assert_valid(messages)
    text = every_text(messages)
    assert_every_id_shown(result, text)
    assert "more IDs not shown" not in text


def test_details_that_cannot_fit_the_answer_are_said_to_be_left_out() -> None:
    ids = [longest_id(i, 1) for i in range(400)]  # each ID twice, in the list and a button, is too much
    result = LookupResult(requested=ids, found=[conversation(i) for i in ids])
    messages = render_lookup(result, request=LookupRequest(tuple(ids)))
    assert_valid(messages)
    assert picker_parts(messages) == [] and DETAILS_LEFT_OUT in every_text(messages[-1:])
    assert all(f"`{i}`" in every_text(messages) for i in ids)


def test_beyond_what_fits_the_answer_says_how_many_ids_are_left_out() -> None:
    ids = [f"account_{i:03d}_padding_padding|1|peer_{i:03d}_padding_padding" for i in range(400)]
    messages = render_lookup(LookupResult(requested=ids), max_messages=1)
    assert_valid(messages)
    assert len(messages) == 1
    text = every_text(messages)
    match = re.search(r"…and (\d+) more IDs not shown", text)
    assert match is not None
    assert sum(f"`{i}`" in text for i in ids) + int(match.group(1)) == 400


# ---- property: any lookup result renders within limits, escaped, complete ---------------------


ACCOUNT_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@.-")


hostile_piece = st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=4))


hostile_text = st.one_of(
    st.none(),
    st.lists(hostile_piece, max_size=12).map("".join),
    st.builds(lambda piece, times: piece * times, st.sampled_from(HOSTILE_PIECES), st.integers(1, 3000)),
)


# Junk as Slack text can hold it: no whitespace, commas or semicolons (those separate IDs).
junk_text = st.one_of(
    st.lists(st.sampled_from([*HOSTILE_PIECES, "|", "a|9|b", "x" * 40]), max_size=40).map("".join),
    st.text(st.characters(blacklist_categories=("Zs", "Cc"), blacklist_characters=",，、;；"), max_size=50),
).map(lambda text: "".join(text.split()))


# Long runs of the characters that grow most when escaped or written as JSON.
heavy_junk_text = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["&", "<", "\x01", '"', "\\", "<!channel>", "中"]),
    st.integers(16, 400),
)


millis = st.one_of(st.none(), st.integers(-5, 4_102_444_800_000), st.just(10**20))


last_messages = st.one_of(
    st.none(),
    st.just({}),
    st.fixed_dictionaries(
        {
            "message": st.fixed_dictionaries(
                {"message_type": st.sampled_from([None, 0, 1, 100, 77]), "text": hostile_text}
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "message_type": st.sampled_from([None, 0, 6]),
            "text": hostile_text,
            "message_server_id": st.integers(0, 2**63 - 1),
            "create_time": millis,
        }
    ),
)


conversation_fields = st.fixed_dictionaries(
    {
        "sender_id": hostile_text,
        "receiver_id": hostile_text,
        "type": st.sampled_from([None, 1, 2, 3, 9, "2"]),
        "stick_top": st.sampled_from([None, True, False, "true", "false", "maybe"]),
        "unread_count": st.one_of(st.none(), st.integers(-1, 10**12)),
        "message_state": st.sampled_from([None, 0, 1]),
        "create_time": millis,
        "update_time": millis,
        "group_ids": st.one_of(
            st.none(), st.lists(st.integers(0, 2**63), max_size=5), st.integers(0, 1000).map(lambda n: list(range(n)))
        ),
        "server_extension": st.one_of(hostile_text, st.dictionaries(st.text(max_size=5), hostile_text, max_size=3)),
        "last_message": last_messages,
        "revoke_notification": st.one_of(st.none(), st.just({"server_id": 1, "attach": "<!channel>"})),
    }
)


ERROR_TYPES = [Unavailable, Timeout, RateLimited, RequestRejected, YunxinError]


errors = st.builds(
    lambda kind, detail, trace: kind(detail or "", trace_id=trace),
    st.sampled_from(ERROR_TYPES),
    hostile_text,
    st.one_of(st.none(), st.uuids().map(str), st.lists(hostile_piece, max_size=6).map("".join)),
)


STATUSES = ["found", "failed", "malformed", "unanswered"]


@st.composite
def lookup_results(draw: st.DrawFn, max_ids: int = 400, heavy: bool = False) -> LookupResult:
    """A random lookup; `heavy` ones have 300 to 400 IDs and long hostile junk and reasons."""
    count = draw(st.integers(300, max_ids) if heavy else st.integers(1, max_ids))
    pattern = draw(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8))
    stem = draw(st.lists(ACCOUNT_CHARS, max_size=28).map("".join))
    templates = draw(st.lists(conversation_fields, min_size=1, max_size=4))
    junk = draw(st.lists(heavy_junk_text if heavy else junk_text, min_size=1, max_size=4))
    reasons = heavy_junk_text if heavy else hostile_text
    failures = draw(st.lists(st.tuples(st.integers(-1, 10**6), reasons), min_size=1, max_size=4))
    distinct_reasons = draw(st.booleans())
    chunk_errors = draw(st.lists(errors, max_size=4))
    result = LookupResult(requested=[], sandbox=draw(st.booleans()), environment=draw(hostile_text))
    unanswered: list[list[str]] = [[] for _ in chunk_errors]
    for index in range(count):
        status = pattern[index % len(pattern)]
        if status == "malformed":
            raw = f"{index}#{junk[index % len(junk)]}"
            result.requested.append(raw)
            reason = draw(reasons) or "bad"
            result.invalid.append(InvalidId(raw, f"{reason}{index}" if distinct_reasons else reason))
            continue
        kind = 1 + index % 3
        target = f"{stem}{index}"[-32:] if kind == 1 else f"{index}{'9' * (index % 17)}"
        conversation_id = f"{(stem + str(index))[-32:]}|{kind}|{target}"
        result.requested.append(conversation_id)
        if status == "found":
            fields = templates[index % len(templates)]
            result.found.append(Conversation.model_validate({**fields, "conversation_id": conversation_id.lower()}))
        elif status == "failed":
            code, message = failures[index % len(failures)]
            message = f"{message}{index}" if distinct_reasons else message
            result.failed.append(
                FailedConversation(conversation_id=conversation_id, error_code=code, error_msg=message)
            )
        elif chunk_errors and index % (len(chunk_errors) + 1):
            unanswered[index % (len(chunk_errors) + 1) - 1].append(conversation_id)
    result.chunk_failures = [
        ChunkFailure(tuple(ids), e) for ids, e in zip(unanswered, chunk_errors, strict=True) if ids
    ]
    return result


def assert_every_id_shown(result: LookupResult, text: str) -> None:
    for requested in result.requested:
        if isinstance(parse_id(requested), InvalidId):
            # Junk is never a conversation ID; the densest layout shows its start.
            assert f"`{escape_mrkdwn(requested[: JUNK_SHOWN_MIN - 1])}" in text, requested
        else:
            assert f"`{requested}`" in text, requested


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    result=st.one_of(lookup_results(), lookup_results(heavy=True)),
    redact=st.booleans(),
    with_request=st.booleans(),
    shared_by=st.sampled_from([None, SHARED_BY]),
)
def test_any_result_renders_within_limits_escaped_and_complete(
    result: LookupResult, redact: bool, with_request: bool, shared_by: str | None
) -> None:
    request = LookupRequest(tuple(result.requested), result.environment) if with_request else None
    messages = render_lookup(result, redact_text=redact, request=request, shared_by=shared_by)

    assert_valid(messages)
    text = every_text(messages)
    assert_every_id_shown(result, text)
    assert "more IDs not shown" not in text
    leftover = OWN_TOKEN.sub("", text)
    assert "<" not in leftover and ">" not in leftover
    for message in messages:
        assert message["text"].strip() and "\n" not in message["text"]
        assert (SANDBOX_LABEL in every_text([message])) == result.sandbox
    if request is not None and request.encode() is not None:
        actions = [block for block in messages[-1]["blocks"] if block["type"] == "actions"][-1]
        expected = [REFRESH_ACTION] if shared_by else [SHARE_ACTION, REFRESH_ACTION]
        assert [e["action_id"] for e in actions["elements"] if e["type"] == "button"] == expected
    found_ids = [o.conversation_id for o in result.outcomes() if o.status == "found"]
    if request is None or not found_ids:
        assert picker_parts(messages) == []
    elif LookupRequest(found_ids[:1], request.environment).encode() is not None:
        # Every found conversation can be opened in Details, or the answer says why not.
        assert openable_ids(messages) == found_ids or DETAILS_LEFT_OUT in text
        assert {part.environment for part in picker_parts(messages)} <= {request.environment}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(result=lookup_results(max_ids=5), flat=st.booleans())
def test_few_results_are_detailed_and_redaction_hides_every_text(result: LookupResult, flat: bool) -> None:
    secret = (
        {"message_type": 0, "text": "SECRETTEXT"} if flat else {"message": {"message_type": 0, "text": "SECRETTEXT"}}
    )
    result.found = [c.model_copy(update={"last_message": LastMessage.model_validate(secret)}) for c in result.found]
    messages = render_lookup(result, redact_text=True)
    assert_valid(messages)
    text = every_text(messages)
    assert "SECRETTEXT" not in text
    assert_every_id_shown(result, text)
    if any(not c.is_revoked for c in result.found):
        assert f"text: {REDACTED}" in text
    detailed = [b for m in messages for b in m["blocks"] if "fields" in b]
    assert len(detailed) == len(result.found)
