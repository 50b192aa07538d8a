"""Citizens rate on WeChat (issue 13), through the WeChat protocol (signed, encrypted XML on a
real sanic server) with a stand-in for Rasa, and the customer-service API's fake for what a
hand-over's end says: the question under the first FAQ answer of a session and at the end of a
human conversation, a bare number as the rating (no turn), anything else a turn as usual; the
ratings in the widget's tables under the conversation's key."""
import time

import httpx
import pytest
from sqlalchemy import select

from bot.channels.wechat import rendering
from bot.channels.wechat.ratings import Conversation, RatingStore, WeChatRatings, bare_number
from bot.channels.wechat.state import MemoryState, RedisState
from bot.core.message_ids import stamp
from bot.core.opaque import conversation_key, hasher
from bot.web.ratings import ConversationRating, MessageFeedback
from bot.web.staff.store import open_store
from tests.support.redis_server import CHANNEL_DB, redis_url
from tests.support.wechat_channel import AES_KEY, APP_ID, TOKEN, FakeAssistant, FakeHandoffClient, make_channel, serve
from tests.support.wechat_server import WeChatServer, text_xml

WECHAT = WeChatServer(TOKEN, APP_ID, AES_KEY)
SECRET = "test-web-secret-key"
OPENID = "oRater00000000000000000000001"
FAQ_ZH = "需要。补办社保卡相当于重新制发一张新卡，拿到新卡后要重新激活才能正常使用。"
FAQ_EN = "Yes. A reissued card is a new card: activate it before you use it."
CLAIMED = {"custom": {"handoff": {"id": 7, "status": "claimed", "staff": "王**"}}}
CLOSED = {"custom": {"handoff": {"id": 7, "status": "closed"}}}


class Tracker:
    """Stands in for the tracker store's word on a conversation (its session's start, whether a
    form or a task's confirmation is active, the domain's idle time) and for the clock."""

    IDLE = 3600.0

    def __init__(self):
        self.session, self.busy, self.reads, self.now = 1.0, False, 0, 1_800_000_000.0

    async def __call__(self, openid):
        self.reads += 1
        return Conversation(self.session, self.busy, self.IDLE)

    def clock(self):
        return self.now

    def new_session_after_a_pause(self):
        """The follower comes back after more than the idle time: Rasa starts a session."""
        self.now += self.IDLE + 1
        self.session = self.now


def ratings(state, url, tracker):
    return WeChatRatings(state, RatingStore(url, lambda: SECRET), tracker, clock=tracker.clock)


def faq(text=FAQ_ZH, **extra):
    """What Rasa sends for an FAQ answer (the response's name and its event's timestamp)."""
    return {"text": text, "utter_action": "utter_faq/activate_after_reissue", "timestamp": time.time(), **extra}


class Assistant(FakeAssistant):
    """Answers each message with `self.next` (an FAQ answer unless told otherwise) and keeps the ids."""

    def __init__(self):
        super().__init__(answer=self._answer)
        self.next = None
        self.answers = []

    def _answer(self, text):
        replies = self.next() if self.next else [faq()]
        self.answers.append(replies)
        return replies

    def last_id(self):
        seen = {}
        return [stamp(r.get("timestamp"), "bot", seen).get("id") for r in self.answers[-1]][-1]


@pytest.fixture
def rated(tmp_path, fake_api):
    """A channel with ratings on a staff database of its own; the conversation stand-in."""
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    tracker = Tracker()
    backend = FakeHandoffClient()
    channel = make_channel(fake_api.base_url, state=MemoryState(), handoff_client=backend)
    channel.turns.ratings = ratings(channel.state, url, tracker)
    channel.tracker, channel.backend, channel.db = tracker, backend, open_store(url)
    yield channel
    channel.db.dispose()


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


async def say(client, url, text, openid=OPENID):
    params, body = WECHAT.request(text_xml(openid, text))
    response = await client.post(url, params=params, content=body)
    return WECHAT.read_reply(response.status_code, response.text)


def feedback(channel, openid=OPENID):
    with channel.db.read() as session:
        return session.execute(select(MessageFeedback.message_id, MessageFeedback.rating).where(
            MessageFeedback.conversation == conversation_key(hasher(SECRET), openid))).all()


def scores(channel):
    """The conversation ratings stored (each test has a database of its own): a follower's conversations
    with a person are rated each under a key of its own, never their OpenID's (nor the OpenID)."""
    with channel.db.read() as session:
        rows = session.execute(select(ConversationRating.conversation, ConversationRating.score,
                                      ConversationRating.comment).order_by(ConversationRating.id)).all()
    assert conversation_key(hasher(SECRET), OPENID) not in {row.conversation for row in rows}
    assert not any(OPENID in row.conversation for row in rows)
    return [(row.score, row.comment) for row in rows]


