"""Asking to leave the queue or the member of staff (bot/handoff/leave.py):
only a whole message that says so; anything else said to a person is for that
person."""
import pytest

from bot.handoff.leave import asks_to_leave_handoff


@pytest.mark.parametrize("text", [
    "算了", "算了吧", "不用了", "不用了，谢谢", "不要了", "回到机器人", "返回机器人", "我要回到智能助手", "回到助手吧",
    "不要人工了", "不需要人工了", "不用转人工了", "取消排队", "退出人工服务", "结束人工",
    "back to the bot", "Back to the bot, please", "go back to the assistant please", "never mind", "Never mind!",
    "forget it", "cancel", "stop", "quit", "leave the queue", "I don't need a human any more",
    "I dont need a person anymore", "i'd like to go back to the bot", "talk to the bot",
])
def test_a_whole_message_asking_to_leave(text):
    assert asks_to_leave_handoff(text)


@pytest.mark.parametrize("text", [
    "算了，我自己去银行吧", "不用了，我的卡还是丢了", "转人工", "我要找人工客服", "谢谢", "好的", "你好",
    "机器人回答不了我的问题", "my card is lost, never mind the fee", "can you stop my card?", "I need a person",
    "13812345678", "", None,
])
def test_anything_else_is_for_the_person(text):
    assert not asks_to_leave_handoff(text)
