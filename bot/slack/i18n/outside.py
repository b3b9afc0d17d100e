"""Texts that modules outside the Slack layer write in English (the access check's reasons, the ID parser's
problems, the Yunxin client's error titles and advice), translated where a person reads them.

Each is marked here so the catalog holds it. A fixed text is translated as it is (gettext finds it by its
English); a text with values in it is matched by a pattern and its translation filled with the same values.
A text that matches nothing is shown as it came: never lost, only untranslated.
"""

from __future__ import annotations

import re

from . import EN, N_, Translator

# Fixed texts, translated by their English (kept in step with where they are written: tests check both).
FIXED = (
    # bot/slack/access.py: why a person is refused
    N_("lookups are not enabled in this channel"),
    N_("your workspace is not one this app serves"),
    N_("Slack does not know your account"),
    N_("your account is deactivated"),
    N_("bot users cannot look up conversations"),
    N_("guest accounts cannot look up conversations"),
    N_("your account belongs to another workspace"),
    N_("you are not on the list of people allowed to look up conversations"),
    N_(
        "ALLOWED_USERGROUP_IDS needs a paid Slack plan (usergroups.users.list answered "
        "plan_upgrade_required); ask your Slack admin to use ALLOWED_USER_IDS instead."
    ),
    # bot/yunxin/ids.py: why an entry is not a conversation ID
    N_("expected owner|type|target, for example alice|1|bob"),
    N_("the type must be 1 (one-to-one), 2 (team) or 3 (super team)"),
    # bot/yunxin/errors.py: titles
    N_("Yunxin lookup failed"),
    N_("Yunxin rejected the app's credentials"),
    N_("Yunxin rejected the request"),
    N_("Yunxin is rate limiting this app"),
    N_("Yunxin is unavailable"),
    N_("Yunxin did not answer in time"),
    N_("Yunxin sent an answer the bot cannot read"),
    # ...and what to do next, by kind
    N_("Check YUNXIN_APP_KEY / YUNXIN_APP_SECRET and the server clock (CurTime)."),
    N_("Check the IDs; quote the trace ID to Yunxin support if it persists."),
    N_("Wait a few seconds and try again; Yunxin blocks apps that keep calling."),
    N_("Try again in a minute; quote the trace ID to Yunxin support if it persists."),
    N_("Try again with fewer IDs, or in a minute."),
    N_("Check that YUNXIN_BASE_URLS name the Yunxin API; quote the trace ID to support."),
    N_("Try again once the pause is over; quote the trace ID to Yunxin support if it persists."),
    N_("Try again after that; quote the trace ID (the last failed call's) to Yunxin support."),
    N_("Quote the trace ID to Yunxin support."),
    # bot/yunxin/models.py: a redacted message text
    N_("[hidden]"),
)

_ROLE = {"owner": N_("owner"), "peer": N_("peer")}
_KIND = {"one-to-one": N_("one-to-one"), "team": N_("team"), "super team": N_("super team")}

# Texts with values: (the English as a pattern, its template in the catalog). Named groups fill the template;
# a group named `role` or `kind` is itself translated.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"you are not on the list of people allowed to query the (?P<name>.+) environment"),
        N_("you are not on the list of people allowed to query the {name} environment"),
    ),
    (
        re.compile(r"Slack is rate limiting the access check \((?P<method>[\w.]+)\); try again in (?P<wait>\d+) s\."),
        N_("Slack is rate limiting the access check ({method}); try again in {wait} s."),
    ),
    (
        re.compile(r"Slack is rate limiting the access check \((?P<method>[\w.]+)\); try again in a minute\."),
        N_("Slack is rate limiting the access check ({method}); try again in a minute."),
    ),
    (
        re.compile(r"Slack answered HTTP (?P<status>\S+) to (?P<method>[\w.]+); try again in a minute\."),
        N_("Slack answered HTTP {status} to {method}; try again in a minute."),
    ),
    (
        re.compile(r"the app lacks a Slack scope for (?P<method>[\w.]+); reinstall it from the manifest\."),
        N_("the app lacks a Slack scope for {method}; reinstall it from the manifest."),
    ),
    (
        re.compile(r"Slack answered (?P<code>\S+) to (?P<method>[\w.]+); try again in a minute\."),
        N_("Slack answered {code} to {method}; try again in a minute."),
    ),
    (
        re.compile(r"could not reach Slack to check access \((?P<method>[\w.]+)\); try again in a minute\."),
        N_("could not reach Slack to check access ({method}); try again in a minute."),
    ),
    (re.compile(r"the (?P<role>owner|peer) account is empty"), N_("the {role} account is empty")),
    (
        re.compile(r"the (?P<role>owner|peer) account is (?P<length>\d+) characters long \(at most (?P<limit>\d+)\)"),
        N_("the {role} account is {length} characters long (at most {limit})"),
    ),
    (
        re.compile(r"the (?P<role>owner|peer) account may only hold letters, digits and _ @ \. -"),
        N_("the {role} account may only hold letters, digits and _ @ . -"),
    ),
    (
        re.compile(r"a (?P<kind>team|super team) target must be a numeric team ID of at most (?P<digits>\d+) digits"),
        N_("a {kind} target must be a numeric team ID of at most {digits} digits"),
    ),
    (
        re.compile(r"unknown environment (?P<name>'[^']*'|\"[^\"]*\"); known: (?P<known>.*)"),
        N_("unknown environment {name}; known: {known}"),
    ),
    (
        re.compile(r"Yunxin is rate limiting this app; paused for (?P<seconds>\d+) s"),
        N_("Yunxin is rate limiting this app; paused for {seconds} s"),
    ),
    (
        re.compile(r"Yunxin has not been answering; the bot stopped calling it for (?P<seconds>\d+) s"),
        N_("Yunxin has not been answering; the bot stopped calling it for {seconds} s"),
    ),
)


def translate_outside(text: str, t: Translator) -> str:
    """`text`, written in English outside the Slack layer, in `t`'s language (as it is when unknown)."""
    if t is EN or not text:
        return text
    translated = t.gettext(text)
    if translated != text:
        return translated
    for pattern, template in PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values = match.groupdict()
        if "role" in values:
            values["role"] = t.gettext(_ROLE[values["role"]])
        if "kind" in values:
            values["kind"] = t.gettext(_KIND[values["kind"]])
        return t.gettext(template).format(**values)
    return text
