"""The reader's language: every text a person reads in Slack, in English or Simplified Chinese.

Texts are written in English in the code, marked for extraction (`t.gettext("...")`, `t.ngettext(...)`, or
`N_("...")` for a constant translated where it is shown), and translated through the gettext catalog beside
this file (`locale/zh_CN/LC_MESSAGES/messages.po`, compiled to `messages.mo`; README says how to regenerate
them with Babel). Placeholders are `str.format` fields (`{count}`), filled after translation.

Which language a reader gets: their Slack locale (`users.info` with `include_locale`), Simplified Chinese for
zh-CN and English for en-*; any other locale, anything posted for a channel, and anything said before the
reader's locale is known, in DEFAULT_LOCALE (English unless set).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from typing import Literal, get_args

DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

LocaleName = Literal["en", "zh_CN"]
LOCALES: tuple[LocaleName, ...] = get_args(LocaleName)
ENGLISH: LocaleName = "en"

# Slack's locales read as Simplified Chinese; every other one (zh-TW included) reads English.
_SIMPLIFIED_CHINESE = frozenset({"zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg", "zh-hans-sg"})


def N_(message: str) -> str:
    """Mark a constant for the catalog; it is translated where it is shown (`t.gettext(CONSTANT)`)."""
    return message


class Translator:
    """The texts of one language: `gettext` and `ngettext` as the stdlib has them, and the locale's name."""

    __slots__ = ("gettext", "locale", "ngettext")

    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]

    def __init__(self, locale: LocaleName, translations: NullTranslations) -> None:
        self.locale = locale
        # The catalog's own methods, not methods of ours calling them: one answer asks for a dozen texts or
        # more, and a call of ours around each would double what they cost.
        self.gettext = translations.gettext
        self.ngettext = translations.ngettext

    def __repr__(self) -> str:
        return f"Translator({self.locale!r})"


@cache
def translator(locale: LocaleName = ENGLISH) -> Translator:
    """The translator for `locale`; English is the code's own text."""
    if locale == ENGLISH:
        return Translator(ENGLISH, NullTranslations())
    with (LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as catalog:
        return Translator(locale, GNUTranslations(catalog))


EN = translator(ENGLISH)


def locale_name(value: str | None) -> LocaleName | None:
    """A setting's or Slack's locale (`en-US`, `zh-CN`, `zh_CN`) as one of ours; None when not given or not
    one the bot has texts in."""
    if not value or not isinstance(value, str):
        return None
    lowered = value.strip().replace("_", "-").lower()
    if lowered in _SIMPLIFIED_CHINESE:
        return "zh_CN"
    if lowered == "en" or lowered.startswith("en-"):
        return ENGLISH
    return None  # a language the bot has no texts in (zh-TW, ja-JP, ...): DEFAULT_LOCALE's


@lru_cache(maxsize=64)  # Slack's locales are a few dozen; every lookup asks for its asker's
def for_locale(value: str | None, default: LocaleName = ENGLISH) -> Translator:
    """The translator for a Slack locale, `default`'s when there is none."""
    return translator(locale_name(value) or default)
