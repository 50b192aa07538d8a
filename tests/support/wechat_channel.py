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


def make_channel(api_base: str = "http://127.0.0.1:9", state=None, **overrides) -> WeChatInput:
    config = WeChatConfig(**{
        "token": TOKEN, "app_id": APP_ID, "app_secret": APP_SECRET, "encoding_aes_key": AES_KEY,
        "api_base": api_base, "reply_seconds": 4.5, **overrides,
    })
    return WeChatInput(config, state=state)
