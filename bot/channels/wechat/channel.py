"""The Rasa input channel `wechat`: a WeChat Official Account's server URL.

Served at /webhooks/wechat/webhook: GET verifies the URL (echostr), POST
receives messages in safe mode (encrypt_type=aes) or, only for an account
without an EncodingAESKey, in plaintext. A signed URL carries one message: its
nonce is remembered with the body it came with (docs/WECHAT.md, "Replays").
This module checks each request and speaks HTTP; the work is done by crypto,
xml_messages (WeChat's XML in and out), rendering (the assistant's messages
as the plain text a user reads), state, api_client and turns.

Live hand-over to a person (issue 12): turns routes a held conversation's
messages (handoff: is it held; rasa_conversation: store a message without a
turn, trigger an intent); `get_output_channel` gives Rasa the output channel
that writes through the customer-service API (output), and
POST /webhooks/wechat/staff-message sends a member of staff's message
(staff_messages), for the web process only (the REST channel's secret).
"""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional, Text

import httpx
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import InputChannel, OutputChannel

from bot.channels.wechat import staff_messages
from bot.channels.wechat.api_client import CustomerServiceClient, WeChatAPIError
from bot.channels.wechat.crypto import (
    AppIdMismatch, DecryptError, InvalidAESKey, MessageCrypto, SignatureError, TimestampError,
    MAX_CLOCK_SKEW_SECONDS, check_signature, check_timestamp,
)
from bot.channels.wechat.xml_messages import (
    IncomingMessage, MalformedMessage, encrypted_field, encrypted_reply, parse_message, text_reply,
)
from bot.channels.wechat.handoff import HeldConversations
from bot.channels.wechat.output import WeChatOutput
from bot.channels.wechat.rasa_conversation import RasaConversations
from bot.channels.wechat.ratings import RatingStore, WeChatRatings, conversation_now_in
from bot.channels.wechat.state import NONCE_NEW, NONCE_OTHER_MESSAGE, ChannelState, state_for, hashed
from bot.channels.wechat.turns import OnNewMessage, Turns
from bot.core import settings
from bot.core.service_auth import REST_SECRET_HEADER, presents
from bot.handoff.client import HandoffClient
from bot.rasa_ext import bootstrap

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
SHUTDOWN_GRACE_SECONDS = 7.0
BACKEND_TIMEOUT_SECONDS = 3.0  # a hand-over lookup within WeChat's 5 s


@dataclass(frozen=True)
class WeChatConfig:
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    api_base: str = "https://api.weixin.qq.com"
    reply_seconds: float = 4.5
    redis_url: str = ""
    # From the product's settings (bot/core/settings.py), not credentials.yml:
    backend_url: str = ""  # the card backend, for hand-overs; empty: hand-overs are not routed
    backend_token: str = ""  # BACKEND_SERVICE_TOKEN
    rest_secret: str = ""  # REST_CHANNEL_SECRET: the web process's key to the staff-message route

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any]) -> "WeChatConfig":
        def value(key: str, default: str = "") -> str:
            raw = credentials.get(key)
            return default if raw is None or str(raw).strip() == "" else str(raw).strip()

        try:
            reply_seconds = float(value("reply_seconds", "4.5"))
        except ValueError:
            raise ValueError("wechat: reply_seconds (WECHAT_REPLY_SECONDS) must be a number of seconds") from None
        product = settings.resolved()
        return cls(
            token=value("token"), app_id=value("app_id"), app_secret=value("app_secret"),
            encoding_aes_key=value("encoding_aes_key"), api_base=value("api_base", cls.api_base),
            reply_seconds=reply_seconds, redis_url=value("redis_url"),
            backend_url=value("backend_url", product["BACKEND_URL"]),
            backend_token=value("backend_token", product["BACKEND_SERVICE_TOKEN"]),
            rest_secret=value("rest_secret", product["REST_CHANNEL_SECRET"]),
        )


# The same error shape as our REST channel (bot/channels/rest.py).
_ERROR_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 413: "too_large",
                503: "unavailable"}


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": {"code": _ERROR_CODES[status], "message": message}}, status=status)


