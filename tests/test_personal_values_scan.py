"""tests/support/personal_values.py: the session-end scan finds a typed ID
number or phone number in every form people type it, and not in a log's run of
unrelated numbers (a clean clone's CI once failed on nginx's timing fields)."""
from tests.support.personal_values import canonical, found_in

PHONE, ID_NUMBER, CODE = "13912345678", "11010519491231002X", "482913"


def test_a_value_is_found_as_people_type_it():
    for text in ("手机13912345678", "139 1234 5678", "139-1234-5678", "+86 139 1234 5678", "8613912345678",
                 '{"phone": "13912345678"}', "１３９１２３４５６７８", "phone:139.1234.5678"):
        assert found_in(text, [PHONE]) == [PHONE], text
    for text in ("110105 19491231 002x", "身份证11010519491231002X。", "110105-19491231-002X"):
        assert found_in(text, [ID_NUMBER]) == [ID_NUMBER], text
    assert found_in("验证码 482913", [CODE]) == [CODE]


def test_runs_of_unrelated_numbers_are_not_a_value():
    log = ('127.0.0.1 [03/Dec/2026:15:40:01 +0000] "POST /webhooks/rest/webhook" 200 127.0.0.1:41391 '
           '0.013 0.139 1234 5678 0.002')
    assert PHONE in canonical(log)  # the separators removed, the run holds the digits
    assert found_in(log, [PHONE]) == []
    assert found_in("id 211010519491231002X9", [ID_NUMBER]) == []
    for text in ("0.482913", "A482913", "1482913", "4829135"):
        assert found_in(text, [CODE]) == [], text  # a code only as a number of its own
