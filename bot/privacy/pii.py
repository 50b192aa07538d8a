"""Personal data: validating and masking resident ID numbers, phones, names.

Resident ID numbers follow GB 11643-1999: 17 digits (6 region, 8 birth date,
3 sequence) and a check character from the weighted sum mod 11. Everything
that shows personal data shows it masked; everything that stores or logs text
a user typed runs it through `redact` first.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from typing import Optional

from bot.backend.openapi import TICKET_NUMBER_PATTERN

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class InvalidIdNumber(ValueError):
    """The text is not a valid resident ID number; `reason` says why (a key
    of ID_NUMBER_REASONS, for a message in the user's language)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


ID_NUMBER_REASONS = {
    "legacy_15_digits": {
        "zh": "这是旧的15位身份证号码，请提供新的18位号码。",
        "en": "That is an old 15-digit ID number; please give the 18-digit one.",
    },
    "length": {
        "zh": "居民身份证号码应为18位（17位数字加最后一位数字或X）。",
        "en": "A resident ID number has 18 characters: 17 digits and a last digit or X.",
    },
    "characters": {
        "zh": "身份证号码只能包含数字，最后一位可以是X。",
        "en": "An ID number has only digits, except that the last character may be X.",
    },
    "birth_date": {
        "zh": "身份证号码中的出生日期（第7到14位）不是有效日期。",
        "en": "The birth date in the ID number (characters 7 to 14) is not a valid date.",
    },
    "check_character": {
        "zh": "身份证号码最后一位校验码不对，请核对后重新输入。",
        "en": "The last (check) character of the ID number is wrong; please check the number.",
    },
}


# What people put between the digits of an ID or phone number (after NFKC):
# spaces, dashes of any kind, dots. The one list: validation folds them away
# and redaction looks for numbers written with them.
SEPARATOR = r"[\s.\-\u2010-\u2015\u2212]"


def _fold(text: str) -> str:
    """Full-width to half-width, no separators, upper-case X."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(SEPARATOR, "", text).upper()


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def normalize_id_number(text: str, today: Optional[_dt.date] = None) -> str:
    """The canonical 18-character ID number, or InvalidIdNumber."""
    number = _fold(text)
    if re.fullmatch(r"\d{15}", number):
        raise InvalidIdNumber("legacy_15_digits")
    if len(number) != 18:
        raise InvalidIdNumber("length")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise InvalidIdNumber("characters")
    try:
        born = _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth_date") from None
    if born > (today or _dt.date.today()) or born.year < 1850:
        raise InvalidIdNumber("birth_date")
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumber("check_character")
    return number


def is_valid_id_number(text: str) -> bool:
    try:
        normalize_id_number(text)
        return True
    except InvalidIdNumber:
        return False


def mask_id_number(number: str) -> str:
    """First 6 and last 4 kept: 110105********002X."""
    number = _fold(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "*" * len(number)


def mask_phone(phone: str) -> str:
    """138****5678."""
    digits = re.sub(r"\D", "", _fold(phone))
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "*" * len(digits)


# --- What a message typed at a form's prompt is (name, ID number, code) -------------
# A value is typed alone. Questions, sentences, thanks, greetings, yes/no and
# asking to leave are something else, recognised by their form (NLU may
# classify a question at a name prompt only weakly). Matched on
# bot.text.normalize_text (NFKC, simplified, lower case).

# Chinese: 2-6 characters, or parts joined by the middle dot (阿卜杜·热合曼),
# which people also type as a period or another dot.
_HAN_NAME = re.compile(r"[\u4e00-\u9fff]{2,6}|[\u4e00-\u9fff]{1,8}(?:·[\u4e00-\u9fff]{1,8}){1,3}")
_NAME_DOTS = re.compile(r"\s*[.．•‧・･·]\s*")
# Latin: 1-4 words of letters with hyphens, apostrophes, periods (Mary-Ann O'Neil, J. R. Smith).
_LATIN_WORD_OF_NAME = re.compile(r"[a-z\u00c0-\u024f]+(?:['\-.][a-z\u00c0-\u024f]*)*\.?")
# Talk about the card business: a statement or a request, not a value.
# (Not 卡 alone: 卡 and 不 are common in transliterated names, 阿不都·卡德尔.)
_CARD_WORDS_ZH = (r"社保|社会保障|[社银新旧补办换领]卡|卡[号片丢坏]|这张卡|身份|证件|补办|激活|挂失|密码|银行|号码|验证|"
                  r"手机|电话|人工|客服|办理|业务|查询|状态|申请|进度")
_CARD_WORDS_EN = frozenset("card cards activate activation reissue replacement lost stolen password pin bank status".split())
# Characters and words that never make a Chinese name: question and sentence
# particles, pronouns, thanks, greetings, yes/no, leaving, the card business.
_NOT_IN_HAN_NAME = re.compile(
    r"[吗呢嘛么吧啊呀哦了的我你您怎谁哪啥几没]|不[是对要用办行知清想弄搞查做]|什么|多久|多少|多长|为何|如何|可以|请问|需要|"
    r"谢谢|多谢|感谢|再见|拜拜|早上好|晚上好|算了|退出|取消|停止|终止|中止|结束|" + _CARD_WORDS_ZH
)
# Whole Chinese messages that are conversation words (single characters are never names anyway).
_CHAT_ZH = frozenset("""好 好的 好吧 是 是的 对 对的 对啊 不是 不对 没有 没事 行 行吧 不行 可以 收到 明白 明白了 知道 知道了 不知道
不清楚 嗯 嗯嗯 哦 哈哈 呵呵 在吗 在不在 你好 您好 嗨 等一下 稍等 等等""".split())
# English words that make a message chit-chat.
_CHAT_EN = frozenset("""ok okay k yes yeah yep yup no nope sure hi hello hey thanks thank thx ty bye goodbye cheers great
good fine cool alright sorry hmm um uh ah oh lol haha test testing help""".split())
# English words that make a message a question or a sentence, not a name.
# (Pinyin and other surnames that are also English words are left out: He, You, An, Long, To, Do, Will, May.)
_NOT_IN_LATIN_NAME = frozenset("""how what whats why when where who whom which whose i im i'm my me mine your yours the this that
it it's its is are am was were there please pls want need help card cards id code number phone password pin bank activate
activation activated reissue reissued replace replacement lost lose stolen status new get take much cost costs fee human
agent staff someone name and or not don't dont can't cannot thanks thank hello hi hey bye goodbye ok okay yes no""".split())
_AUXILIARIES = frozenset("is are am do does did can could will would should may shall have has".split())
_PRONOUNS = frozenset("i you my your it this that the a we they he she me there".split())
_QUESTION_ZH = re.compile(r"[吗呢嘛]|什么|怎么|怎样|多久|多少|多长|几天|几个|几点|哪|谁|啥|为什么|为何|如何|能不能|能否|"
                          r"可不可以|是不是|有没有|要不要|请问")
# ... and thanks, greetings, goodbyes, talking about oneself or the assistant.
_CHAT_IN_ZH = re.compile(r"谢谢|多谢|感谢|你好|您好|再见|拜拜|我|你|您")
_LEAVE_ZH = re.compile(
    r"(?:那|那就|好|好吧|嗯|唉|哎|还是|我|我要|我想|先|就)*"
    r"(?:(?:算了|不办了?|不要了?|不用了?|不弄了?|不搞了?|不查了?|不做了?|不想办了?|别弄了?|别办了?|退出|取消|停止?|终止|中止|结束)"
    r"(?:吧|了|啦|呀|啊|谢谢)*)+"
)
_LEAVE_EN = re.compile(
    r"(?:(?:ok|okay|oh|no|please|just|actually|um|hmm|sorry|ah)\s+)*(?:i\s+want\s+to\s+|i\s+wanna\s+|let'?s\s+)?"
    r"(?:never\s*mind|nvm|forget\s+(?:it|about\s+it|that|this)|quit|stop|cancel|exit|abort|leave|give\s+up|i\s+give\s+up|no\s+thanks)"
    r"(?:\s+(?:it|this|that|please|now|then|thanks|thank\s+you))*"
)
_PUNCTUATION = re.compile(r"[\s,.!?;:~，。！？；：、…～\"'“”‘’()（）]+")
# A mainland mobile number as typed instead of an ID number (+86 and separators folded away).
_MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")


def _normalized(text: Optional[str]) -> str:
    from bot.text import normalize_text  # zhconv: imported only where a prompt is read

    return normalize_text(text or "").strip()


def _latin_words(text: str) -> list:
    return re.findall(r"[a-z\u00c0-\u024f']+", text)


def looks_like_name(text: Optional[str]) -> bool:
    """A whole message that is a person's name: 2-6 Chinese characters, or
    parts joined by the middle dot (阿卜杜·热合曼); or 1-4 Latin words. Never a
    question, a sentence, thanks, a greeting, yes/no, or a card word."""
    text = _normalized(text)
    if not text or says_something_else(text):
        return False
    han = _NAME_DOTS.sub("·", text)
    if _HAN_NAME.fullmatch(han):
        return not _NOT_IN_HAN_NAME.search(han)
    words = text.split()
    return (len(words) <= 4 and len(text) <= 60 and all(_LATIN_WORD_OF_NAME.fullmatch(w) for w in words)
            and not any(w.strip(".") in _NOT_IN_LATIN_NAME for w in words))


def says_something_else(text: Optional[str]) -> bool:
    """The message is a question, a sentence, thanks, a greeting, yes/no or
    chit-chat, or asks to leave: not a value typed at a prompt."""
    text = _normalized(text)
    if not text:
        return False
    if "?" in text or asks_to_leave(text) or _PUNCTUATION.sub("", text) in _CHAT_ZH:
        return True
    if _QUESTION_ZH.search(text) or _CHAT_IN_ZH.search(text):
        return True
    words = _latin_words(text)
    if words and (words[0] in {"how", "what", "whats", "why", "when", "where", "who", "which"}
                  or (len(words) > 1 and words[0] in _AUXILIARIES and words[1] in _PRONOUNS)
                  or any(w in _CHAT_EN for w in words)):
        return True
    if not re.search(r"\d", text) and (re.search(_CARD_WORDS_ZH, text) or any(w in _CARD_WORDS_EN for w in words)):
        return True
    # A sentence: many words, or many Chinese characters, with no digits in it.
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    return not re.search(r"\d", text) and (len(words) > 4 or (han > 6 and "·" not in _NAME_DOTS.sub("·", text)))


def asks_to_leave(text: Optional[str]) -> bool:
    """The whole message asks to stop what is going on: 算了, 不办了, 不要了,
    退出, 取消, never mind, forget it, quit, stop (and their usual variants)."""
    text = _PUNCTUATION.sub(" ", _normalized(text)).strip()
    return bool(_LEAVE_ZH.fullmatch(text.replace(" ", "")) or _LEAVE_EN.fullmatch(re.sub(r"\s+", " ", text)))


_NAME_INTRO = re.compile(r"(?:我叫|我是|我的名字是|我的姓名是|我的名字叫|名字是|姓名是|名字|姓名|"
                         r"my\s+name\s+is|my\s+name's|i\s+am|i'm|this\s+is|name)\s*[:：]?\s*", re.IGNORECASE)
_AROUND_NAME = " \t\r\n。，,！!、~～"


def name_typed(text: Optional[str]) -> Optional[str]:
    """The name in a message typed at the name prompt, as typed: the whole
    message, or what follows 我叫 / 姓名: / my name is; None when there is none."""
    raw = (text or "").strip(_AROUND_NAME)
    intro = _NAME_INTRO.match(raw)
    name = raw if looks_like_name(raw) else raw[intro.end():].strip(_AROUND_NAME) if intro else ""
    if not name or not looks_like_name(name):
        return None
    # 阿卜杜.热合曼 -> 阿卜杜·热合曼: the ID card (and the backend) spell it with the middle dot.
    return _NAME_DOTS.sub("·", name) if re.search(r"[\u4e00-\u9fff]", name) else name


def number_typed(text: Optional[str]) -> Optional[str]:
    """The one number in a message typed at an ID-number or code prompt, as
    typed (with its separators), or None: the whole message when it is just a
    number ("4405 2418 8001 0100 14", "+86 138-0000-0002"), else the single
    number inside a statement ("我的身份证号是440524188001010014"). A question
    has none."""
    raw = (text or "").strip()
    folded = _fold(raw)
    if re.fullmatch(r"\+?\d[\dX]*", folded):
        return raw
    if "?" in unicodedata.normalize("NFKC", raw) or _QUESTION_ZH.search(_normalized(raw)):
        return None
    numbers = re.findall(r"\d[\d\s\-]*[\dXx]|\d", unicodedata.normalize("NFKC", raw))
    return numbers[0].strip() if len(numbers) == 1 else None


def looks_like_phone_number(text: Optional[str]) -> bool:
    """A mainland mobile number (11 digits from 13-19), with or without +86
    and separators: typed where an ID number was asked for."""
    return bool(_MOBILE.fullmatch(_fold(text or "")))


def mobile_number(text: Optional[str]) -> Optional[str]:
    """The 11 digits of a mainland mobile number as typed (+86, separators,
    full-width digits), or None: what a call back may be given."""
    folded = _fold(text or "")
    return re.sub(r"\D", "", folded)[-11:] if _MOBILE.fullmatch(folded) else None


def mask_name(name: str) -> str:
    """张* / 王*明 / J*** S****: the first character (and the last of a
    three-or-more-character Chinese name) kept."""
    name = (name or "").strip()
    if not name:
        return ""
    if re.search(r"[\u4e00-\u9fff]", name):
        if len(name) <= 2:
            return name[0] + "*"
        return name[0] + "*" * (len(name) - 2) + name[-1]
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())


# A number as people type it in free text: digits, up to 3 separators between
# any two of them, maybe a final X. Letters around it do not matter
# ("ID440524188001010014"). The whole run is judged at once, so a phone typed
# right before an ID number cannot leave part of either in clear. A handoff
# ticket number (the backend's HD-YYYYMMDD-NNNN, no personal data) is matched
# whole first and left as it is: its 12+ digits would be masked like a phone.
_TICKET_NUMBER = TICKET_NUMBER_PATTERN.strip("^$") + r"(?!\d)"
_NUMBER_IN_TEXT = re.compile(
    rf"(?P<ticket>(?<![A-Za-z]){_TICKET_NUMBER})"
    rf"|(?<!\d)\d(?:{SEPARATOR}{{0,3}}\d)*(?:{SEPARATOR}{{0,3}}[Xx](?![A-Za-z]))?")
_LONG_NUMBER = 11  # a mobile number's length: any run this long may be an ID or a phone
_CODE_LENGTH = 4  # with codes=True, shorter runs are kept (times, counts)
# Public service numbers the answers give (the national social insurance hotline): no
# one's personal data, and no code (codes have 6 digits), so never masked.
PUBLIC_NUMBERS = frozenset({"12333"})


def _mask_number(typed: str, codes: bool) -> str:
    folded = _fold(typed)
    if folded in PUBLIC_NUMBERS:
        return typed
    if len(folded) in (15, 18):
        return mask_id_number(folded)
    if len(folded) >= _LONG_NUMBER:
        return mask_phone(folded)  # first 3 and last 4 kept, whatever it is
    if codes and len(folded) >= _CODE_LENGTH:
        return re.sub(r"[\dXx]", "*", typed)  # separators kept: "123 456" -> "*** ***"
    return typed


def redact(text: str, *, codes: bool = False) -> str:
    """Text with ID numbers and phone numbers masked, however they are
    written (separators, full-width digits); with codes=True, any other run
    of 4-10 digits too (a verification code the user typed)."""
    if not text:
        return text
    if re.search(r"[\uff10-\uff19\uff38\uff58]", text):  # full-width digits or X typed by an IME
        text = unicodedata.normalize("NFKC", text)
    return _NUMBER_IN_TEXT.sub(
        lambda match: match.group(0) if match.group("ticket") else _mask_number(match.group(0), codes), text)


ASCII_WORD = r"(?<![A-Za-z]){}(?![A-Za-z])"
_PASSWORD = re.compile(
    r"密\s*[码碼]|口\s*令|"
    + ASCII_WORD.format(r"(?:pins?|pin\s*codes?|pin\s*numbers?|passwords?|pass\s+words?|passcodes?|passwd|pwd)"),
    re.IGNORECASE,
)


def mentions_password(text: Optional[str]) -> bool:
    """The text talks about a password or PIN ("密码是123456", "my pin is 1234")."""
    return bool(text) and bool(_PASSWORD.search(unicodedata.normalize("NFKC", text)))
