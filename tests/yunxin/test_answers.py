"""parse_answer's own shortcuts: the depth limit read from a bracket count or a walk, the object hook kept
for answers parsed in a worker thread only, and the faster JSON parser that reads exactly what json.loads
reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.yunxin import answers
from bot.yunxin.answers import (
    COUNT_BRACKETS_BYTES,
    MAX_JSON_DEPTH,
    THREAD_PARSE_BYTES,
    _may_nest_deeper_than,
    _nested_deeper_than,
    _read_json,
    parse_answer,
)
from bot.yunxin.errors import MalformedResponse
from tests.fuzz.strategies import json_scalars

# Text full of brackets and quotes: inside JSON strings they must not be taken for nesting.
bracket_text = st.text('[]{}"\\a名', max_size=20)
leaves = st.one_of(json_scalars, bracket_text)


@st.composite
def nested_json(draw: st.DrawFn) -> Any:
    """JSON around the depth limit: a random value wrapped in a random number of arrays and objects, with
    random siblings at each level."""
    value = draw(st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(bracket_text, inner)))
    for _ in range(draw(st.integers(0, MAX_JSON_DEPTH + 3))):
        siblings = draw(st.lists(leaves, max_size=1))
        value = [value, *siblings] if draw(st.booleans()) else {"v": value, **dict(enumerate(siblings))}
    return value


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


@settings(max_examples=200, deadline=None)
@given(value=nested_json(), limit=st.integers(1, MAX_JSON_DEPTH + 2))
def test_the_walk_finds_exactly_the_bodies_nested_past_the_limit(value: Any, limit: int) -> None:
    assert _nested_deeper_than(value, limit) is (depth(value) > limit)


@settings(max_examples=200, deadline=None)
@given(value=nested_json(), encoding=st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_a_body_is_refused_for_its_depth_exactly_when_it_nests_past_the_limit(value: Any, encoding: str) -> None:
    content = json.dumps(value, ensure_ascii=False).encode(encoding)
    too_deep = depth(value) > MAX_JSON_DEPTH
    if too_deep:
        assert _may_nest_deeper_than(content, MAX_JSON_DEPTH)
    try:
        parse_answer(content, "trace")
    except MalformedResponse as error:
        refused = "nested deeper" in error.detail
    else:
        refused = False
    assert refused is too_deep


def test_a_small_body_within_the_bracket_count_skips_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[Any] = []
    monkeypatch.setattr(answers, "_nested_deeper_than", lambda *args: walked.append(args) or False)
    parse_answer(b'{"code": 200, "data": {"success_list": [{"conversation_id": "a|1|b"}]}}', "trace")
    assert walked == []
    many = json.dumps({"code": 200, "data": {"success_list": [{}] * MAX_JSON_DEPTH}}).encode()
    assert len(many) <= COUNT_BRACKETS_BYTES
    parse_answer(many, "trace")
    assert len(walked) == 1


def test_only_an_answer_parsed_in_a_worker_thread_runs_the_object_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    hooked: list[dict[str, Any]] = []
    monkeypatch.setattr(answers, "_let_the_loop_run", lambda value: hooked.append(value) or value)
    entry = {"conversation_id": "a|1|b", "last_message": {"message": {"text": "hi"}}}

    def body(padding: int) -> bytes:
        return json.dumps({"code": 200, "msg": "p" * padding, "data": {"success_list": [entry]}}).encode()

    small = parse_answer(body(0), "trace")
    assert hooked == []
    big = parse_answer(body(THREAD_PARSE_BYTES), "trace")
    assert len(hooked) == 5  # every object of the answer
    assert big == small


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1])
@pytest.mark.parametrize("bracket", ["[]", "{}"])
def test_the_depth_limit_is_exact(levels: int, bracket: str) -> None:
    nested = bracket
    for _ in range(levels - 1):
        nested = f"[{nested}]" if bracket == "[]" else f'{{"a": {nested}}}'
    assert depth(json.loads(nested)) == levels
    with pytest.raises(MalformedResponse) as refused:
        parse_answer(nested.encode(), "trace")
    assert ("nested deeper" in refused.value.detail) is (levels > MAX_JSON_DEPTH)


def test_brackets_inside_strings_are_not_nesting() -> None:
    body = json.dumps({"code": 200, "msg": "[{" * MAX_JSON_DEPTH, "data": {"success_list": [{"text": "{" * 99}]}})
    assert len(parse_answer(body.encode(), "trace").found) == 1


def read_as_json_loads_does(content: bytes) -> None:
    """_read_json gives what json.loads gives (repr tells 1 from 1.0, -0.0 from 0.0, and shows key order and
    NaN), or refuses what it refuses."""
    try:
        expected = repr(json.loads(content))
    except (ValueError, RecursionError) as error:
        with pytest.raises(type(error)):
            _read_json(content)
    else:
        assert repr(_read_json(content)) == expected


# Lone surrogates included: json.loads reads them, escaped or encoded with surrogatepass.
json_text = st.text(st.characters(), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**40), 10**40) | st.floats() | json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(
    value=json_values,
    ascii_only=st.booleans(),
    indent=st.sampled_from([None, 0, 2]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32"]),
    damage=st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=2)), max_size=2),
)
def test_the_json_read_is_json_loads_read(
    value: Any, ascii_only: bool, indent: int | None, encoding: str, damage: list[tuple[int, bytes]]
) -> None:
    content = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode(encoding, "surrogatepass")
    for at, replacement in damage:  # a byte or two changed, dropped or added: JSON or not, read alike
        at %= len(content) + 1
        content = content[:at] + replacement + content[at + 1 :]
    read_as_json_loads_does(content)


@pytest.mark.parametrize(
    "content",
    [
        b'{"a": "\\ud800"}',  # a lone surrogate, escaped
        b'{"a": "\xed\xa0\x80"}',  # one encoded with surrogatepass
        b'{"a": "\\ud83d\\ude00", "b": "\\u0000", "c": "\xe2\x80\xa8\x7f"}',
        b'{"a": 1, "b": 2, "a": 3}',  # the last value, in the first place
        b'{"a": ' + b"9" * 4300 + b"}",  # Python's longest integer text
        b'{"a": ' + b"9" * 4301 + b"}",  # one digit too many
        b'{"a": [1e400, -1e400, NaN, Infinity, -Infinity, -0, -0.0, 1e2, 1.5E+3, 5e-324]}',
        b'{"a": 2.2250738585072011e-308, "b": 0.30000000000000004, "c": 123456789012345678901234567890.5}',
        b'\xef\xbb\xbf{"a": 1}',  # a UTF-8 BOM
        b' {"a" : [ 1 , 2 ] }\r\n',
        b"[" * 300 + b"]" * 300,  # deeper than pydantic-core's parser goes
        b"[" * 5000 + b"]" * 5000,  # deeper than json.loads goes
        b'{"a": "x\x01y"}',
        b'{"a": 1,}',
        b'{"a": 01}',
        b'{"a": 1} x',
        b"\x0b{}",
        b"",
    ],
)
def test_edge_cases_of_json_read_as_json_loads_reads_them(content: bytes) -> None:
    read_as_json_loads_does(content)
