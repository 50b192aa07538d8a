"""Is a person holding the conversation? The marker in the channel state and the backend's word."""
import pytest

from bot.channels.wechat.handoff import HeldConversations, handoff_payload, is_held
from tests.support.wechat_channel import FakeHandoffClient

WAITING = {"custom": {"handoff": {"id": 7, "status": "waiting", "position": 2}}}


def held_conversations(state):
    return HeldConversations(state, FakeHandoffClient())


def test_the_payload_is_found_only_in_a_custom_handoff_object():
    assert handoff_payload(WAITING) == {"id": 7, "status": "waiting", "position": 2}
    for message in ({"text": "hi"}, {"custom": {"other": 1}}, {"custom": {"handoff": "waiting"}}, {"custom": []}):
        assert handoff_payload(message) is None


def test_held_means_live_and_waiting_or_claimed():
    assert is_held({"status": "waiting", "mode": "live"}) and is_held({"status": "claimed", "mode": "live"})
    assert not is_held({"status": "waiting", "mode": "callback"})
    assert not is_held({"status": "closed", "mode": "live"})
    assert not is_held(None)


async def test_a_follower_never_handed_over_costs_no_backend_call(state):
    handoffs = held_conversations(state)
    handoffs.client.hold("oUserA")  # even if the backend had one: no marker, no question
    assert await handoffs.held("oUserA") is None
    assert handoffs.client.lookups == []


@pytest.mark.parametrize("messages, marked", [
    ([{"text": "已为您转接人工客服"}, WAITING], True),
    ([{"custom": {"handoff": {"id": 7, "status": "claimed"}}}], True),
    ([{"custom": {"handoff": {"id": 7, "status": "closed"}}}], False),
    ([{"custom": {"handoff": {"status": "waiting", "mode": "callback"}}}], False),
    ([{"text": "需要激活", "buttons": [{"title": "好", "payload": "/affirm"}]}], False),
])
async def test_the_assistant_speaking_of_a_live_handoff_marks_the_follower(state, messages, marked):
    handoffs = held_conversations(state)
    await handoffs.remember("oUserA", messages)
    assert await state.handoff_marked("oUserA") is marked
    assert not await state.handoff_marked("oUserB")


async def test_a_marked_follower_is_looked_up_and_the_marker_goes_with_the_handoff(state):
    handoffs = held_conversations(state)
    view = handoffs.client.hold("oUserA")
    await handoffs.remember("oUserA", [WAITING])
    assert await handoffs.held("oUserA") == view
    handoffs.client.held.clear()  # staff closed it
    assert await handoffs.held("oUserA") is None
    assert not await state.handoff_marked("oUserA")
    assert handoffs.client.lookups == ["oUserA", "oUserA"]


async def test_an_unreachable_backend_lets_the_assistant_answer_and_keeps_the_marker(state):
    handoffs = held_conversations(state)
    handoffs.client.hold("oUserA")
    await handoffs.remember("oUserA", [WAITING])
    handoffs.client.unavailable = True
    assert await handoffs.held("oUserA") is None
    assert await state.handoff_marked("oUserA")


async def test_release_by_the_citizen(state):
    handoffs = held_conversations(state)
    view = handoffs.client.hold("oUserA", handoff_id=12)
    await handoffs.remember("oUserA", [WAITING])
    assert await handoffs.release_by_citizen("oUserA", view) is True
    assert handoffs.client.releases == [(12, "bot", "citizen")]
    assert not await state.handoff_marked("oUserA")


async def test_release_of_a_handoff_closed_meanwhile(state):
    handoffs = held_conversations(state)
    view = handoffs.client.hold("oUserA")
    await handoffs.remember("oUserA", [WAITING])
    handoffs.client.closed_meanwhile = True
    assert await handoffs.release_by_citizen("oUserA", view) is False
    assert not await state.handoff_marked("oUserA")
