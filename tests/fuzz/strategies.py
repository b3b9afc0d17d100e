"""Hypothesis strategies for what the bot reads from outside: command text typed into Slack, and Yunxin's
answers, both well-typed per the models and plain random JSON."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bot.yunxin.sandbox import SAMPLE_IDS

# Every separator the command accepts, and the characters that make a conversation ID.
SEPARATORS = " ,\n\t\r，、;；\u3000"
ACCOUNT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@.-"

# Any text, control characters and lone surrogates' neighbours included (surrogates themselves cannot
# travel in a Slack form body encoded as UTF-8).
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
control_text = st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=200)

accounts = st.text(ACCOUNT_CHARS, min_size=1, max_size=34)  # up to 2 over the 32-character limit
team_ids = st.integers(min_value=0, max_value=10**20).map(str)
conversation_ids = st.one_of(
    st.builds(lambda a, b: f"{a}|1|{b}", accounts, accounts),
    st.builds(lambda a, kind, t: f"{a}|{kind}|{t}", accounts, st.sampled_from("23"), team_ids),
    st.sampled_from(SAMPLE_IDS),
    st.text(ACCOUNT_CHARS + "|", max_size=40),  # malformed: wrong number of parts, empty parts
)


@st.composite
def separated(draw: st.DrawFn, items: st.SearchStrategy[str], max_items: int) -> str:
    """Items joined by random runs of separators, as people paste them."""
    chosen = draw(st.lists(items, max_size=max_items))
    glue = st.text(SEPARATORS, min_size=1, max_size=3)
    return "".join(item + draw(glue) for item in chosen)


command_texts = st.one_of(
    any_text,
    control_text,
    separated(conversation_ids, max_items=40),
    separated(st.one_of(conversation_ids, any_text, st.sampled_from(["--env", "--env=", "--x", "help"])), 20),
    st.builds(lambda n, c: c * n, st.integers(1000, 10_000), st.sampled_from([*SEPARATORS, "|", "a", "é"])),
    # Around the 400-ID limit, each ID its own, some found in the sandbox.
    st.builds(
        lambda owner, count, sep: sep.join([*SAMPLE_IDS, *(f"{owner[:20]}{n}|1|peer" for n in range(count))]),
        accounts,
        st.integers(380, 420),
        st.sampled_from([" ", ",", "\n", ", "]),
    ),
    # 10,000 characters of anything (Hypothesis draws at most a few thousand, so a drawn piece repeats).
    st.builds(lambda piece: (piece * (10_000 // len(piece) + 1))[:10_000], st.text(min_size=1, max_size=500)),
)

# --- Yunxin's answers ---------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False), any_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(any_text, children, max_size=5),
    max_leaves=30,
)


def loosely(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's proper type most of the time, anything JSON now and then (Yunxin's fields vary)."""
    return st.one_of(strategy, strategy, strategy, json_scalars)


millis = st.integers(min_value=-(2**63), max_value=2**63)
big_ints = st.integers(min_value=-(2**63), max_value=2**64)
string_bools = st.sampled_from([True, False, "true", "false", "True", "1", "0", "", "yes", None])


def _object(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with any subset of `fields`, each value drawn loosely."""
    return st.fixed_dictionaries({}, optional={name: loosely(value) for name, value in fields.items()})


nested_last_message = _object(
    {
        "sender_no_sense": string_bools,
        "receiver_no_sense": string_bools,
        "extension": any_text,
        "message": _object(
            {
                "message_type": st.integers(-1, 200),
                "sub_type": big_ints,
                "text": any_text,
                "attachment": json_values,
            }
        ),
        "push_config": json_values,
    }
)
flat_last_message = _object(
    {
        "message_server_id": big_ints,
        "message_client_id": any_text,
        "sender_id": any_text,
        "conversation_type": st.integers(0, 4),
        "receiver_id": any_text,
        "team_id": big_ints,
        "message_type": st.integers(-1, 200),
        "sub_type": big_ints,
        "create_time": millis,
        "text": st.text(max_size=5000),
        "attachment": json_values,
        "extension": any_text,
    }
)


def conversation(conversation_id: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return _object(
        {
            "conversation_id": conversation_id,
            "sender_id": any_text,
            "receiver_id": any_text,
            "type": st.integers(0, 4),
            "stick_top": string_bools,
            "group_ids": st.lists(big_ints, max_size=200),
            "server_extension": st.one_of(any_text, json_values),
            "message_state": st.integers(0, 2),
            "last_message": st.one_of(nested_last_message, flat_last_message, st.just({})),
            "revoke_notification": _object(
                {"server_id": big_ints, "attach": any_text, "revoke_id": any_text, "custom_info": any_text}
            ),
            "unread_count": big_ints,
            "sort_order": millis,
            "create_time": millis,
            "update_time": millis,
            "last_read_time": millis,
            "an_unknown_field": json_values,
        }
    )


def failed_entry(conversation_id: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return _object({"conversation_id": conversation_id, "error_code": big_ints, "error_msg": any_text})


@st.composite
def answers_for(draw: st.DrawFn, asked: list[str]) -> Any:
    """Yunxin's answer to a call asking for `asked`: usually the envelope with some of the asked IDs
    found or failed (in any case, plus strays), sometimes any JSON at all."""
    ids = st.one_of(st.sampled_from(asked), st.sampled_from(asked).map(str.upper), conversation_ids, json_scalars)
    data = _object(
        {
            "success_list": st.lists(st.one_of(conversation(ids), json_values), max_size=8),
            "failed_list": st.lists(st.one_of(failed_entry(ids), json_values), max_size=8),
        }
    )
    envelope = st.fixed_dictionaries(
        {"code": st.one_of(st.just(200), st.just("200"), st.integers(100, 120_000), json_scalars)},
        optional={"msg": loosely(any_text), "data": st.one_of(data, json_values)},
    )
    return draw(st.one_of(envelope, envelope, envelope, json_values))
