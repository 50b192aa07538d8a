import datetime as dt

import pytest

from bot.privacy import pii

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


# --- what a message typed at a form's prompt is (validation half) -------------------

NAMES = ["李四", "欧阳娜娜", "司马相如", "阿卜杜·热合曼", "阿卜杜.热合曼", "买买提·艾力", "阿不都热依木", "阿不都·卡德尔",
         "卡米拉", "John Smith", "Li Na", "Maria de Souza",
         "Mary-Ann O'Neil", "J. R. Smith", "José García", "Will Smith", "May Chen", "He Yun"]
NOT_NAMES = ["谢谢", "你好", "好的", "不是", "不知道", "算了", "退出", "取消", "不办了", "社保卡丢了", "卡丢了", "补卡", "张3", "我想补卡",
             "补办社保卡要多久", "怎么激活", "你是机器人吗", "how long does it take to get a new card", "thanks",
             "hello", "ok", "stop", "never mind", "is my card active", "what?", "Zhang San 123",
             "one two three four five", "", "阿", "一二三四五六七"]


@pytest.mark.parametrize("text", NAMES)
def test_names_are_recognised(text):
    assert pii.looks_like_name(text), text


@pytest.mark.parametrize("text", NOT_NAMES)
def test_questions_thanks_greetings_and_card_words_are_not_names(text):
    assert not pii.looks_like_name(text), text


@pytest.mark.parametrize("typed, name", [("我叫李四", "李四"), ("姓名：李四", "李四"), ("李四。", "李四"),
                                         ("阿卜杜．热合曼", "阿卜杜·热合曼"), ("my name is John Smith", "John Smith"),
                                         ("谢谢", None), ("我想问一下", None)])
def test_the_name_in_a_message_typed_at_the_name_prompt(typed, name):
    assert pii.name_typed(typed) == name


@pytest.mark.parametrize("text, other", [("谢谢", True), ("thank you", True), ("你好", True), ("what is it", True),
                                         ("can I pay by card", True), ("补卡要多少钱？", True), ("李四", False),
                                         ("440524188001010014", False), ("123456", False), ("John Smith", False)])
def test_something_else_than_a_value(text, other):
    assert pii.says_something_else(text) is other


@pytest.mark.parametrize("text", ["算了", "不办了", "不要了", "退出", "取消", "算了吧，不办了", "那算了", "never mind",
                                  "Never mind.", "forget it", "quit", "stop", "cancel please", "ok forget it"])
def test_asking_to_leave(text):
    assert pii.asks_to_leave(text), text


@pytest.mark.parametrize("text", ["取消挂失", "算了吗", "stop my card", "how do I cancel my card", "李四"])
def test_not_asking_to_leave(text):
    assert not pii.asks_to_leave(text), text


@pytest.mark.parametrize("typed, number", [
    ("440524188001010014", "440524188001010014"), ("4405 2418 8001 0100 14", "4405 2418 8001 0100 14"),
    ("我的身份证号是440524188001010014", "440524188001010014"), ("验证码是 123 456", "123 456"),
    ("身份证号码多少位？", None), ("the code is 123456, right?", None), ("谢谢", None),
])
def test_the_number_typed_at_a_number_prompt(typed, number):
    assert pii.number_typed(typed) == number


@pytest.mark.parametrize("typed", ["13800000002", "138 0000 0002", "138-0000-0002", "+86 138 0000 0002",
                                   "8613800000002", "１３８０００００００２"])
def test_phone_numbers_typed_instead_of_an_id_number(typed):
    assert pii.looks_like_phone_number(typed)


@pytest.mark.parametrize("typed", ["440524188001010014", "12800000002", "1380000000", "440524800101001"])
def test_not_phone_numbers(typed):
    assert not pii.looks_like_phone_number(typed)


def test_the_national_hotline_is_never_masked_but_a_code_is():
    assert pii.redact("请拨打12333咨询，验证码123456", codes=True) == "请拨打12333咨询，验证码******"
    assert pii.redact("code 1233", codes=True) == "code ****"
