"""The actions' words: actions/messages.yml, in the user's language."""
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml
from rasa_sdk.executor import CollectingDispatcher

MESSAGES = Path(__file__).with_name("messages.yml")


@lru_cache(maxsize=None)
def _messages() -> Dict[str, Dict[str, Any]]:
    return yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))


def text(key: str, language: str, **fields: Any) -> str:
    message = _messages()[key]
    return (message.get(language) or message["zh"]).format(**fields)


def say(dispatcher: CollectingDispatcher, key: str, language: str, **fields: Any) -> None:
    message = _messages()[key]
    buttons = (message.get("buttons") or {}).get(language) or (message.get("buttons") or {}).get("zh") or []
    dispatcher.utter_message(text=text(key, language, **fields), buttons=buttons)
