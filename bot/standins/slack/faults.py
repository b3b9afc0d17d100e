"""Faults to inject into the Slack stand-in: a Web API method that fails (a rate limit with Retry-After, an
error, an HTTP status), `response_url`s that answer an HTTP error, and layouts Slack refuses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from bot.slack.render.limits import has_table

from .wire import JsonObject

# A layout Slack refuses: the messages it holds for, and the error they are refused with.
RefusalRule = tuple[Callable[[JsonObject], bool], str]


@dataclass(slots=True)
class Fault:
    """How a failing Web API method or the response_urls answer, and how many more times."""

    error: str
    status: int
    retry_after: int | None
    remaining: int | None  # None: every call fails until replaced


class Faults:
    """The faults of `SlackStandIn`: set by tests, read by its Web API and its response_urls."""

    _faults: dict[str, Fault]
    _response_url_failure: Fault | None
    _refuse: RefusalRule | None

    def fail_method(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int | None = None,
    ) -> None:
        """Make `method` fail (`times` times, or until replaced). Status 429 answers as Slack rate-limits:
        a `Retry-After` header (1 s unless given) and `ratelimited`."""
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            error, retry_after = error or "ratelimited", retry_after or 1
        elif error is None:
            if status == HTTPStatus.OK:
                raise ValueError("a failure with HTTP 200 needs an error code, such as error='internal_error'")
            error = "internal_error"
        self._faults[method] = Fault(error=error, status=status, retry_after=retry_after, remaining=times)

    def fail_response_urls(
        self, status: int | None, *, retry_after: int | None = None, times: int | None = None
    ) -> None:
        """Every `response_url` answers this HTTP status (`times` posts, or until replaced; None: back to normal).
        A 429 carries `Retry-After` (1 s unless given), as Slack rate-limits."""
        if status is None:
            self._response_url_failure = None
            return
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            retry_after = retry_after or 1
        self._response_url_failure = Fault(
            HTTPStatus(status).phrase.lower().replace(" ", "_"), status, retry_after, times
        )

    def refuse_messages(
        self, when: Callable[[JsonObject], bool] | None = has_table, error: str = "invalid_attachments"
    ) -> None:
        """Refuse every message for which `when` is true (by default: one holding a table), on response_urls
        (HTTP 400) and chat.postMessage, with `error`, as a Slack that does not take that layout would; None:
        back to normal."""
        self._refuse = None if when is None else (when, error)

    def _take_fault(self, method: str) -> Fault | None:
        fault = self._faults.get(method)
        if fault is None:
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[method]
        return fault
