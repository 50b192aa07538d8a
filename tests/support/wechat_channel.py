"""The WeChat channel on a real sanic server, with a stand-in for Rasa."""
import asyncio
import contextlib
import itertools
from typing import AsyncIterator, List

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.wechat.channel import WeChatConfig, WeChatInput
from tests.support.sanic_server import serving

APP_ID, APP_SECRET = "wx0123456789abcdef", "test-wechat-app-secret"
TOKEN, AES_KEY = "test-wechat-token", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
REST_SECRET = "test-rest-channel-secret"  # the web process's key to /webhooks/wechat/staff-message
_app_numbers = itertools.count()


class FakeAssistant:
    """Stands in for Rasa's on_new_message: records what it is told and answers.
    A `held` assistant answers nothing until the test calls release(): a turn
    that is certainly still running, whatever the machine's speed."""

    def __init__(self, answer=None, delay: float = 0.0, held: bool = False) -> None:
        self.received: List[UserMessage] = []
        self.answer = answer or (lambda text: [{"text": f"answer to {text}"}])
        self.delay = delay
        self.released = asyncio.Event()
        if not held:
            self.released.set()

    @property
    def texts(self) -> List[str]:
        return [m.text for m in self.received]

    def hold(self) -> None:
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await self.released.wait()
        await asyncio.sleep(self.delay)
        for reply in self.answer(message.text):
            if isinstance(reply, Exception):
                raise reply
            await message.output_channel.send_response(message.sender_id, dict(reply))


@contextlib.asynccontextmanager
async def serve(channel: WeChatInput, assistant: FakeAssistant) -> AsyncIterator[str]:
    """The channel's blueprint on a real sanic server (in this event loop) at a free
    port; yields the webhook URL. Leaving stops the server as SIGTERM does."""
    app = Sanic(f"wechat_test_{next(_app_numbers)}")
    app.blueprint(channel.blueprint(assistant), url_prefix="/webhooks/wechat")
    async with serving(app) as url:
        yield url + "/webhooks/wechat/webhook"


def make_channel(api_base: str = "http://127.0.0.1:9", state=None, handoff_client=None, conversations=None,
                 **overrides) -> WeChatInput:
    config = WeChatConfig(**{
        "token": TOKEN, "app_id": APP_ID, "app_secret": APP_SECRET, "encoding_aes_key": AES_KEY,
        "api_base": api_base, "reply_seconds": 4.5, "rest_secret": REST_SECRET, **overrides,
    })
    return WeChatInput(config, state=state, handoff_client=handoff_client, conversations=conversations)


class FakeHandoffClient:
    """Stands in for bot.handoff.client.HandoffClient: the backend's held hand-overs
    by conversation, and what was asked of it."""

    def __init__(self) -> None:
        self.held = {}  # conversation -> view
        self.lookups: List[str] = []
        self.releases: List[tuple] = []
        self.unavailable = False
        self.closed_meanwhile = False  # release answers 409 already_closed

    def hold(self, conversation: str, handoff_id: int = 7, status: str = "waiting") -> dict:
        self.held[conversation] = {"id": handoff_id, "status": status, "mode": "live", "position": 1}
        return self.held[conversation]

    async def lookup(self, conversation: str):
        from bot.handoff.client import HandoffUnavailable

        self.lookups.append(conversation)
        if self.unavailable:
            raise HandoffUnavailable("backend down")
        return self.held.get(conversation)

    async def release(self, handoff_id: int, to: str, by: str, **extra):
        from bot.handoff.client import HandoffConflict

        self.releases.append((handoff_id, to, by))
        if self.closed_meanwhile:
            raise HandoffConflict("already_closed")
        for conversation, view in list(self.held.items()):
            if view["id"] == handoff_id:
                del self.held[conversation]
                return {**view, "status": "closed", "outcome": "back_to_bot"}
        raise HandoffConflict("already_closed")


class FakeConversations:
    """Stands in for bot.channels.wechat.rasa_conversation.RasaConversations: records
    the messages stored without a turn and the intents triggered; a triggered
    intent makes the assistant say `said_on_trigger`."""

    def __init__(self, said_on_trigger=None) -> None:
        self.appended: List[tuple] = []
        self.triggered: List[tuple] = []
        self.said_on_trigger = said_on_trigger or [{"text": "好的，已为您退出人工服务，智能助手继续为您服务"}]

    async def append_user_message(self, sender, text, *, input_channel, message_id=None, metadata=None):
        self.appended.append((sender, text, input_channel, metadata))

    async def trigger_intent(self, sender, intent, entities, output_channel, *, said=None, input_channel="",
                             message_id=None, metadata=None):
        self.triggered.append((sender, intent, entities, said))
        for reply in self.said_on_trigger:
            await output_channel.send_response(sender, dict(reply))
