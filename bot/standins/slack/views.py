"""Views through the Slack stand-in's Web API: modals (`views.open` with a trigger_id, `views.update`) and
a person's Home tab (`views.publish`), each held to Block Kit's limits for its kind of view."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from bot.slack.render.view_limits import view_problems

from .wire import ACK_SECONDS, JsonObject, trigger_id_value


class Views:
    """`SlackStandIn`'s modals (`views`, by view ID, as last opened or updated) and Home tabs (`home_views`,
    by user ID, as last published)."""

    views: dict[str, JsonObject]
    home_views: dict[str, JsonObject]
    _users: dict[str, JsonObject]
    _triggers: dict[str, float]
    _clock: Callable[[], float]

    def new_trigger_id(self) -> str:
        """A trigger_id as Slack puts in an interaction: good for one views.open within 3 seconds."""
        trigger = trigger_id_value()
        self._triggers[trigger] = self._clock()
        return trigger

    def _views_open(self, params: JsonObject) -> JsonObject:
        issued = self._triggers.pop(str(params.get("trigger_id", "")), None)
        if issued is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        if self._clock() - issued > ACK_SECONDS:
            return {"ok": False, "error": "expired_trigger_id"}
        return self._store_view(f"V{secrets.token_hex(5).upper()}", params.get("view"))

    def _views_update(self, params: JsonObject) -> JsonObject:
        view_id = str(params.get("view_id", ""))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        return self._store_view(view_id, params.get("view"))

    def _store_view(self, view_id: str, view: Any) -> JsonObject:
        if isinstance(view, str):  # form-encoded calls carry the view as JSON text
            try:
                view = json.loads(view)
            except ValueError:
                return {"ok": False, "error": "invalid_arguments"}
        found = view_problems(view) if isinstance(view, dict) else ["the view is not an object"]
        if found:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": found}}
        self.views[view_id] = view
        return {"ok": True, "view": {"id": view_id, **view}}

    def _views_publish(self, params: JsonObject) -> JsonObject:
        user_id = str(params.get("user_id", ""))
        user = self._users.get(user_id)
        if user is None or user.get("is_bot"):
            return {"ok": False, "error": "user_not_found"}
        view = params.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["no view"]}}
        found = view_problems(view, "home")
        if found:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": found}}
        self.home_views[user_id] = view
        return {"ok": True, "view": {"id": f"VH{user_id}", **view}}
