"""Replies through a response_url: the command's, the buttons' and the shortcut's answers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.metrics import Metrics
from bot.yunxin.models import LookupResult

from ..actions import LookupRequest
from ..i18n import EN, Translator
from ..render.kit import Message
from ..render.limits import has_table
from ..render.lookup import render_lookup
from .posting import RESPONSE_URL_MAX_POSTS, Posted, Respond, deliver, left_to_send, post_each, refusal_label

log = logging.getLogger("bot.slack.replies")


@dataclass(frozen=True, slots=True)
class ResponseUrlReplies:
    """Replies through a response_url. Notices are always ephemeral; the answer is posted as
    `response_type`, marked as shared by `shared_by` or refreshed at `refreshed_at`, replacing the message
    clicked (`replace_first`) or in the thread `thread_ts`. With `tables`, a long answer is a table per
    message, sent again as lists if Slack refuses it (counted in `metrics`)."""

    respond: Respond
    redact_text: bool
    request: LookupRequest | None = None  # None: notices only (no request to answer with buttons)
    response_type: str = "ephemeral"
    shared_by: str | None = None
    refreshed_at: datetime | None = None
    replace_first: bool = False
    thread_ts: str | None = None
    tables: bool = True
    metrics: Metrics | None = None

    @property
    def shared(self) -> bool:
        return self.response_type == "in_channel"

    async def notify(self, message: Message) -> bool:
        return await deliver(self.respond, [message], response_type="ephemeral", trace_ids=[], thread_ts=self.thread_ts)

    def _render(self, result: LookupResult, t: Translator, *, tables: bool, max_messages: int) -> list[Message]:
        return render_lookup(
            result,
            redact_text=self.redact_text,
            request=self.request,
            shared_by=self.shared_by,
            refreshed_at=self.refreshed_at,
            max_messages=max_messages,
            tables=tables,
            t=t,
        )

    async def answer(self, result: LookupResult, t: Translator = EN) -> bool:
        messages = self._render(result, t, tables=self.tables, max_messages=RESPONSE_URL_MAX_POSTS)
        with_tables = any(has_table(message) for message in messages)
        posted = await post_each(
            self.respond,
            messages,
            response_type=self.response_type,
            trace_ids=result.trace_ids,
            replace_first=self.replace_first,
            thread_ts=self.thread_ts,
            log_refusal=not with_tables,
        )
        if posted.ok:
            return True
        if posted.refused_layout and self.metrics is not None:
            self.metrics.slack_refusals.labels(
                layout="table" if with_tables else "plain", error=refusal_label(posted)
            ).inc()
        if not (posted.refused_layout and with_tables):
            return False
        return await self._as_lists(result, t, messages, posted)

    async def _as_lists(self, result: LookupResult, t: Translator, sent: Sequence[Message], posted: Posted) -> bool:
        """The answer again in the plain form, after Slack refused message `posted.accepted` of `sent`: the
        whole answer when it refused the first, else the IDs its accepted messages did not list, in the
        posts the response_url has left."""
        log.warning(
            "Slack refused an answer with a table (HTTP %s %s) at message %d of %d; sending it again as lists; "
            "Yunxin trace IDs %s",
            posted.status,
            posted.error[:60],
            posted.accepted + 1,
            len(sent),
            ", ".join(result.trace_ids) or "none",
        )
        plain = self._render(
            left_to_send(result, sent, posted), t, tables=False, max_messages=RESPONSE_URL_MAX_POSTS - posted.accepted
        )
        return await deliver(
            self.respond,
            plain,
            response_type=self.response_type,
            trace_ids=result.trace_ids,
            replace_first=self.replace_first and not posted.accepted,
            thread_ts=self.thread_ts,
        )
