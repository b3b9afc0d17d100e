"""Every message that is not a lookup's answer: help, a refusal, a failed lookup, a short notice, and the
apology for an error on the bot's side (with the reference that finds it in the logs), in the reader's
language."""

from __future__ import annotations

from collections.abc import Sequence

from bot.yunxin.errors import YunxinError

from ..i18n import EN, Translator
from ..i18n.outside import translate_outside
from .kit import (
    Block,
    Message,
    code,
    context,
    escape_mrkdwn,
    header,
    message,
    safe_text,
    sandbox_context,
    section,
    shorten,
)
from .yunxin_text import ID_SHOWN_MAX, error_text, error_title


def render_help(
    *,
    command: str = "/conversation",
    example_ids: Sequence[str],
    sandbox: bool,
    note: str | None = None,
    environments: Sequence[str] = (),
    default_environment: str | None = None,
    t: Translator = EN,
) -> Message:
    """How to use the command: the ID format, separators, environments, an example, and the other ways in."""
    shown_command = escape_mrkdwn(command)
    blocks: list[Block] = [header(t.gettext("Look up Yunxin conversations"))]
    if note:
        blocks.append(section(f":information_source: {safe_text(note, 500)}"))
    blocks.append(
        section(
            t.gettext(
                "*Usage:* `{command} ID [ID …]`\n"
                "Each ID is `owner|type|target`: the owner's account, the conversation type, and its target.\n"
                "• `1` one-to-one: the target is the peer's account, e.g. `alice|1|bob`\n"
                "• `2` team: the target is the numeric team ID, e.g. `alice|2|123456`\n"
                "• `3` super team: the target is the numeric super team ID, e.g. `alice|3|7890`\n"
                "Separate IDs with spaces, commas or new lines."
            ).format(command=shown_command)
        )
    )
    if len(environments) > 1:
        default = t.gettext(" (default)")
        names = ", ".join(
            f"`{escape_mrkdwn(shorten(name, 40))}`" + (default if name == default_environment else "")
            for name in environments[:20]
        )
        blocks.append(
            section(
                t.gettext("*Yunxin environments:* {names}\nPick one with `{command} --env NAME ID …`.").format(
                    names=names, command=shown_command
                )
            )
        )
    if example_ids:
        example = " ".join(escape_mrkdwn(shorten(i, ID_SHOWN_MAX)) for i in example_ids[:5])
        blocks.append(section(t.gettext("*Example:*\n`{command} {ids}`").format(command=shown_command, ids=example)))
    blocks.append(
        context(
            [
                t.gettext(
                    "Answers are visible only to you: *Share in channel* posts them for everyone, *Refresh* looks "
                    "again, *Details* shows every field of a conversation (on a long answer, *Details…* lists the "
                    "conversations found to choose from), *Download CSV* sends you the answer as a file in your "
                    "direct messages with the bot. On any message, the *Look up in Yunxin* shortcut "
                    "(⋯ → More message shortcuts) finds the IDs quoted in it."
                )
            ]
        )
    )
    blocks.extend(sandbox_context(sandbox, t))
    return message(t.gettext("How to use {command}").format(command=shown_command), blocks)


def render_refusal(reason: str, contact: str, t: Translator = EN) -> Message:
    """The person may not look up conversations here: why, and whom to ask."""
    title = t.gettext("You can't look up Yunxin conversations here.")
    text = f":no_entry: *{title}*\n{safe_text(translate_outside(reason, t), 1000)}\n" + t.gettext(
        "To get access, ask {contact}."
    ).format(contact=safe_text(contact, 500))
    return message(title, [section(text)])


def render_error(error: YunxinError, *, sandbox: bool = False, t: Translator = EN) -> Message:
    """A lookup that failed as a whole: what failed, what to do, the trace ID to quote."""
    blocks = [section(error_text(error, 1000, t)), *sandbox_context(sandbox, t)]
    return message(escape_mrkdwn(error_title(error, t)), blocks)


def render_notice(text: str) -> Message:
    """A short plain notice such as "Looking up 3 conversations…" (already in the reader's language)."""
    shown = safe_text(text, 2000) or "…"
    return message(shown, [section(shown)])


def render_unexpected(reference: str, t: Translator = EN) -> Message:
    """Something broke on the bot's side; the reference finds it in the logs."""
    text = t.gettext(
        ":warning: Something went wrong on our side. "
        "If it happens again, quote reference {reference} to the bot's maintainers."
    ).format(reference=code(reference, 100))
    fallback = t.gettext("Something went wrong on our side (reference {reference}).").format(
        reference=escape_mrkdwn(shorten(reference, 100))
    )
    return message(fallback, [section(text)])
