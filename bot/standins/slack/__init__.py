"""A local Slack, as strict as the real one: its Web API and response_urls (`web_api.py`), and Slack's side
of the requests it sends the app (`signed_requests.py`)."""

from .signed_requests import (
    Delivery,
    Origin,
    block_actions_payload,
    deliver,
    message_action_payload,
    send_block_action,
    send_message_shortcut,
    send_slash_command,
    sign,
    slash_command_form,
)
from .web_api import SlackStandIn, UploadedFile
from .wire import (
    ACK_SECONDS,
    API_APP_ID,
    RESPONSE_URL_LIFETIME_SECONDS,
    RESPONSE_URL_MAX_POSTS,
    SLACK_USER_AGENT,
    JsonObject,
    ReceivedPost,
    RefusedPost,
)

__all__ = [
    "ACK_SECONDS",
    "API_APP_ID",
    "RESPONSE_URL_LIFETIME_SECONDS",
    "RESPONSE_URL_MAX_POSTS",
    "SLACK_USER_AGENT",
    "Delivery",
    "JsonObject",
    "Origin",
    "ReceivedPost",
    "RefusedPost",
    "SlackStandIn",
    "UploadedFile",
    "block_actions_payload",
    "deliver",
    "message_action_payload",
    "send_block_action",
    "send_message_shortcut",
    "send_slash_command",
    "sign",
    "slash_command_form",
]
