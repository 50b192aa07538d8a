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


def _fold(text: str) -> str:
    """Full-width to half-width, no spaces or dashes, upper-case X."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\-]", "", text).upper()


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


_HAN_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,6}$")
_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z .'-]{1,40}$")


def looks_like_name(text: Optional[str]) -> bool:
    """A whole message that is a person's name: 2-6 Chinese characters, or Latin letters."""
    text = (text or "").strip()
    return bool(_HAN_NAME.match(text) or _LATIN_NAME.match(text))


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


# Candidates inside free text: 17 digits + digit/X (ID number), 15 digits
# (legacy ID), mainland mobile numbers, 4-8 digit codes after a code keyword.
_ID_IN_TEXT = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])|(?<!\d)\d{15}(?!\d)")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
_CODE_IN_TEXT = re.compile(r"(?<!\d)\d{4,8}(?!\d)")


def redact(text: str, *, codes: bool = False) -> str:
    """Text with ID numbers and phone numbers masked; with codes=True, any
    other run of 4-8 digits too (a verification code the user typed)."""
    if not text:
        return text
    patterns = [(_ID_IN_TEXT, mask_id_number), (_PHONE_IN_TEXT, mask_phone)]
    if codes:
        patterns.append((_CODE_IN_TEXT, lambda code: "*" * len(code)))
    # One pass over one alternation, so that a masked value is never masked again.
    combined = re.compile("|".join(f"(?P<p{i}>{p.pattern})" for i, (p, _) in enumerate(patterns)))

    def mask(match: re.Match) -> str:
        for i, (_, masker) in enumerate(patterns):
            if match.group(f"p{i}") is not None:
                return masker(match.group(0))
        return match.group(0)

    if re.search(r"[\uff10-\uff19\uff38\uff58]", text):  # full-width digits or X typed by an IME
        text = unicodedata.normalize("NFKC", text)
    return combined.sub(mask, text)


ASCII_WORD = r"(?<![A-Za-z]){}(?![A-Za-z])"
_PASSWORD = re.compile(
    r"密\s*[码碼]|口\s*令|"
    + ASCII_WORD.format(r"(?:pins?|pin\s*codes?|pin\s*numbers?|passwords?|pass\s+words?|passcodes?|passwd|pwd)"),
    re.IGNORECASE,
)


def mentions_password(text: Optional[str]) -> bool:
    """The text talks about a password or PIN ("密码是123456", "my pin is 1234")."""
    return bool(text) and bool(_PASSWORD.search(unicodedata.normalize("NFKC", text)))