def test_a_bare_number_in_either_width():
    assert [bare_number(t) for t in ("1", "１", " 2 ", "２。", "5!", "⑤")] == [1, 1, 2, 2, 5, 5]
    assert [bare_number(t) for t in ("12", "1 2", "1分", "第1", "", "一", "-1", "1.5")] == [None] * 8


async def test_the_first_faq_answer_asks_and_a_full_width_number_is_the_rating(rated, client):
    assistant = Assistant()
    async with serve(rated, assistant) as url:
        shown = await say(client, url, "补办的社保卡需要重新激活吗")
        assert shown == FAQ_ZH + "\n\n" + rendering.RATE_ANSWER["zh"]
        answer_id = assistant.last_id()
        assert await say(client, url, "１") == rendering.RATING_THANKS["zh"]
        assert assistant.texts == ["补办的社保卡需要重新激活吗"]  # the rating was no turn
        # asked once a session: the next FAQ answer comes alone, and a number is a message again
        assert await say(client, url, "补卡要带什么材料") == FAQ_ZH
        assert await say(client, url, "1") == FAQ_ZH
    assert assistant.texts == ["补办的社保卡需要重新激活吗", "补卡要带什么材料", "1"]
    assert feedback(rated) == [(answer_id, "up")]
    assert answer_id.startswith("b")  # the id the widget and the history give the answer


async def test_in_english_and_not_helpful(rated, client):
    assistant = Assistant()
    assistant.next = lambda: [faq(FAQ_EN)]
    async with serve(rated, assistant) as url:
        assert await say(client, url, "Does my reissued card need activating?") == \
            FAQ_EN + "\n\n" + rendering.RATE_ANSWER["en"]
        assert await say(client, url, "2") == rendering.RATING_THANKS["en"]
    assert feedback(rated) == [(assistant.last_id(), "down")]


async def test_anything_else_goes_to_the_assistant_and_the_question_lapses(rated, client):
    assistant = Assistant()
    async with serve(rated, assistant) as url:
        assert (await say(client, url, "补办的社保卡需要重新激活吗")).endswith(rendering.RATE_ANSWER["zh"])
        assistant.next = lambda: [{"text": "补办需要携带本人有效身份证件。"}]
        assert await say(client, url, "那补办要带什么") == "补办需要携带本人有效身份证件。"
        assert await say(client, url, "1") == "补办需要携带本人有效身份证件。"  # no longer a rating
        assistant.next = None
        # a new Rasa session: asked again; a number out of range is a message
        rated.tracker.new_session_after_a_pause()
        assert (await say(client, url, "补办的社保卡需要重新激活吗")).endswith(rendering.RATE_ANSWER["zh"])
        assert await say(client, url, "3") == FAQ_ZH
    assert assistant.texts == ["补办的社保卡需要重新激活吗", "那补办要带什么", "1", "补办的社保卡需要重新激活吗", "3"]
    assert feedback(rated) == []


async def test_the_tracker_store_is_read_again_only_when_a_new_session_may_have_started(rated, client):
    """Within the idle time after a turn found the session current, no other can have started."""
    assistant = Assistant()
    async with serve(rated, assistant) as url:
        assert (await say(client, url, "补办的社保卡需要重新激活吗")).endswith(rendering.RATE_ANSWER["zh"])
        assert rated.tracker.reads == 1
        for _ in range(3):
            rated.tracker.now += Tracker.IDLE / 4
            assert await say(client, url, "补卡要带什么材料") == FAQ_ZH
        assert rated.tracker.reads == 1
        rated.tracker.now += Tracker.IDLE / 2  # an hour and more since: read, still the same session
        assert await say(client, url, "补卡要带什么材料") == FAQ_ZH
        assert rated.tracker.reads == 2
        rated.tracker.new_session_after_a_pause()
        assert (await say(client, url, "补卡要带什么材料")).endswith(rendering.RATE_ANSWER["zh"])
        assert rated.tracker.reads == 3


async def test_a_question_left_longer_than_a_session_lapses(rated, client):
    assistant = Assistant()
    async with serve(rated, assistant) as url:
        assert (await say(client, url, "补办的社保卡需要重新激活吗")).endswith(rendering.RATE_ANSWER["zh"])
        rated.tracker.now += Tracker.IDLE + 1
        assert await say(client, url, "1") == FAQ_ZH
    assert assistant.texts[-1] == "1" and feedback(rated) == []


