"""Turns of a conversation a person holds: stored for the member of staff without a
turn, a leave phrase hands it back, the hand-over payload marks the follower and is
never shown."""
from bot.channels.wechat import rendering
from bot.channels.wechat.handoff import RELEASED_INTENT, HeldConversations
from bot.channels.wechat.rendering import Option
from bot.channels.wechat.state import MemoryState
from bot.channels.wechat.turns import Turns
from bot.channels.wechat.xml_messages import parse_message
from tests.support.wechat_channel import FakeAssistant, FakeConversations, FakeHandoffClient
from tests.support.wechat_server import text_xml, voice_xml

HANDOFF_REPLY = [
    {"text": "已为您转接人工客服，您前面还有 1 位。您可以随时说“算了”回到智能助手"},
    {"custom": {"handoff": {"id": 7, "status": "waiting", "position": 1}}},
]


class RecordingAPI:
    def __init__(self):
        self.sent = []

    async def send_text(self, openid, content):
        self.sent.append((openid, content))


def message(text, openid="oUserA"):
    return parse_message(text_xml(openid, text).encode())


def held_turns():
    state = MemoryState()
    client = FakeHandoffClient()
    conversations = FakeConversations()
    turns = Turns(state, RecordingAPI(), 2.0, "wechat", HeldConversations(state, client), conversations)
    return turns, client, conversations


async def hand_over(turns, client, openid="oUserA"):
    """The follower asks for a person: the assistant's reply opens the hand-over."""
    client.hold(openid)
    shown = await turns.answer(message("转人工", openid), FakeAssistant(answer=lambda text: HANDOFF_REPLY))
    assert shown == HANDOFF_REPLY[0]["text"]  # the custom payload is not shown
    return shown


async def test_an_ordinary_turn_marks_the_follower_when_the_reply_opens_a_handoff():
    turns, client, _ = held_turns()
    await hand_over(turns, client)
    assert await turns.state.handoff_marked("oUserA")
    assert not await turns.state.handoff_marked("oUserB")


async def test_a_held_conversations_message_is_stored_for_staff_without_a_turn():
    turns, client, conversations = held_turns()
    await hand_over(turns, client)
    assistant = FakeAssistant()
    assert await turns.answer(message("我的卡在外地丢了"), assistant) is None  # `success`
    voice = parse_message(voice_xml("oUserA", "能不能邮寄").encode())
    assert await turns.answer(voice, assistant) is None
    assert assistant.received == []
    assert [(sender, text, channel) for sender, text, channel, _ in conversations.appended] == [
        ("oUserA", "我的卡在外地丢了", "wechat"), ("oUserA", "能不能邮寄", "wechat")]
    assert conversations.appended[1][3] == {"wechat": {"msg_type": "voice"}}
    assert client.releases == []


async def test_more_and_numbers_go_to_the_person_as_typed():
    turns, client, conversations = held_turns()
    await hand_over(turns, client)
    await turns.state.set_options("oUserA", [Option("挂失", "/report_loss")])
    await turns.state.set_parts("oUserA", ["an old answer's rest"])
    assert await turns.answer(message("1"), FakeAssistant()) is None
    assert await turns.answer(message("继续"), FakeAssistant()) is None
    assert [text for _, text, _, _ in conversations.appended] == ["1", "继续"]


async def test_a_leave_phrase_hands_back_and_the_assistant_says_so():
    turns, client, conversations = held_turns()
    await hand_over(turns, client)
    shown = await turns.answer(message("算了"), FakeAssistant())
    assert shown == "好的，已为您退出人工服务，智能助手继续为您服务"
    assert client.releases == [(7, "bot", "citizen")]
    assert conversations.triggered == [
        ("oUserA", RELEASED_INTENT, [{"entity": "by", "value": "citizen"}], "算了")]
    assert conversations.appended == []
    assert not await turns.state.handoff_marked("oUserA")
    # the assistant answers again
    assistant = FakeAssistant()
    assert await turns.answer(message("补办要多久"), assistant) == "answer to 补办要多久"


async def test_a_number_picking_a_leave_button_leaves():
    turns, client, conversations = held_turns()
    await hand_over(turns, client)
    await turns.state.set_options("oUserA", [Option("回到智能助手", "/leave_handoff")])
    assert await turns.answer(message("１"), FakeAssistant()) == "好的，已为您退出人工服务，智能助手继续为您服务"
    assert client.releases == [(7, "bot", "citizen")]
    assert conversations.triggered[0][3] == "１"


async def test_a_leave_phrase_after_staff_closed_it_is_an_ordinary_turn():
    turns, client, conversations = held_turns()
    await hand_over(turns, client)
    client.closed_meanwhile = True
    assistant = FakeAssistant()
    assert await turns.answer(message("不用了"), assistant) == "answer to 不用了"
    assert conversations.triggered == [] and assistant.texts == ["不用了"]


async def test_a_sentence_with_a_leave_word_in_it_is_for_the_person():
    turns, client, conversations = held_turns()
    await hand_over(turns, client)
    assert await turns.answer(message("算了，我自己去银行吧"), FakeAssistant()) is None
    assert client.releases == [] and len(conversations.appended) == 1


async def test_when_the_backend_says_it_is_over_the_assistant_answers():
    turns, client, conversations = held_turns()
    await hand_over(turns, client)
    client.held.clear()  # staff handed it back
    assert await turns.answer(message("补办要多久"), FakeAssistant()) == "answer to 补办要多久"
    assert conversations.appended == []


async def test_events_and_unsupported_types_keep_their_answers_while_held():
    turns, client, conversations = held_turns()
    await hand_over(turns, client)
    image = parse_message(
        b"<xml><ToUserName>gh</ToUserName><FromUserName>oUserA</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>image</MsgType><MsgId>9</MsgId></xml>")
    assert await turns.answer(image, FakeAssistant()) == rendering.UNSUPPORTED
    assert conversations.appended == []


async def test_a_held_message_reaches_reply_to_as_success_and_is_recorded():
    turns, client, conversations = held_turns()
    await hand_over(turns, client)
    incoming = message("请问多久能办好")
    assert await turns.reply_to(incoming, FakeAssistant()) is None
    await turns.drain()
    assert (await turns.state.outcome(incoming.dedup_id)).text == ""
    assert turns.api.sent == []


async def test_held_over_http_in_safe_mode():
    """Through the webhook: a held follower's message gets `success`, a leave phrase the update."""
    import httpx

    from tests.support.wechat_channel import AES_KEY, APP_ID, TOKEN, make_channel, serve
    from tests.support.wechat_server import WeChatServer

    wechat = WeChatServer(TOKEN, APP_ID, AES_KEY)
    client, conversations = FakeHandoffClient(), FakeConversations()
    channel = make_channel(handoff_client=client, conversations=conversations)
    client.hold("oUserH")
    assistant = FakeAssistant(answer=lambda text: HANDOFF_REPLY)
    async with serve(channel, assistant) as url, httpx.AsyncClient(timeout=30) as http:
        async def say(text):
            params, body = wechat.request(text_xml("oUserH", text))
            response = await http.post(url, params=params, content=body)
            return wechat.read_reply(response.status_code, response.text, to_user="oUserH")

        assert await say("转人工") == HANDOFF_REPLY[0]["text"]
        assert await say("请问要多久") is None
        assert await say("back to the bot") == "好的，已为您退出人工服务，智能助手继续为您服务"
    assert assistant.texts == ["转人工"]
    assert [text for _, text, _, _ in conversations.appended] == ["请问要多久"]
    assert [said for *_, said in conversations.triggered] == ["back to the bot"]
