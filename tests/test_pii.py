import datetime as dt

import pytest

from bot import pii

VALID = ["11010519491231002X", "440524188001010014", "360426199101010071"]


@pytest.mark.parametrize("number", VALID)
def test_published_valid_numbers_pass(number):
    assert pii.normalize_id_number(number) == number


def test_input_is_normalised():
    assert pii.normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
    assert pii.normalize_id_number(" 110105 19491231 002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("110105194912310021", "check_character"),
        ("110105491231002", "legacy_15_digits"),
        ("11010519491231002", "length"),
        ("1101051949123100211", "length"),
        ("11010519491331002X", "birth_date"),  # month 13
        ("110105219912310025", "birth_date"),  # in the future
        ("11010519A91231002X", "characters"),
        ("", "length"),
    ],
)
def test_invalid_numbers_say_why(text, reason):
    with pytest.raises(pii.InvalidIdNumber) as error:
        pii.normalize_id_number(text, today=dt.date(2026, 11, 24))
    assert error.value.reason == reason
    assert set(pii.ID_NUMBER_REASONS[reason]) == {"zh", "en"}


def test_check_character_matches_the_standard():
    assert pii.check_character("11010519491231002") == "X"
    assert pii.check_character("44052418800101001") == "4"


def test_masks():
    assert pii.mask_id_number("11010519491231002X") == "110105********002X"
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_name("张三") == "张*"
    assert pii.mask_name("王小明") == "王*明"
    assert pii.mask_name("John Smith") == "J*** S****"


def test_redact_masks_personal_data_in_free_text():
    text = "我的身份证是11010519491231002X，手机13812345678，验证码 493817"
    redacted = pii.redact(text, codes=True)
    for secret in ("11010519491231002X", "13812345678", "493817"):
        assert secret not in redacted
    assert "110105********002X" in redacted and "138****5678" in redacted
    assert pii.redact("补办要多久？") == "补办要多久？"  # nothing else changes
    assert pii.redact("号码１１０１０５１９４９１２３１００２Ｘ") == "号码110105********002X"
    assert pii.redact("code 1234", codes=False) == "code 1234"


# Every way the form accepts an ID number (or a phone is commonly typed): redaction finds it.
ID_FORMS = [
    "440524 18800101 0014", "4405 2418 8001 0100 14", "440524-18800101-0014",
    "４４０５２４ １８８００１０１ ００１４", "11010519491231002x",
    "ID440524188001010014", "身份证440524188001010014号",
]
PHONE_FORMS = ["138 000 00002", "1380-000-0002", "+86 138 0000 0002", "138.0000.0002", "tel13800000002"]


def _folded_digits(text):
    return "".join(ch for ch in pii.redact(text) if ch.isdigit())


@pytest.mark.parametrize("typed", ID_FORMS)
def test_redaction_finds_every_id_number_the_form_accepts(typed):
    pii.normalize_id_number(typed.replace("ID", "").replace("身份证", "").replace("号", ""))  # the form takes it
    redacted = pii.redact(f"我的号码是 {typed} 谢谢")
    number = pii._fold(typed)[-18:]
    assert number[6:14] not in "".join(ch for ch in redacted if ch.isdigit() or ch in "Xx*")
    assert "********" in redacted


@pytest.mark.parametrize("typed", PHONE_FORMS)
def test_redaction_finds_phones_with_separators(typed):
    redacted = pii.redact(f"电话 {typed}，谢谢")
    assert "0000000" not in _folded_digits(redacted) and "****" in redacted


def test_a_phone_next_to_an_id_number_leaves_neither():
    redacted = pii.redact("138 0000 0002 440524188001010014")
    assert "18800101" not in _folded_digits(redacted) and "00000002" not in _folded_digits(redacted)


def test_validation_and_redaction_share_one_separator_list():
    for typed in ("440524.18800101.0014", "440524 - 18800101 - 0014"):
        assert pii.normalize_id_number(typed) == "440524188001010014"
        assert "18800101" not in _folded_digits(typed)


def test_short_numbers_and_spaced_codes():
    assert pii.redact("营业时间 9 点到 17 点，电话 2024-11-25") == "营业时间 9 点到 17 点，电话 2024-11-25"
    assert pii.redact("验证码 123 456", codes=True) == "验证码 *** ***"
