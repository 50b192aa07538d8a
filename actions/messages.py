"""What the actions say, in the user's language: the one lookup of their words.

The words are actions/messages.yml; why an ID number is refused is worded
where the number is checked (bot/privacy/pii.py, whose reasons the card backend's API
gives too) and looked up here as `id_number_<reason>`. A text missing in a
language is said in the default language (bot.text.DEFAULT_LANGUAGE).
"""
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk.executor import CollectingDispatcher

from bot.privacy.pii import ID_NUMBER_REASONS
from bot.text import DEFAULT_LANGUAGE

MESSAGES = Path(__file__).with_name("messages.yml")


@lru_cache(maxsize=None)
def _messages() -> Dict[str, Dict[str, Any]]:
    messages = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))
    messages.update({f"id_number_{reason}": texts for reason, texts in ID_NUMBER_REASONS.items()})
    return messages


def _in(language: str, versions: Dict[str, Any]) -> Any:
    return versions.get(language) or versions.get(DEFAULT_LANGUAGE)


def known(key: str) -> bool:
    return key in _messages()


def text(key: str, language: str, **fields: Any) -> str:
    return _in(language, _messages()[key]).format(**fields)


def buttons(key: str, language: str) -> List[Dict[str, str]]:
    return _in(language, _messages()[key].get("buttons") or {}) or []


def say(dispatcher: CollectingDispatcher, key: str, language: str, custom: Optional[Dict[str, Any]] = None,
        **fields: Any) -> None:
    """The message `key` with its buttons; `custom`: a payload for the channel, never shown
    (a hand-over's `{"handoff": {...}}`, which the web process and WeChat read)."""
    dispatcher.utter_message(text=text(key, language, **fields), buttons=buttons(key, language), json_message=custom)


def templates(language: str) -> List[str]:
    """Every text an action can say in `language`, its {fields} unfilled."""
    return [_in(language, versions) for versions in _messages().values()]
