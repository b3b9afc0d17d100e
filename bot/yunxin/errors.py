"""The one error tree of the Yunxin client.

Every message here is written for a support engineer and is safe to show in Slack or a
terminal: it never contains the AppSecret, a CheckSum or a raw response body.

    YunxinError
    ├── CredentialsRejected   414 about checksum / appkey / CurTime
    ├── RequestRejected       any other non-200 code (403, 404, 414 parameter error, 419, ...), or an HTTP
    │                         status other than 200 below 500 (its body is never read)
    ├── RateLimited           416 frequency control (never retried: a retry lengthens Yunxin's block)
    │   └── CallsPaused       not called: a 416 a moment ago paused this app's calls (no call was made)
    ├── Unavailable           HTTP 5xx, codes 500/503/514, connection refused or reset
    │   └── BreakerOpen       not called: calls in a row failed, so the circuit breaker is open
    ├── Timeout               no answer within the timeout or the lookup's deadline
    │   └── BudgetSpent       not called: the call budget had no room before the lookup's deadline
    └── MalformedResponse     HTML, non-JSON, or JSON without the expected envelope

CallsPaused and BreakerOpen are answered at once, without calling Yunxin, for every replica that shares
the pause or the breaker (bot/yunxin/budget.py, bot/shared/).
"""

from __future__ import annotations

import math