def _refusal(status: int, reason: str) -> HTTPResponse:
    logger.warning("wechat: refused a request (%s): %s", status, reason)
    return _error(status, reason)


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WeChatInput":
        if credentials is None:
            cls.raise_missing_credentials_exception()
        bootstrap.install()  # Rasa may load this channel first of our plug-ins
        return cls(WeChatConfig.from_credentials(credentials), ratings_store=RatingStore.from_settings())

    def __init__(
        self,
        config: WeChatConfig,
        state: Optional[ChannelState] = None,
        api: Optional[CustomerServiceClient] = None,
        handoff_client: Any = None,
        conversations: Optional[RasaConversations] = None,
        ratings_store: Any = None,
    ) -> None:
        self.config = config
        self.state = state or state_for(config.redis_url)
        self.api = api or CustomerServiceClient(config.api_base, config.app_id, config.app_secret, self.state)
        self.conversations = conversations or RasaConversations()
        if handoff_client is None and config.backend_url:
            handoff_client = HandoffClient(config.backend_url, config.backend_token, timeout=BACKEND_TIMEOUT_SECONDS)
        handoffs = HeldConversations(self.state, handoff_client) if handoff_client is not None else None
        # Citizens rate (issue 13): the widget's tables; None (tests of the channel alone): nothing is asked.
        ratings = WeChatRatings(self.state, ratings_store, conversation_now_in(self.conversations)) \
            if ratings_store is not None else None
        self.turns = Turns(self.state, self.api, config.reply_seconds, self.name(), handoffs, self.conversations,
                           ratings)
        self.crypto: Optional[MessageCrypto] = None
        # A configured EncodingAESKey means safe mode is required, even when the key is unusable.
        self.safe_mode_required = bool(config.encoding_aes_key)
        if not config.token:
            logger.warning("wechat: WECHAT_TOKEN is empty, so the WeChat channel refuses every request")
        try:
            self.crypto = MessageCrypto(config.token, config.encoding_aes_key, config.app_id)
        except InvalidAESKey as error:
            if config.encoding_aes_key:
                logger.error("wechat: %s; every message is refused", error.reason)
        if self.crypto and not config.app_id:
            logger.error("wechat: WECHAT_APP_ID is empty; every message is refused")
            self.crypto = None

    def get_output_channel(self) -> Optional[OutputChannel]:
        """What Rasa's HTTP API (trigger_intent with output_channel=wechat) says to a
        follower goes out through the customer-service API."""
        return WeChatOutput(self.turns)

    def _check_request(self, request: Request) -> Optional[HTTPResponse]:
        """A refusal, unless the channel is configured and the URL signature and timestamp are good."""
        if not self.config.token:
            return _error(503, "the WeChat channel is not configured (WECHAT_TOKEN is empty)")
        args = request.args
        try:
            check_timestamp(args.get("timestamp"))
            check_signature((self.config.token, args.get("timestamp", ""), args.get("nonce", "")), args.get("signature"))
        except (SignatureError, TimestampError) as error:
            return _refusal(403, error.reason)
        return None

    async def _first_use_of_url(self, request: Request) -> Optional[bool]:
        """True when this signed URL (timestamp + nonce) is new, False when it
        came before with this very body, None when it came with another body
        (someone who saw the URL posting their own message with it). Remembered
        until the timestamp leaves the accepted window, so no replay outlives it."""
        timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
        remaining = int(timestamp) + MAX_CLOCK_SKEW_SECONDS - time.time() + 1
        seen = await self.state.use_nonce(f"{timestamp}:{nonce}", hashlib.sha256(request.body or b"").hexdigest(),
                                          max(1.0, remaining))
        return None if seen == NONCE_OTHER_MESSAGE else seen == NONCE_NEW

    def _incoming(self, request: Request, safe_mode: bool) -> IncomingMessage:
        if not safe_mode:
            return parse_message(request.body)
        args = request.args
        plain = self.crypto.decrypt_signed(
            encrypted_field(request.body), args.get("msg_signature"), args.get("timestamp", ""), args.get("nonce", ""),
        )
        return parse_message(plain.encode("utf-8"))

    def _reply(self, message: IncomingMessage, text: Optional[str], safe_mode: bool) -> HTTPResponse:
        if text is None:
            return response.text("success")
        xml = text_reply(message.from_user, message.to_user, text)
        if safe_mode:
            timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10 ** 10))
            encrypted, msg_signature = self.crypto.encrypt_signed(xml, timestamp, nonce)
            xml = encrypted_reply(encrypted, msg_signature, timestamp, nonce)
        return response.text(xml, content_type="application/xml; charset=utf-8")

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint("wechat_webhook", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": bool(self.config.token)})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            refusal = self._check_request(request)
            return refusal or response.text(request.args.get("echostr", ""))

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY_BYTES:
                return _refusal(413, f"body larger than {MAX_BODY_BYTES} bytes")
            refusal = self._check_request(request)
            if refusal:
                return refusal
            safe_mode = request.args.get("encrypt_type", "raw").lower() == "aes"
            if (safe_mode or self.safe_mode_required) and self.crypto is None:
                return _refusal(503, "safe mode needs a valid WECHAT_ENCODING_AES_KEY and WECHAT_APP_ID")
            if self.safe_mode_required and not safe_mode:
                return _refusal(403, "plaintext message refused: safe mode is configured (encrypt_type=aes required)")
            try:
                message = self._incoming(request, safe_mode)
            except (SignatureError, AppIdMismatch) as error:
                return _refusal(403, error.reason)
            except (DecryptError, MalformedMessage) as error:
                return _refusal(400, error.reason)
            # Only a message that passed every check binds the URL (a garbage body cannot use it up).
            try:
                first_use = await self._first_use_of_url(request)
            except Exception as error:  # e.g. Redis unreachable: 503 makes WeChat retry
                logger.error("wechat: signed URL not checked: %s", type(error).__name__)
                return _error(503, "temporarily unavailable, please retry")
            if first_use is None:
                return _refusal(403, "this signed URL was already used for another message")
            try:
                text = await self.turns.reply_to(message, on_new_message, may_start=first_use)
            except Exception as error:  # e.g. Redis unreachable: 503 makes WeChat retry
                logger.error("wechat: message not handled: %s", type(error).__name__)
                return _error(503, "temporarily unavailable, please retry")
            return self._reply(message, text, safe_mode)

        @webhook.route("/staff-message", methods=["POST"])
        async def staff_message(request: Request) -> HTTPResponse:
            if not self.config.rest_secret:
                return _error(503, "the staff-message route has no secret configured (REST_CHANNEL_SECRET)")
            if not presents(request.headers, REST_SECRET_HEADER, self.config.rest_secret):
                return _refusal(401, f"present the helpdesk's shared secret in {REST_SECRET_HEADER}")
            try:
                openid, text = staff_messages.parse(request.json)
            except staff_messages.InvalidStaffMessage as error:
                return _error(400, error.message)
            except Exception:  # sanic's own error for a body that is not JSON
                return _error(400, "The body is not valid JSON.")
            try:
                await staff_messages.send(self.api, self.state, openid, text)
            except WeChatAPIError as error:
                return response.json({"error": {
                    "code": "wechat_refused", "errcode": error.errcode,
                    "message": staff_messages.refusal_message(error.errcode),
                }}, status=502)
            except httpx.HTTPError as error:
                logger.error("wechat: staff message for user %s not sent: %s", hashed(openid)[:12],
                             type(error).__name__)
                # the same shape (errcode null): the web process shows the message to staff as it is
                return response.json({"error": {"code": "wechat_refused", "errcode": None,
                                                "message": staff_messages.UNREACHABLE}}, status=502)
            return response.json({"sent": True})

        @webhook.listener("before_server_start")
        async def bind_conversations(app: Any, loop: Any) -> None:
            self.conversations.bind(app)  # held messages and the leave phrase reach Rasa's agent through it

        @webhook.listener("before_server_stop")
        async def finish_turns(app: Any, loop: Any) -> None:
            # Answers still being worked out go out before the server stops
            # (the launcher allows 10 s between SIGTERM and SIGKILL).
            try:
                await asyncio.wait_for(self.turns.drain(), SHUTDOWN_GRACE_SECONDS)
            except asyncio.TimeoutError:
                logger.warning("wechat: stopped with turns still running")
            await self.state.close()

        return webhook
