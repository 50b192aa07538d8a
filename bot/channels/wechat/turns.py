"""One WeChat message in, at most one answer out, within the reply deadline.

The first request of a message claims it and starts its turn as a task of its
own: sanic cancels a request handler when the client goes away, and the turn
must still finish and reach the user. If the turn is done within the deadline
(WECHAT_REPLY_SECONDS) its text is the passive reply; otherwise the request
answers `success` and the turn, when done, sends its text through the
customer-service API. A retry of a claimed message never runs the turn again:
it waits (within its own deadline) for the stored reply, else gets `success`.
A request whose signed URL came before with the same body never starts a turn
either, even once the message's record has expired.

A conversation a person holds (bot/channels/wechat/handoff.py) has no turn:
the message is stored in the conversation for the member of staff and the
reply is `success`; a message asking to leave (bot/handoff/leave.py) hands
the conversation back to the assistant, which says so.

Ratings (bot/channels/wechat/ratings.py, issue 13): a question may be added
under what the assistant says, and a bare number answering it is the rating.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels.wechat import rendering
from bot.channels.wechat.api_client import CustomerServiceClient
from bot.channels.wechat.handoff import RELEASED_INTENT, HeldConversations
from bot.channels.wechat.rasa_conversation import RasaConversations
from bot.channels.wechat.ratings import AnswerCollector, WeChatRatings
from bot.channels.wechat.xml_messages import IncomingMessage
from bot.channels.wechat.state import HANDED_OFF, REPLIED, ChannelState, Outcome, hashed
from bot.handoff.leave import asks_to_leave_handoff

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def user_text(message: IncomingMessage) -> str:
    """What the user said: a text's content or a voice message's recognition ("" otherwise)."""
    if message.msg_type == "text":
        return message.content
    if message.msg_type == "voice":
        return message.recognition
    return ""


class _Turn:
    """A claimed message's turn; its answer goes passively or, once handed off, by the API."""

    def __init__(self, turns: "Turns", message: IncomingMessage, on_new_message: OnNewMessage) -> None:
        self.turns, self.message, self.on_new_message = turns, message, on_new_message
        self.answer: "asyncio.Future[Optional[str]]" = asyncio.get_running_loop().create_future()
        self.handed_off = False

    def hand_off(self) -> bool:
        """The request gives up waiting: the answer will go by the API. False
        if the answer is already there (the request must take it instead)."""
        if self.answer.done():
            return False
        self.handed_off = True
        return True

    async def run(self) -> None:
        try:
            text = await self.turns.answer(self.message, self.on_new_message)
        except Exception:
            logger.exception("wechat: turn for user %s failed", hashed(self.message.from_user)[:12])
            text = rendering.TURN_FAILED[rendering.language_of(user_text(self.message))]
        # Nothing awaits between this check and set_result: the request either
        # takes the answer now or has already handed it off.
        if not self.handed_off:
            self.answer.set_result(text)
            await self._record(Outcome(REPLIED, text or ""))
            return
        await self._record(Outcome(HANDED_OFF))
        if text:
            await self.turns.deliver(self.message.from_user, text)

    async def _record(self, outcome: Outcome) -> None:
        try:
            await self.turns.state.set_outcome(self.message.dedup_id, outcome)
        except Exception:
            logger.exception("wechat: could not store a message outcome")


