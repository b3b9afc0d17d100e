"""Yunxin request signing: the client asks for a fresh signature per attempt (`headers()`), so it never
handles the secret itself."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable

from pydantic import SecretStr

MAX_NONCE_LENGTH = 128


def checksum(app_secret: str, nonce: str, cur_time: str) -> str:
    """Yunxin's CheckSum: lowercase hex sha1 over AppSecret + Nonce + CurTime, concatenated."""
    return hashlib.sha1((app_secret + nonce + cur_time).encode("utf-8")).hexdigest()


def new_nonce() -> str:
    """32 random lowercase hex digits (128 bits, as uuid4().hex has, without building a uuid.UUID)."""
    return os.urandom(16).hex()


class YunxinAuth:
    """AppKey, a fresh Nonce, CurTime (whole seconds) and CheckSum for every request sent,
    retries and failovers included, so no signature is ever reused or stale."""

    def __init__(
        self,
        app_key: str,
        app_secret: SecretStr,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        self._app_key = app_key
        self._app_secret = app_secret
        self._clock = clock
        self._nonce = nonce

    def __repr__(self) -> str:
        return f"YunxinAuth(app_key={self._app_key!r}, app_secret=SecretStr('**********'))"

    def headers(self) -> list[tuple[str, str]]:
        """A fresh signature: AppKey, Nonce, CurTime and CheckSum, in that order and case."""
        nonce = self._nonce()[:MAX_NONCE_LENGTH]
        cur_time = str(int(self._clock()))
        return [
            ("AppKey", self._app_key),
            ("Nonce", nonce),
            ("CurTime", cur_time),
            ("CheckSum", checksum(self._app_secret.get_secret_value(), nonce, cur_time)),
        ]
