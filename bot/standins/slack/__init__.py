"""A local Slack, as strict as the real one: `SlackStandIn` (`web_api.py`) serves its Web API and
response_urls, one family in each module: `workspace.py` (users and user groups), `messages.py`
(chat.postMessage, direct messages, file uploads), `views.py` (modals and the Home tab), `steps.py`
(workflow steps), `response_urls.py` and `faults.py` (faults to inject). `signed_requests.py` plays Slack's
side of the requests it sends the app; `wire.py` holds what they share."""

from .messages import UploadedFile
from .signed_requests import (
    Delivery,
    Origin,
    app_home_opened_event,
    block_actions_payload,
    deliver,
    event_callback_payload,
    message_action_payload,
    send_block_action,
    send_event,
    send_message_shortcut,
    send_slash_command,
    send_view_submission,
    sign,
    slash_command_form,
    view_submission_ack_problems,
    view_submission_payload,
)
from .steps import FunctionExecution
from .web_api import SlackStandIn
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
    "FunctionExecution",
    "JsonObject",
    "Origin",
    "ReceivedPost",
    "RefusedPost",
    "SlackStandIn",
    "UploadedFile",
    "app_home_opened_event",
    "block_actions_payload",
    "deliver",
    "event_callback_payload",
    "message_action_payload",
    "send_block_action",
    "send_event",
    "send_message_shortcut",
    "send_slash_command",
    "send_view_submission",
    "sign",
    "slash_command_form",
    "view_submission_ack_problems",
    "view_submission_payload",
]
