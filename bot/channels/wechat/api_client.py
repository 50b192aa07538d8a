"""WeChat's customer-service message API, for answers too slow for a passive reply.

POST {api_base}/cgi-bin/message/custom/send?access_token=... with a text
message; the access token comes from GET {api_base}/cgi-bin/token and is kept
(in the channel state, so replicas share one) until five minutes before it
expires. WeChat answers HTTP 200 with `errcode` != 0 when something is wrong:
on an invalid or expired token (40001, 40014, 42001) the token is fetched
again and the message sent once more; on "system busy" (-1) it is sent once
more; any other errcode is logged (OpenID hashed) and given up.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Dict

import httpx

from bot.channels.wechat.state import ChannelState, hashed

logger = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
BUSY = -1
TOKEN_MARGIN_SECONDS = 300
_SECRET_IN_URL = re.compile(r"((?:access_token|secret)=)[^&\s\"']+")


class WeChatAPIError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def mask_secrets(text: str) -> str:
    """The text with access tokens and secrets in URLs replaced by ***."""
    return _SECRET_IN_URL.sub(r"\1***", text)


class _MaskSecretsInURLs(logging.Filter):
    """httpx logs every request URL at INFO, and ours carry the access token
    or the AppSecret in the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def _install_url_masking() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskSecretsInURLs) for f in httpx_logger.filters):
        httpx_logger.addFilter(_MaskSecretsInURLs())


class CustomerServiceClient:
    def __init__(
        self,
        api_base: str,
        app_id: str,
        app_secret: str,
        state: ChannelState,
        timeout: float = 10.0,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.app_id = app_id
        self._app_secret = app_secret
        self._state = state
        self._timeout = timeout
        self._token_lock = asyncio.Lock()
        _install_url_masking()

    async def _get_json(self, client: httpx.AsyncClient, request: httpx.Request) -> Dict[str, Any]:
        response = await client.send(request)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict):
            raise WeChatAPIError(-2, "answer is not a JSON object")
        return data

    async def _access_token(self, client: httpx.AsyncClient, refresh: bool = False) -> str:
        async with self._token_lock:  # concurrent sends of this process fetch once
            if refresh:
                await self._state.forget_access_token(self.app_id)
            token = await self._state.access_token(self.app_id)
            if token:
                return token
            if not self._app_secret:
                raise WeChatAPIError(-2, "WECHAT_APP_SECRET is not set")
            data = await self._get_json(client, client.build_request(
                "GET", f"{self.api_base}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.app_id, "secret": self._app_secret},
            ))
            if data.get("errcode") or not data.get("access_token"):
                raise WeChatAPIError(int(data.get("errcode") or -2), str(data.get("errmsg", "no access_token")))
            ttl = max(60, int(data.get("expires_in", 7200)) - TOKEN_MARGIN_SECONDS)
            await self._state.set_access_token(self.app_id, data["access_token"], ttl)
            logger.info("wechat: fetched a customer-service access token (valid %ss)", ttl)
            return data["access_token"]

    async def _send_once(self, client: httpx.AsyncClient, openid: str, content: str, refresh: bool) -> Dict[str, Any]:
        token = await self._access_token(client, refresh=refresh)
        return await self._get_json(client, client.build_request(
            "POST", f"{self.api_base}/cgi-bin/message/custom/send",
            params={"access_token": token},
            json={"touser": openid, "msgtype": "text", "text": {"content": content}},
        ))

    async def send_text(self, openid: str, content: str) -> None:
        """Sends `content` to the user; WeChatAPIError or httpx.HTTPError if it could not."""
        user = hashed(openid)[:12]
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            data = await self._send_once(client, openid, content, refresh=False)
            errcode = int(data.get("errcode") or 0)
            if errcode in TOKEN_ERRORS or errcode == BUSY:
                logger.warning("wechat: customer-service send for user %s got errcode %s, retrying once", user, errcode)
                data = await self._send_once(client, openid, content, refresh=errcode in TOKEN_ERRORS)
                errcode = int(data.get("errcode") or 0)
        if errcode:
            errmsg = str(data.get("errmsg", "")).replace(openid, "<openid>")
            logger.error("wechat: customer-service send for user %s failed: errcode %s (%s)", user, errcode, errmsg)
            raise WeChatAPIError(errcode, errmsg)
