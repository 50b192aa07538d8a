"""Turns alone: passive answer within the deadline, hand-off to the API after it, retries."""
import asyncio

from bot.channels.wechat import rendering
from bot.channels.wechat.xml_messages import parse_message
from bot.channels.wechat.state import HANDED_OFF, REPLIED, MemoryState, Outcome
from bot.channels.wechat.turns import Turns, _Turn
from tests.support.wechat_channel import FakeAssistant
from tests.support.wechat_server import text_xml


class RecordingAPI:
    def __init__(self):
        self.sent = []

    async def send_text(self, openid, content):
        self.sent.append((openid, content))


def message(text, openid="oUserA", msg_id=None):
    return parse_message(text_xml(openid, text, msg_id=msg_id).encode())


def turns_with(reply_seconds=1.0):
    api = RecordingAPI()
    return Turns(MemoryState(), api, reply_seconds, "wechat"), api


async def test_an_answer_in_time_is_the_passive_reply_and_is_stored():
    turns, api = turns_with()
    incoming = message("hello")
    assert await turns.reply_to(incoming, FakeAssistant()) == "answer to hello"
    await turns.drain()
    assert await turns.state.outcome(incoming.dedup_id) == Outcome(REPLIED, "answer to hello")
    assert api.sent == []


async def test_a_late_answer_goes_by_the_api_once():
    turns, api = turns_with(reply_seconds=0.1)
    assistant = FakeAssistant(delay=0.3)
    incoming = message("slow")
    assert await turns.reply_to(incoming, assistant) is None
    assert await turns.state.outcome(incoming.dedup_id) == Outcome(HANDED_OFF)
    assert await turns.reply_to(incoming, assistant) is None  # a retry
    await turns.drain()
    assert api.sent == [("oUserA", "answer to slow")]
    assert assistant.texts == ["slow"]


async def test_a_cancelled_request_leaves_the_turn_running_and_delivered():
    turns, api = turns_with(reply_seconds=5)
    request = asyncio.ensure_future(turns.reply_to(message("hang up"), FakeAssistant(delay=0.3)))
    await asyncio.sleep(0.1)
    request.cancel()
    await asyncio.gather(request, return_exceptions=True)
    await turns.drain()
    assert api.sent == [("oUserA", "answer to hang up")]


async def test_hand_off_is_refused_once_the_answer_is_there():
    turns, _ = turns_with()
    turn = _Turn(turns, message("x"), FakeAssistant())
    turn.answer.set_result("ready")
    assert turn.hand_off() is False and turn.handed_off is False
    pending = _Turn(turns, message("y"), FakeAssistant())
    assert pending.hand_off() is True and pending.handed_off is True


async def test_a_retry_waits_for_the_turn_in_flight():
    turns, _ = turns_with(reply_seconds=2)
    assistant = FakeAssistant(delay=0.3)
    incoming = message("twice", msg_id=42)
    first, retry = await asyncio.gather(turns.reply_to(incoming, assistant), turns.reply_to(incoming, assistant))
    assert first == retry == "answer to twice"
    assert assistant.texts == ["twice"]


async def test_answers_for_events_and_types_need_no_assistant():
    turns, _ = turns_with()
    assistant = FakeAssistant()
    subscribe = parse_message(
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>event</MsgType><Event>subscribe</Event></xml>")
    image = parse_message(
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>image</MsgType><MsgId>9</MsgId></xml>")
    assert await turns.answer(subscribe, assistant) == rendering.WELCOME
    assert await turns.answer(image, assistant) == rendering.UNSUPPORTED
    assert assistant.received == []