async def test_more_fetches_the_rest_of_a_long_answer_with_the_question_still_open(rated, client):
    long_answer = "\n".join(f"第{n}条：社保卡补办需要携带本人有效身份证件到任一服务网点办理。" for n in range(40))
    assistant = Assistant()
    assistant.next = lambda: [faq(long_answer)]
    async with serve(rated, assistant) as url:
        first = await say(client, url, "补卡怎么办")
        assert first.endswith(rendering.MORE_POINTER["zh"]) and rendering.RATE_ANSWER["zh"] not in first
        rest = await say(client, url, "继续")
        while rest.endswith(rendering.MORE_POINTER["zh"]):
            rest = await say(client, url, "继续")
        assert rest.endswith("\n\n" + rendering.RATE_ANSWER["zh"])
        assert await say(client, url, "２") == rendering.RATING_THANKS["zh"]
    assert assistant.texts == ["补卡怎么办"]
    assert feedback(rated) == [(assistant.last_id(), "down")]


@pytest.mark.parametrize("case", ["form active", "a form's prompt after it", "numbered options", "not an FAQ",
                                  "the backend out of reach"])
async def test_nothing_is_asked(rated, client, case):
    assistant = Assistant()
    if case == "form active":
        rated.tracker.busy = True
    elif case == "a form's prompt after it":
        assistant.next = lambda: [faq(), {"text": "请输入您的身份证号码。", "timestamp": time.time()}]
    elif case == "numbered options":
        assistant.next = lambda: [faq(buttons=[{"title": "怎么激活", "payload": "/faq/activate_how"}])]
    elif case == "not an FAQ":
        assistant.next = lambda: [{"text": "您好！", "utter_action": "utter_greet", "timestamp": time.time()}]
    else:  # a follower with a hand-over lately gets an ordinary turn: a person may still hold it
        await rated.state.mark_handoff(OPENID)
        rated.backend.unavailable = True
    async with serve(rated, assistant) as url:
        shown = await say(client, url, "补办的社保卡需要重新激活吗")
        assert shown and rendering.RATE_ANSWER["zh"] not in shown
        await say(client, url, "1")
    assert len(assistant.texts) == 2 and feedback(rated) == []


async def end_of_a_human_conversation(channel, fake_api, ended=CLOSED, openid=OPENID, claimed=True):
    """What the web process's triggers make the assistant say (through the output channel,
    the customer-service API's fake): a person joins, then the hand-over ends. The last text sent."""
    out = channel.get_output_channel()
    before = len(fake_api.sent)
    if claimed:
        await out.send_response(openid, {"text": "工作人员 王** 已接入，请直接说您的问题。"})
        await out.send_response(openid, dict(CLAIMED))  # Rasa's send_response pops `custom`
        await fake_api.sent_messages(before + 1)
    await out.send_response(openid, {"text": "工作人员已结束本次服务。如还有社保卡方面的问题，可以继续问我。"})
    await out.send_response(openid, dict(ended))
    sent = await fake_api.sent_messages(len(fake_api.sent) + 1)
    await channel.turns.drain()
    return sent[-1]["text"]["content"]


async def test_the_end_of_a_human_conversation_asks_one_to_five(rated, client, fake_api):
    assistant = Assistant()
    async with serve(rated, assistant) as url:
        ended = await end_of_a_human_conversation(rated, fake_api)
        assert ended == "工作人员已结束本次服务。如还有社保卡方面的问题，可以继续问我。\n\n" + rendering.RATE_CONVERSATION["zh"]
        assert await say(client, url, "５") == rendering.RATING_THANKS["zh"]
        assert assistant.texts == []
        # once a session: not asked again in it; the next session's conversation with a person is rated anew
        assert rendering.RATE_CONVERSATION["zh"] not in await end_of_a_human_conversation(rated, fake_api)
        rated.tracker.new_session_after_a_pause()
        assert (await end_of_a_human_conversation(rated, fake_api)).endswith(rendering.RATE_CONVERSATION["zh"])
        assert await say(client, url, "4") == rendering.RATING_THANKS["zh"]
        # the FAQ question is another question: still asked once in the session
        assert (await say(client, url, "补办的社保卡需要重新激活吗")).endswith(rendering.RATE_ANSWER["zh"])
    assert scores(rated) == [(5, None), (4, None)]