class Turns:
    def __init__(self, state: ChannelState, api: CustomerServiceClient, reply_seconds: float, channel_name: str,
                 handoffs: Optional[HeldConversations] = None,
                 conversations: Optional[RasaConversations] = None,
                 ratings: Optional[WeChatRatings] = None) -> None:
        self.state = state
        self.api = api
        self.reply_seconds = reply_seconds
        self.channel_name = channel_name
        self.handoffs = handoffs  # None: no hand-overs (tests of the channel alone)
        self.conversations = conversations
        self.ratings = ratings  # None: nothing is asked (tests of the channel alone)
        self._running: Set[asyncio.Task] = set()  # strong references: a bare task may be garbage-collected

    def spawn(self, work: Awaitable[Any]) -> "asyncio.Task":
        """`work` as a task of its own, kept (and awaited by drain) until done."""
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def reply_to(self, message: IncomingMessage, on_new_message: OnNewMessage,
                       may_start: bool = True) -> Optional[str]:
        """The passive reply's text, or None for `success`. With `may_start`
        False only a stored answer is given: no turn is started."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reply_seconds
        if not may_start or not await self.state.claim(message.dedup_id):
            outcome = await self.state.wait_outcome(message.dedup_id, deadline - loop.time())
            return (outcome.text or None) if outcome and outcome.status == REPLIED else None
        turn = _Turn(self, message, on_new_message)
        self.spawn(turn.run())
        try:
            return await asyncio.wait_for(asyncio.shield(turn.answer), max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            # wait_for yields while cancelling the wait: the answer may have come meanwhile.
            if not turn.hand_off():
                return turn.answer.result()
            await self.state.set_outcome(message.dedup_id, Outcome(HANDED_OFF))  # retries: `success` at once
            return None
        except asyncio.CancelledError:  # the client went away: the turn goes on and uses the API
            # (if its answer is already there, it is stored for WeChat's retry)
            turn.hand_off()
            raise

    async def answer(self, message: IncomingMessage, on_new_message: OnNewMessage) -> Optional[str]:
        """The text for one message: the channel's own words, the next part of
        a long answer, or the assistant's answer (a numbered option's payload
        goes to the assistant in place of the number)."""
        openid = message.from_user
        if message.msg_type == "event":
            if message.event == "subscribe":
                return rendering.WELCOME
            return None if message.event == "unsubscribe" else rendering.UNSUPPORTED
        text = user_text(message).strip()
        if not text:
            return rendering.UNSUPPORTED
        held = await self.handoffs.held(openid) if self.handoffs else None
        if held is not None:
            routed, reply = await self._held_message(message, text, held)
            if routed:
                return reply
        more_language = rendering.more_request_language(text)
        if more_language:
            return await self.state.next_part(openid) or rendering.NOTHING_MORE[more_language]
        thanks = await self.ratings.reply(openid, text) if self.ratings else None
        if thanks:
            return thanks
        option = rendering.chosen_option(text, await self.state.options(openid))
        collector = AnswerCollector()  # each answer's id and response: an FAQ answer may be rated
        await on_new_message(UserMessage(
            option.payload if option else text, collector, openid,
            input_channel=self.channel_name,
            message_id=message.msg_id or None,
            metadata={"wechat": {"msg_type": message.msg_type}},
        ))
        return await self.present(openid, collector.messages)

    async def _held_message(self, message: IncomingMessage, text: str,
                            held: Dict[str, Any]) -> "tuple[bool, Optional[str]]":
        """A message in a conversation a person holds: (True, reply) when routed
        here, (False, None) when the hand-over turned out to be over already (an
        ordinary turn then). A number picks an option only if the option leaves
        the person (a "back to the assistant" button); any other number is for the
        member of staff, as typed."""
        openid = message.from_user
        option = rendering.chosen_option(text, await self.state.options(openid))
        leaving = asks_to_leave_handoff(text) or bool(
            option and (asks_to_leave_handoff(option.title) or asks_to_leave_handoff(option.payload)))
        stored = dict(input_channel=self.channel_name, message_id=message.msg_id or None,
                      metadata={"wechat": {"msg_type": message.msg_type}})
        if not leaving:
            await self.conversations.append_user_message(openid, text, **stored)
            return True, None
        if not await self.handoffs.release_by_citizen(openid, held):
            return False, None
        collector = CollectingOutputChannel()
        await self.conversations.trigger_intent(
            openid, RELEASED_INTENT, [{"entity": "by", "value": "citizen"}], collector, said=text, **stored)
        return True, await self.present(openid, collector.messages)

    async def present(self, openid: str, messages: List[Dict[str, Any]]) -> Optional[str]:
        """The assistant's messages as the follower reads them: the first part of
        the rendered text (None when there is nothing to show). Remembers the
        numbered options, the remaining parts and a hand-over the messages speak of;
        a rating question may end the text."""
        if self.handoffs:
            await self.handoffs.remember(openid, messages)
        rendered = rendering.render(messages)
        text = rendered.text
        if self.ratings and text:
            question = await self.ratings.question(openid, messages, bool(rendered.options))
            if question:
                text += "\n\n" + question
        await self.state.set_options(openid, rendered.options)
        parts = rendering.split_for_reply(text) if text else []
        await self.state.set_parts(openid, parts[1:])
        return parts[0] if parts else None

    async def deliver(self, openid: str, text: str) -> None:
        try:
            await self.api.send_text(openid, text)
        except Exception as error:  # logged without the text; the user can ask again
            logger.error("wechat: answer for user %s not delivered: %s", hashed(openid)[:12], type(error).__name__)

    async def drain(self) -> None:
        """Waits for the turns and output-channel deliveries still running (tests, shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