class YunxinError(Exception):
    """Base class. `trace_id` is the X-custom-traceid of the failing request, to quote to Yunxin."""

    kind = "error"
    title = "Yunxin lookup failed"

    def __init__(self, detail: str, *, trace_id: str | None = None, code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.trace_id = trace_id
        self.code = code

    def __str__(self) -> str:
        trace = f" (trace ID {self.trace_id})" if self.trace_id else ""
        return f"{self.title}: {self.detail}{trace}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(detail={self.detail!r}, code={self.code!r}, trace_id={self.trace_id!r})"


class CredentialsRejected(YunxinError):
    kind = "credentials_rejected"
    title = "Yunxin rejected the app's credentials"


class RequestRejected(YunxinError):
    kind = "request_rejected"
    title = "Yunxin rejected the request"


class RateLimited(YunxinError):
    kind = "rate_limited"
    title = "Yunxin is rate limiting this app"


class Unavailable(YunxinError):
    kind = "unavailable"
    title = "Yunxin is unavailable"


class Timeout(YunxinError):
    kind = "timeout"
    title = "Yunxin did not answer in time"


class MalformedResponse(YunxinError):
    kind = "malformed_response"
    title = "Yunxin sent an answer the bot cannot read"


def whole_seconds(seconds: float) -> int:
    """A wait as people read it: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(seconds - 1e-6))


class CallsPaused(RateLimited):
    """Yunxin answered 416 to a call of this app within the pause: the call was not made. `trace_id` is the
    refused call's, `seconds` what is left of the pause."""

    kind = "paused"

    def __init__(self, seconds: float, *, trace_id: str | None) -> None:
        self.seconds = whole_seconds(seconds)
        super().__init__(
            "Yunxin answered 416 to an earlier call (its trace ID is given); no call goes to this app until the "
            "pause is over, since calling sooner only lengthens Yunxin's block",
            trace_id=trace_id,
        )
        self.title = f"Yunxin is rate limiting this app; paused for {self.seconds} s"


class BreakerOpen(Unavailable):
    """Calls in a row failed as unavailable or timed out, so the circuit breaker is open: the call was not
    made. `trace_id` is the last failed call's, `seconds` how long until a call may go again."""

    kind = "breaker_open"

    def __init__(self, seconds: float, *, trace_id: str | None, failures: int) -> None:
        self.seconds = whole_seconds(seconds)
        super().__init__(
            f"{failures} calls in a row failed (unavailable or timed out; the trace ID given is the last one's); "
            "after that time one call checks whether Yunxin answers again",
            trace_id=trace_id,
        )
        self.title = f"Yunxin has not been answering; the bot stopped calling it for {self.seconds} s"


class BudgetSpent(Timeout):
    """The call budget had no room for this call before the lookup's deadline: the call was not made."""


# Every kind of error above: the metric label of a failed attempt that carries no code of Yunxin's.
_ERRORS = (
    YunxinError,
    CredentialsRejected,
    RequestRejected,
    RateLimited,
    Unavailable,
    Timeout,
    MalformedResponse,
    CallsPaused,
    BreakerOpen,
)
ERROR_KINDS = frozenset(error.kind for error in _ERRORS)
# The kinds of a call that was never made: no HTTP attempt, so never a label of a Yunxin call's metrics.
NOT_CALLED_KINDS = frozenset({CallsPaused.kind, BreakerOpen.kind})

# The top-level codes Yunxin documents for its server API: each is a metric label of its own, and any
# other code Yunxin may send is counted as "other", so the metrics hold a fixed set of series.
KNOWN_CODES: dict[int, str] = {
    403: "forbidden",
    404: "not found",
    414: "parameter error (also a bad CheckSum, an expired CurTime or an unknown AppKey)",
    416: "frequency control",
    417: "repeat operation",
    419: "over quantity limit",
    500: "server error",
    503: "busy",
    514: "service unavailable",
}

# What a user should do next, by kind: shown under the error in Slack and the terminal.
ADVICE: dict[str, str] = {
    CredentialsRejected.kind: "Check YUNXIN_APP_KEY / YUNXIN_APP_SECRET and the server clock (CurTime).",
    RequestRejected.kind: "Check the IDs; quote the trace ID to Yunxin support if it persists.",
    RateLimited.kind: "Wait a few seconds and try again; Yunxin blocks apps that keep calling.",
    Unavailable.kind: "Try again in a minute; quote the trace ID to Yunxin support if it persists.",
    Timeout.kind: "Try again with fewer IDs, or in a minute.",
    MalformedResponse.kind: "Check that YUNXIN_BASE_URLS name the Yunxin API; quote the trace ID to support.",
    CallsPaused.kind: "Try again once the pause is over; quote the trace ID to Yunxin support if it persists.",
    BreakerOpen.kind: "Try again after that; quote the trace ID (the last failed call's) to Yunxin support.",
    YunxinError.kind: "Quote the trace ID to Yunxin support.",
}


def classify_code(code: int, msg: str, *, trace_id: str | None) -> YunxinError:
    """Turn a non-200 `code` of Yunxin's JSON envelope into the matching error."""
    shown = msg.strip()[:200] or "no message"
    detail = f"code {code}: {shown}"
    lowered = shown.lower()
    if code == 414 and any(word in lowered for word in ("checksum", "appkey", "curtime")):
        return CredentialsRejected(detail, trace_id=trace_id, code=code)
    if code == 416:
        return RateLimited(detail, trace_id=trace_id, code=code)
    if code in (500, 503, 514):
        return Unavailable(detail, trace_id=trace_id, code=code)
    return RequestRejected(detail, trace_id=trace_id, code=code)


# Every label a call is counted under in the metrics (the client's `on_call`): "200", a code Yunxin
# documents, an error kind (no code: timeout, unavailable, malformed_response, ...), or "other" for a code
# the bot does not know.
OTHER_LABEL = "other"
CALL_LABELS = frozenset({"200", OTHER_LABEL, *(str(code) for code in KNOWN_CODES), *(ERROR_KINDS - NOT_CALLED_KINDS)})


def call_label(error: YunxinError) -> str:
    """The metric label of a failed attempt, from a fixed set (CALL_LABELS): Yunxin may send any code."""
    if error.code is not None:
        return str(error.code) if error.code in KNOWN_CODES else OTHER_LABEL
    return error.kind if error.kind in ERROR_KINDS else OTHER_LABEL
