"""Signing: AppKey, Nonce, CurTime and CheckSum = sha1(AppSecret + Nonce + CurTime), lowercase hex."""

from __future__ import annotations

import hashlib
import itertools
import re

from pydantic import SecretStr

from bot.yunxin.auth import MAX_NONCE_LENGTH, YunxinAuth, checksum, new_nonce


def signed(auth: YunxinAuth) -> dict[str, str]:
    """The signature one attempt sends, by header name."""
    return dict(auth.headers())


def test_checksum_matches_the_documented_formula_computed_by_hand() -> None:
    expected = hashlib.sha1(b"s3cretabc1700000000").hexdigest()
    assert checksum("s3cret", "abc", "1700000000") == expected
    assert re.fullmatch(r"[0-9a-f]{40}", expected)


def test_headers_carry_key_nonce_curtime_and_checksum() -> None:
    auth = YunxinAuth("key-1", SecretStr("s3cret"), clock=lambda: 1700000000.0, nonce=lambda: "abc")
    assert [name for name, _ in auth.headers()] == ["AppKey", "Nonce", "CurTime", "CheckSum"]  # the SDKs' order
    request = signed(auth)
    assert request["AppKey"] == "key-1"
    assert request["Nonce"] == "abc"
    assert request["CurTime"] == "1700000000"
    assert request["CheckSum"] == hashlib.sha1(b"s3cretabc1700000000").hexdigest()


def test_curtime_is_whole_seconds_even_with_a_fractional_clock() -> None:
    auth = YunxinAuth("key-1", SecretStr("s3cret"), clock=lambda: 1700000000.987654, nonce=lambda: "abc")
    request = signed(auth)
    assert request["CurTime"] == "1700000000"
    # The CheckSum is computed over the same whole-second CurTime that is sent.
    assert request["CheckSum"] == hashlib.sha1(b"s3cretabc1700000000").hexdigest()


def test_the_default_nonce_is_fresh_per_request_and_short_enough() -> None:
    auth = YunxinAuth("key-1", SecretStr("s3cret"), clock=lambda: 1700000000.0)
    nonces = [signed(auth)["Nonce"] for _ in range(50)]
    assert len(set(nonces)) == len(nonces)
    assert all(0 < len(nonce) <= MAX_NONCE_LENGTH for nonce in nonces)


def test_a_new_signature_is_made_for_every_request() -> None:
    clock = itertools.count(1700000000)
    auth = YunxinAuth("key-1", SecretStr("s3cret"), clock=lambda: float(next(clock)))
    first, second = signed(auth), signed(auth)
    assert first["CurTime"] != second["CurTime"]
    assert first["Nonce"] != second["Nonce"]
    assert first["CheckSum"] != second["CheckSum"]


def test_an_overlong_nonce_is_cut_to_the_documented_limit() -> None:
    auth = YunxinAuth("key-1", SecretStr("s3cret"), clock=lambda: 1700000000.0, nonce=lambda: "n" * 300)
    request = signed(auth)
    nonce = request["Nonce"]
    assert len(nonce) == MAX_NONCE_LENGTH
    assert request["CheckSum"] == hashlib.sha1(f"s3cret{nonce}1700000000".encode()).hexdigest()


def test_new_nonce_is_32_lowercase_hex_digits() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", new_nonce())


def test_repr_hides_the_secret() -> None:
    auth = YunxinAuth("key-1", SecretStr("s3cret-VERY-distinctive"))
    assert "s3cret-VERY-distinctive" not in repr(auth)
    assert "s3cret-VERY-distinctive" not in str(auth)
    assert "key-1" in repr(auth)
