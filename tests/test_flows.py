"""The guided flows over the REST channel, against the product as `make run`
starts it (real backend with the demo data, real action server).

That nothing a citizen typed here (names, ID numbers right and wrong, codes,
a password) is left in clear text in any table, log or output file is checked
once every test of the session has typed its part (tests/support/personal_values.py)."""
import json
import sqlite3

import pytest

from tests.support import personal_values
from tests.support.product import texts

# A product of its own: these tests activate demo holders' cards and lock an identity for 30 minutes.
pytestmark = [pytest.mark.product, pytest.mark.own_product]

# Demo holders (bot/backend/seed.py) whose card waits for activation.
LI_SI = ("李四", "440524188001010014", "13800000002", "****0102")  # a reissued card
CHEN_JING = ("陈静", "440305199203150043", "13800000005", "****0005")  # a first card


def _activate(product, sender, holder):
    name, id_number, phone, card = holder
    assert "姓名" in texts(product.say(sender, "帮我激活社保卡"))
    assert "身份证号码" in texts(product.say(sender, name))
    wrong = personal_values.typed(id_number[:-1] + ("0" if id_number[-1] != "0" else "1"), "ID number")
    assert "校验码" in texts(product.say(sender, wrong))  # the specific reason, then asked again
    sent = texts(product.say(sender, id_number))
    # The same words whether or not a holder matched: no phone hint (issue 15).
    assert "验证码已发送到预留手机" in sent and f"{phone[:3]}****{phone[-4:]}" not in sent
    assert "还可以再试 4 次" in texts(product.say(sender, "000000" if product.latest_sms_code() != "000000" else "111111"))
    replies = product.say(sender, product.latest_sms_code())
    answer = texts(replies)
    assert "身份核验成功" in answer and f"{id_number[:6]}********{id_number[-4:]}" in answer
    assert card in answer and "确认激活" in answer
    assert replies[-1]["buttons"][0]["payload"] == "/affirm"
    return texts(product.say(sender, "/affirm"))


def test_activation_in_chinese_then_status_without_asking_again(product):
    sender = "flow-activate-zh"
    done = _activate(product, sender, LI_SI)
    assert "已为卡 ****0102 激活社会保障功能" in done
    assert "银行" in done and "密码" in done  # the bank function and PIN stay with the bank
    status = texts(product.say(sender, "帮我查一下我的社保卡现在是什么状态"))
    assert "姓名" not in status  # verified once per conversation
    assert "****0102" in status and "正常使用中" in status


def test_the_name_and_the_token_travel_sealed_and_the_name_is_stored_masked(product):
    sender = "flow-sealed"
    _activate(product, sender, CHEN_JING)
    with sqlite3.connect(product.env["TRACKER_DB"]) as db:
        conversation = [json.loads(data) for (data,) in db.execute(
            "select data from events where sender_id = ? order by id", (sender,))]
    # The name and the verification token travel between turns sealed; the
    # name typed at the prompt is stored masked.
    tokens = [e["value"] for e in conversation if e["event"] == "slot" and e["name"] == "verification_token"]
    assert tokens and all(t.startswith("sealed:") for t in tokens)
    names = [e["value"] for e in conversation if e["event"] == "slot" and e["name"] == "holder_name" and e["value"]]
    assert names[0].startswith("sealed:") and names[-1] == "陈*"
    assert "陈*" in [e["text"] for e in conversation if e["event"] == "user"]


def test_english_status_check_answers_an_faq_mid_form_and_can_be_cancelled(product):
    sender = "flow-en"
    assert "full name" in texts(product.say(sender, "is my social security card active?"))
    faq = texts(product.say(sender, "what documents do i need to reissue my card"))
    assert faq.startswith("To have a card reissued") and "full name" in faq  # answered, then asked again
    cancelled = texts(product.say(sender, "cancel"))
    assert "cancelled" in cancelled and "nothing was done" in cancelled


def test_a_typed_password_is_refused_and_a_name_can_be_corrected(product):
    sender = "flow-guards"
    product.say(sender, "我的卡丢了，快帮我挂失")
    product.say(sender, "张三")
    warning = texts(product.say(sender, f"我的密码是{personal_values.typed('802731', 'password')}"))
    assert "不要在这里输入任何密码" in warning
    again = texts(product.say(sender, "名字打错了"))
    assert "姓名" in again


def test_wrong_codes_offer_a_human_at_the_third_and_lock_at_the_fifth(product):
    sender = "flow-lockout"
    product.say(sender, "查一下我补办的卡到哪一步了")
    product.say(sender, "刘洋")
    assert "验证码" in texts(product.say(sender, "510107198511110030"))
    code = product.latest_sms_code()
    wrong = "123456" if code != "123456" else "654321"
    replies = [texts(product.say(sender, wrong)) for _ in range(5)]
    assert "还可以再试 4 次" in replies[0]
    assert "转人工" in replies[2]  # the third failure offers a human
    assert "已锁定" in replies[4] and "分钟" in replies[4]
    # The form has ended: the conversation goes on normally.
    assert texts(product.say(sender, "补卡要带什么材料")).startswith("补办社保卡一般需要准备")


def test_progress_of_a_replacement_in_english(product):
    sender = "flow-progress-en"
    assert "full name" in texts(product.say(sender, "where is my replacement application"))
    product.say(sender, "王小明")
    product.say(sender, "360426199101010071")
    answer = texts(product.say(sender, product.latest_sms_code()))
    assert "Identity verified" in answer and "card being made" in answer


def test_human_handoff_opens_a_ticket(product):
    answer = texts(product.say("flow-handoff", "我要找人工客服"))
    assert "工单 HD-" in answer
