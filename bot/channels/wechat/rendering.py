"""What a WeChat user reads: the assistant's messages as one plain text.

WeChat text messages have no buttons, so a button becomes a numbered option
("1. ...") and a reply of that number picks it. A passive reply must stay
short (about 2 KB), so a long answer is cut at a line or sentence boundary and
"继续"/"more" fetches the next part. The channel's own words (welcome,
unsupported message types, the rating questions) live here too.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional

from bot.text import DEFAULT_LANGUAGE, detect_language

# Passive replies must stay under about 2000 bytes of UTF-8; the XML around
# the content needs the rest.
MAX_REPLY_BYTES = 1800

_SENTENCE_END = re.compile(r"[。！？；!?;]|\.(?=\s)")
_MORE_WORDS = {"继续": "zh", "繼續": "zh", "更多": "zh", "more": "en", "continue": "en"}
_TRAILING_PUNCTUATION = " \t\r\n。.!！?？~～"

CHOOSE_PROMPT = {"zh": "回复数字选择", "en": "Reply with a number to choose."}
MORE_POINTER = {"zh": "（内容较长，回复“继续”查看余下部分）", "en": "(Reply 'more' for the rest)"}
NOTHING_MORE = {"zh": "没有更多内容了。您还可以继续提问。", "en": "That was all. Feel free to ask another question."}
TURN_FAILED = {
    "zh": "抱歉，系统暂时出了点问题，请稍后再试。",
    "en": "Sorry, something went wrong on our side. Please try again in a moment.",
}
WELCOME = (
    "您好，欢迎关注！我是社保卡智能助手，可以：\n"
    "· 解答社保卡补办、激活、使用和安全保管等问题\n"
    "· 查询社保卡状态\n"
    "· 激活补办的新卡\n"
    "· 办理社保卡临时挂失\n"
    "· 查询补换卡进度\n"
    "· 为您转接人工服务\n"
    "请直接用文字或语音提问，例如：“补办的社保卡需要重新激活吗？”\n"
    "Questions in English are welcome too."
)
# Citizens rate (issue 13, bot/channels/wechat/ratings.py): one line under a message, answered by a number.
RATE_ANSWER = {
    "zh": "这个回答对您有帮助吗？回复 1 有帮助，回复 2 没帮助。",
    "en": "Was this answer helpful? Reply 1 for yes, 2 for no.",
}
RATE_CONVERSATION = {
    "zh": "请为本次人工服务打分：回复 1 到 5 的数字（5 为非常满意）。",
    "en": "How satisfied are you with the help from our staff? Reply with a number from 1 (not at all) to 5 (very).",
}
RATING_THANKS = {"zh": "谢谢您的评价！", "en": "Thank you for your rating!"}
UNSUPPORTED = (
    "抱歉，我目前只能理解文字和语音消息，请用文字或语音告诉我您的问题。\n"
    "Sorry, I can only understand text and voice messages."
)


class Option(NamedTuple):
    title: str
    payload: str


@dataclass(frozen=True)
class Rendered:
    text: str
    options: List[Option]


def language_of(text: str) -> str:
    """The language `text` is written in (the NLU's detector); the default language
    when the text does not say (digits, an emoji, nothing)."""
    return detect_language(text) or DEFAULT_LANGUAGE


def render(messages: List[Dict[str, Any]]) -> Rendered:
    """One text from CollectingOutputChannel's messages; buttons numbered across all of them."""
    blocks: List[str] = []
    options: List[Option] = []
    for message in messages:
        lines = [message[key] for key in ("text", "image", "attachment") if message.get(key)]
        for button in message.get("buttons") or []:
            options.append(Option(str(button.get("title", "")), str(button.get("payload", ""))))
            lines.append(f"{len(options)}. {options[-1].title}")
        if lines:
            blocks.append("\n".join(lines))
    text = "\n\n".join(blocks)
    if options:
        text += "\n" + CHOOSE_PROMPT[language_of(text)]
    return Rendered(text, options)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut_point(text: str, budget: int) -> int:
    """How many characters of `text` go into a part of at most `budget` bytes,
    ending at a line, else a sentence, else a word boundary when one lies in
    the second half."""
    fits = len(text.encode("utf-8")[:budget].decode("utf-8", "ignore"))
    window = text[:fits]
    line = window.rfind("\n")
    if line >= fits // 2:
        return line + 1
    sentences = [m.end() for m in _SENTENCE_END.finditer(window)]
    if sentences and sentences[-1] >= fits // 2:
        return sentences[-1]
    space = window.rfind(" ")
    if space >= fits // 2:
        return space + 1
    return fits


def split_for_reply(text: str, limit: int = MAX_REPLY_BYTES, pointer: bool = True) -> List[str]:
    """The parts to send one by one; each but the last ends with the pointer to the
    rest ("继续"), unless `pointer` is False (parts that are all sent at once)."""
    rest = text.strip()
    ending = "\n" + MORE_POINTER[language_of(rest)] if pointer else ""
    parts: List[str] = []
    while _utf8_len(rest) > limit:
        cut = _cut_point(rest, limit - _utf8_len(ending))
        parts.append(rest[:cut].rstrip() + ending)
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return parts


def _normalized(text: str) -> str:
    # NFKC turns full-width digits and letters into ASCII ("２" -> "2").
    return unicodedata.normalize("NFKC", text or "").strip(_TRAILING_PUNCTUATION).lower()


def more_request_language(text: str) -> Optional[str]:
    """The language of a "继续"/"more" request, None if the text is something else."""
    return _MORE_WORDS.get(_normalized(text))


def chosen_option(text: str, options: List[Option]) -> Optional[Option]:
    """The option a reply like "2" or "２" picks, None if it picks none."""
    number = _normalized(text)
    if len(number) <= 3 and number.isdigit() and 1 <= int(number) <= len(options):
        return options[int(number) - 1]
    return None
