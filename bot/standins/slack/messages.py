"""Messages and files the app sends through the Slack stand-in's Web API: `chat.postMessage`,
`conversations.open` and file uploads.

Files go as slack_sdk's `files_upload_v2` sends them: `files.getUploadURLExternal` (a filename and the
length), a POST of exactly that many bytes to the URL it returns (no token: the URL is the credential), and
`files.completeUploadExternal` naming the file and a channel, which must be a direct message that
`conversations.open` opened. What was uploaded is kept in `files` for tests to read.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.slack.render.limits import problems

from .faults import RefusalRule
from .wire import JsonObject


@dataclass(slots=True)
class UploadedFile:
    """A file the app uploaded: announced by files.getUploadURLExternal, its bytes, then where it was shared."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    user_id: str | None = None  # whose direct message `channel_id` is
    initial_comment: str | None = None

    @property
    def text(self) -> str:
        return (self.content or b"").decode("utf-8")


class Messages:
    """`SlackStandIn`'s messages (`messages`, as accepted), direct messages and uploads (`files`, as shared)."""

    bot_user_id: str
    messages: list[JsonObject]
    files: list[UploadedFile]
    _users: dict[str, JsonObject]
    _bot_channels: frozenset[str] | None
    _uploads: dict[str, UploadedFile]
    _dms: dict[str, str]
    _refuse: RefusalRule | None

    if TYPE_CHECKING:

        @property
        def base_url(self) -> str: ...

    def dm_channel(self, user_id: str) -> str | None:
        """The direct message channel conversations.open opened with `user_id`, if any."""
        return next((channel for channel, user in self._dms.items() if user == user_id), None)

    def files_for(self, user_id: str) -> list[UploadedFile]:
        """The files shared in the direct message with `user_id`, in order."""
        return [upload for upload in self.files if upload.user_id == user_id]

    def _chat_post_message(self, params: JsonObject) -> JsonObject:
        channel = params.get("channel")
        if not channel or (
            self._bot_channels is not None and channel not in self._bot_channels and channel not in self._dms
        ):
            return {"ok": False, "error": "channel_not_found"}
        message = dict(params)
        if isinstance(message.get("blocks"), str):
            try:
                message["blocks"] = json.loads(message["blocks"])
            except ValueError:
                return {"ok": False, "error": "invalid_blocks_format"}
        if isinstance(message.get("attachments"), str):
            try:
                message["attachments"] = json.loads(message["attachments"])
            except ValueError:
                return {"ok": False, "error": "invalid_attachments"}
        if not message.get("text") and not message.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if self._refuse is not None and self._refuse[0](message):
            return {"ok": False, "error": self._refuse[1]}
        found = problems(message)
        if found:
            return {"ok": False, "error": "invalid_blocks", "errors": found}
        ts = f"{time.time():.6f}"
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"type": "message", "ts": ts, **message}}

    def _conversations_open(self, params: JsonObject) -> JsonObject:
        users = [user for user in str(params.get("users", "")).split(",") if user]
        if len(users) != 1:
            return {"ok": False, "error": "not_enough_users" if not users else "invalid_arguments"}
        user = users[0]
        if user not in self._users or user == self.bot_user_id:
            return {"ok": False, "error": "user_not_found"}
        channel = self.dm_channel(user) or f"D{secrets.token_hex(5).upper()}"
        self._dms[channel] = user
        return {"ok": True, "channel": {"id": channel, "is_im": True, "user": user}}

    def _files_get_upload_url(self, params: JsonObject) -> JsonObject:
        filename = str(params.get("filename") or "")
        try:
            length = int(str(params.get("length", "")))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not filename or length < 1:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{secrets.token_hex(5).upper()}"
        self._uploads[file_id] = UploadedFile(file_id, filename, length)
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: Request) -> Response:
        upload = self._uploads.get(request.path_params["file_id"])
        if upload is None or upload.content is not None:
            return PlainTextResponse("invalid_upload", status_code=HTTPStatus.NOT_FOUND)
        body = await request.body()
        if len(body) != upload.length:
            # Slack's upload URL takes exactly the bytes announced.
            return PlainTextResponse("length_mismatch", status_code=HTTPStatus.BAD_REQUEST)
        upload.content = body
        return PlainTextResponse(f"OK - {len(body)}")

    def _files_complete_upload(self, params: JsonObject) -> JsonObject:
        try:
            files = json.loads(str(params.get("files") or ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            return {"ok": False, "error": "invalid_arguments"}
        channel = params.get("channel_id")
        if params.get("channels") or not channel:
            return {"ok": False, "error": "invalid_arguments"}  # strict: one channel, by channel_id
        user = self._dms.get(str(channel))
        if user is None:
            return {"ok": False, "error": "channel_not_found"}  # only a DM the app opened, never a channel
        completed: list[UploadedFile] = []
        for entry in files:
            upload = self._uploads.get(str(entry.get("id", "")))
            if upload is None or upload.content is None:
                return {"ok": False, "error": "file_not_found" if upload is None else "file_upload_incomplete"}
            completed.append(upload)
        for upload, entry in zip(completed, files, strict=True):
            del self._uploads[upload.file_id]
            upload.title = str(entry.get("title") or upload.filename)
            upload.channel_id, upload.user_id = str(channel), user
            upload.initial_comment = params.get("initial_comment") or None
            self.files.append(upload)
        return {"ok": True, "files": [{"id": upload.file_id, "title": upload.title} for upload in completed]}
