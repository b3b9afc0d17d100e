"""Delivering answers: where each reply goes and how it gets there.

A `Destination` is where one lookup answers: `ResponseUrlReplies` posts to the request's response_url (the
command, the buttons, the shortcut), `ModalReplies` shows it in a modal (Details), `FileReplies` sends it as a
CSV file to the clicker's direct message with the bot (Download CSV), `DirectMessageReplies` posts it there as
messages (the lookup form). Each has two ways to speak: `notify`
for notices, refusals and errors (to the person who asked), and `answer` for the lookup's result, rendered
for that place in the language it is given. Both return False (and log) when Slack refused or could not be
reached; neither raises for a network failure.

No answer is lost to a layout: when Slack refuses a message holding a table (any 4xx from the response_url,
`invalid_blocks`, `invalid_attachments`, `msg_blocks_too_long`), the refusal is logged with the Yunxin trace
IDs and counted, and the same answer goes again as lists, the plain form Slack always takes. A 429 from a
response_url is waited out (its Retry-After) and the post sent again, a few times within a bound.
"""

from .direct import DirectMessageReplies, FileReplies
from .modal import ModalReplies, Show, shown_in
from .posting import (
    REFUSAL_ERRORS,
    RESPONSE_URL_MAX_POSTS,
    RESPONSE_URL_MAX_WAIT_SECONDS,
    RESPONSE_URL_RETRIES,
    Destination,
    Posted,
    Respond,
    SessionRespond,
    deliver,
    post_each,
    refusal_label,
)
from .response_url import ResponseUrlReplies

__all__ = [
    "REFUSAL_ERRORS",
    "RESPONSE_URL_MAX_POSTS",
    "RESPONSE_URL_MAX_WAIT_SECONDS",
    "RESPONSE_URL_RETRIES",
    "Destination",
    "DirectMessageReplies",
    "FileReplies",
    "ModalReplies",
    "Posted",
    "Respond",
    "ResponseUrlReplies",
    "SessionRespond",
    "Show",
    "deliver",
    "post_each",
    "refusal_label",
    "shown_in",
]
