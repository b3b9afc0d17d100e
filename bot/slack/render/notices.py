"""Every message that is not a lookup's answer: help, a refusal, a failed lookup, a short notice, and the
apology for an error on the bot's side (with the reference that finds it in the logs)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.yunxin.errors import YunxinError

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
from .yunxin_text import ID_SHOWN_MAX, error_text


def render_help(
    *,
    command: str = "/conversation",
    example_ids: Sequence[str],
    sandbox: bool,
    note: str | None = None,
    environments: Sequence[str] = (),
    default_environment: str | None = None,
) -> Message:
    """How to use the command: the ID format, separators, environments, an example, and the other ways in."""
    shown_command = escape_mrkdwn(command)
    blocks: list[Block] = [header("Look up Yunxin conversations")]
    if note:
        blocks.append(section(f":information_source: {safe_text(note, 500)}"))
    blocks.append(
        section(
            f"*Usage:* `{shown_command} ID [ID …]`\n"
            "Each ID is `owner|type|target`: the owner's account, the conversation type, and its target.\n"
            "• `1` one-to-one: the target is the peer's account, e.g. `alice|1|bob`\n"
            "• `2` team: the target is the numeric team ID, e.g. `alice|2|123456`\n"
            "• `3` super team: the target is the numeric super team ID, e.g. `alice|3|7890`\n"
            "Separate IDs with spaces, commas or new lines."
        )
    )
    if len(environments) > 1:
        names = ", ".join(
            f"`{escape_mrkdwn(shorten(name, 40))}`" + (" (default)" if name == default_environment else "")
            for name in environments[:20]
        )
        blocks.append(section(f"*Yunxin environments:* {names}\nPick one with `{shown_command} --env NAME ID …`."))
    if example_ids:
        example = " ".join(escape_mrkdwn(shorten(i, ID_SHOWN_MAX)) for i in example_ids[:5])
        blocks.append(section(f"*Example:*\n`{shown_command} {example}`"))
    blocks.append(
        context(
            [
                "Answers are visible only to you: *Share in channel* posts them for everyone, *Refresh* looks "
                "again, *Details* shows every field of a conversation (on a long answer, *Details…* lists the "
                "conversations found to choose from). On any message, the *Look up in Yunxin* shortcut "
                "(⋯ → More message shortcuts) finds the IDs quoted in it."
            ]
        )
    )
    blocks.extend(sandbox_context(sandbox))
    return message(f"How to use {shown_command}", blocks)


def render_refusal(reason: str, contact: str) -> Message:
    """The person may not look up conversations here: why, and whom to ask."""
    text = (
        ":no_entry: *You can't look up Yunxin conversations here.*\n"
        f"{safe_text(reason, 1000)}\n"
        f"To get access, ask {safe_text(contact, 500)}."
    )
    return message("You can't look up Yunxin conversations here.", [section(text)])


def render_error(error: YunxinError, *, sandbox: bool = False) -> Message:
    """A lookup that failed as a whole: what failed, what to do, the trace ID to quote."""
    blocks = [section(error_text(error, 1000)), *sandbox_context(sandbox)]
    return message(escape_mrkdwn(error.title), blocks)


def render_notice(text: str) -> Message:
    """A short plain notice such as "Looking up 3 conversations…"."""
    shown = safe_text(text, 2000) or "…"
    return message(shown, [section(shown)])


def render_unexpected(reference: str) -> Message:
    """Something broke on the bot's side; the reference finds it in the logs."""
    text = (
        ":warning: Something went wrong on our side. "
        f"If it happens again, quote reference {code(reference, 100)} to the bot's maintainers."
    )
    return message(
        f"Something went wrong on our side (reference {escape_mrkdwn(shorten(reference, 100))}).", [section(text)]
    )
