"""Text helpers shared by the NLU pipeline and the processes that must not
import Rasa (the web process): language detection and normalisation."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional, Text

import zhconv

ZH, EN = "zh", "en"
LANGUAGES = (ZH, EN)
# A conversation's language until a message says otherwise, and the words of
# any text that lacks the conversation's language.
DEFAULT_LANGUAGE = ZH

# CJK unified ideographs (with extension A) and the compatibility block: both
# simplified and traditional characters count as Chinese.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]{2,}")
# Latin words a Chinese speaker uses as often as an English one: they alone
# must not switch a Chinese conversation to English.
_NEUTRAL_WORDS = frozenset({"ok", "okay", "okk", "app", "id", "sms", "pin", "qq", "hi"})


def detect_language(text: Text) -> Optional[Text]:
    """Returns "zh", "en", or None when the text does not say which."""
    text = (text or "").strip()
    if not text or text.startswith("/"):  # empty, or a button payload
        return None
    han = len(_HAN.findall(text))
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if han == 0:
        if not words or all(w in _NEUTRAL_WORDS for w in words):
            return None
        return EN
    # Mixed text: a few English words inside a Chinese sentence ("社保卡 app
    # 怎么激活") stay Chinese; a few characters in an English one stay English.
    return ZH if han >= len(words) else EN


# An apostrophe inside a word: "can't" and "cant", "don’t" and "dont" are typed alike often.
_APOSTROPHE = re.compile(r"(?<=\w)['\u2019\u2018\u02bc](?=\w)")


def normalize_text(text: Text) -> Text:
    """NFKC (full-width to half-width), traditional to simplified, lower case, and no
    apostrophe inside a word (the tokenizer split "can't" into "can" and "t", a word the
    model had never seen with "remember": "i can't remember my pin" was not "i cant")."""
    text = unicodedata.normalize("NFKC", text)
    return _APOSTROPHE.sub("", zhconv.convert(text, "zh-cn").lower())


def is_clean_text(text: Text) -> bool:
    """Text a database and UTF-8 can hold: no NUL, no lone surrogate (JSON
    lets a client send "\\ud800", which no UTF-8 encoder accepts)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
