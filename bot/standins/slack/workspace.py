"""The Slack stand-in's workspace: its people and user groups, and the Web API methods that read them
(`auth.test`, `users.info`, `usergroups.users.list`)."""

from __future__ import annotations

from collections.abc import Sequence

from .wire import TEAM_DOMAIN, JsonObject


class Workspace:
    """The people and user groups of `SlackStandIn`'s workspace, and the Web API methods that read them."""

    team_id: str
    enterprise_id: str | None
    bot_user_id: str
    bot_id: str
    paid_plan: bool
    _users: dict[str, JsonObject]
    _usergroups: dict[str, list[str]]

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        name: str | None = None,
        locale: str = "en-US",
    ) -> None:
        """A person of the workspace; `locale` is what users.info tells when asked with include_locale."""
        user = self._default_user(user_id, team_id=team_id, name=name)
        user.update(
            is_bot=is_bot,
            deleted=deleted,
            is_restricted=is_restricted,
            is_ultra_restricted=is_ultra_restricted,
            locale=locale,
        )
        self._users[user_id] = user

    def add_usergroup(self, usergroup_id: str, members: Sequence[str]) -> None:
        self._usergroups[usergroup_id] = list(members)

    def _default_user(self, user_id: str, *, team_id: str | None = None, name: str | None = None) -> JsonObject:
        team = team_id or self.team_id
        handle = name or user_id.lower()
        user: JsonObject = {
            "id": user_id,
            "team_id": team,
            "name": handle,
            "real_name": handle,
            "deleted": False,
            "is_bot": False,
            "is_app_user": False,
            "is_admin": False,
            "is_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "tz": "Asia/Shanghai",
            "profile": {"real_name": handle, "display_name": handle, "team": team},
        }
        if self.enterprise_id is not None:
            user["enterprise_user"] = {
                "id": user_id,
                "enterprise_id": self.enterprise_id,
                "enterprise_name": "Stand-in Org",
                "is_admin": False,
                "is_owner": False,
                "teams": [team],
            }
        return user

    def _auth_test(self, params: JsonObject) -> JsonObject:
        answer: JsonObject = {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.invalid/",
            "team": "Stand-in Workspace",
            "user": self._users[self.bot_user_id]["name"],
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if self.enterprise_id is not None:
            answer["enterprise_id"] = self.enterprise_id
        return answer

    def _users_info(self, params: JsonObject) -> JsonObject:
        user = self._users.get(str(params.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        # As Slack does: the locale only when asked for it.
        asked = str(params.get("include_locale", "")).lower() in ("true", "1")
        shown = user if asked else {key: value for key, value in user.items() if key != "locale"}
        return {"ok": True, "user": shown}

    def _usergroups_users_list(self, params: JsonObject) -> JsonObject:
        if not self.paid_plan:
            return {"ok": False, "error": "plan_upgrade_required"}
        members = self._usergroups.get(str(params.get("usergroup", "")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(members)}
