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