@pytest.mark.parametrize("case", ["nobody had joined", "the follower left", "lapsed, then a second one"])
async def test_the_one_to_five_question_is_not_asked(rated, client, fake_api, case):
    assistant = Assistant()
    async with serve(rated, assistant) as url:
        if case == "nobody had joined":
            assert rendering.RATE_CONVERSATION["zh"] not in await end_of_a_human_conversation(
                rated, fake_api, claimed=False)
        elif case == "the follower left":
            left = {"custom": {"handoff": {"id": 7, "status": "closed", "outcome": "back_to_bot", "by": "citizen"}}}
            assert rendering.RATE_CONVERSATION["zh"] not in await end_of_a_human_conversation(rated, fake_api, left)
        else:
            assert (await end_of_a_human_conversation(rated, fake_api)).endswith(rendering.RATE_CONVERSATION["zh"])
            assistant.next = lambda: [{"text": "好的。"}]
            assert await say(client, url, "谢谢") == "好的。"
            assert rendering.RATE_CONVERSATION["zh"] not in await end_of_a_human_conversation(rated, fake_api)
        await say(client, url, "4")
    assert assistant.texts[-1] == "4" and scores(rated) == []


async def test_a_hand_back_by_staff_asks_in_english(rated, client, fake_api):
    handed_back = {"custom": {"handoff": {"id": 7, "status": "closed", "outcome": "back_to_bot", "by": "staff"}}}
    out = rated.get_output_channel()
    await out.send_response(OPENID, {"text": "A member of staff (王**) has joined; please tell them your question."})
    await out.send_response(OPENID, dict(CLAIMED))
    await fake_api.sent_messages(1)
    await out.send_response(OPENID, {"text": "The member of staff has handed the conversation back to the assistant."})
    await out.send_response(OPENID, handed_back)
    sent = await fake_api.sent_messages(2)
    await rated.turns.drain()
    assert sent[-1]["text"]["content"].endswith("\n\n" + rendering.RATE_CONVERSATION["en"])
    async with serve(rated, Assistant()) as url:
        assert await say(client, url, "3") == rendering.RATING_THANKS["en"]
    assert scores(rated) == [(3, None)]


async def test_the_database_out_of_reach_still_thanks_and_the_chat_goes_on(tmp_path, fake_api, client):
    channel = make_channel(fake_api.base_url, state=MemoryState())
    missing = tmp_path / "no-such-dir" / "file-not-dir"
    missing.parent.write_text("a file where a directory should be")
    channel.turns.ratings = ratings(channel.state, f"sqlite:///{missing}", Tracker())
    assistant = Assistant()
    async with serve(channel, assistant) as url:
        assert (await say(client, url, "补办的社保卡需要重新激活吗")).endswith(rendering.RATE_ANSWER["zh"])
        assert await say(client, url, "1") == rendering.RATING_THANKS["zh"]
        assert await say(client, url, "补卡要带什么材料") == FAQ_ZH


async def test_the_openid_is_never_a_key_in_the_state(rated, client):
    async with serve(rated, Assistant()) as url:
        await say(client, url, "补办的社保卡需要重新激活吗")
    keys = list(rated.state._entries)
    assert any(key.startswith("rating:") for key in keys)
    assert not any(OPENID in key for key in keys)


@pytest.mark.redis
async def test_two_replicas_sharing_redis_ask_once_and_take_the_rating_on_either(tmp_path, fake_api, client,
                                                                                 redis_prefix):
    """The question under one replica's answer, the number at the other (WeChat picks either)."""
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    tracker = Tracker()
    replicas = []
    for _ in range(2):
        channel = make_channel(fake_api.base_url, state=RedisState(redis_url(CHANNEL_DB), prefix=redis_prefix))
        channel.turns.ratings = ratings(channel.state, url, tracker)
        replicas.append(channel)
    one, other = Assistant(), Assistant()
    async with serve(replicas[0], one) as first, serve(replicas[1], other) as second:  # (closes each state)
        assert (await say(client, first, "补办的社保卡需要重新激活吗")).endswith(rendering.RATE_ANSWER["zh"])
        assert await say(client, second, "1") == rendering.RATING_THANKS["zh"]
        assert await say(client, second, "补卡要带什么材料") == FAQ_ZH  # asked already this session
    assert (one.texts, other.texts) == (["补办的社保卡需要重新激活吗"], ["补卡要带什么材料"])
    db = open_store(url)
    with db.read() as session:
        assert session.execute(select(MessageFeedback.message_id, MessageFeedback.rating)).all() == \
            [(one.last_id(), "up")]
    db.dispose()
