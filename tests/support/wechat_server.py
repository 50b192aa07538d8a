"""Plays WeChat's side of the server URL: builds signed (and in safe mode
encrypted) requests as WeChat sends them, and reads the replies the way WeChat
does -- checking the reply's MsgSignature before decrypting it."""
from __future__ import annotations

import itertools
import secrets
import time
from typing import Dict, Optional, Tuple
from xml.etree.ElementTree import fromstring

from bot.channels.wechat.crypto import MessageCrypto, signature

ACCOUNT = "gh_0123456789ab"
_msg_ids = itertools.count(6054768590064713728)


def text_xml(openid: str, content: str, msg_id: Optional[int] = None, create_time: Optional[int] = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or next(_msg_ids)}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, create_time: Optional[int] = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def image_xml(openid: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        "<PicUrl><![CDATA[http://mmbiz.qpic.cn/example]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId>"
        f"<MsgId>{next(_msg_ids)}</MsgId></xml>"
    )


def voice_xml(openid: str, recognition: str = "") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        "<MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[amr]]></Format>"
        + (f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition else "")
        + f"<MsgId>{next(_msg_ids)}</MsgId></xml>"
    )


# Hostile bodies: entity expansion ("billion laughs") and an external entity.
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol3;</Content></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&secret;</Content></xml>"""


class WeChatServer:
    def __init__(self, token: str, app_id: str, encoding_aes_key: str) -> None:
        self.token = token
        self.crypto = MessageCrypto(token, encoding_aes_key, app_id)

    @classmethod
    def of(cls, env: Dict[str, str]) -> "WeChatServer":
        """WeChat's side of the account a product's settings (`env`) configure."""
        return cls(env["WECHAT_TOKEN"], env["WECHAT_APP_ID"], env["WECHAT_ENCODING_AES_KEY"])

    def url_params(self, timestamp: Optional[str] = None, nonce: Optional[str] = None) -> Dict[str, str]:
        """A signed URL's parameters; like WeChat, a fresh random nonce for each request."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10 ** 10))
        return {"signature": signature(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}

    def request(self, xml: str, safe: bool = True, **url_overrides: str) -> Tuple[Dict[str, str], bytes]:
        """Query parameters and body of a POST as WeChat sends it."""
        params = self.url_params()
        if not safe:
            params.update(url_overrides)
            return params, xml.encode("utf-8")
        encrypted = self.crypto.encrypt(xml)
        params.update(
            encrypt_type="aes",
            openid="o-unused",
            msg_signature=signature(self.token, params["timestamp"], params["nonce"], encrypted),
        )
        params.update(url_overrides)
        body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return params, body.encode("utf-8")

    def read_reply(self, status: int, body: str, safe: bool = True, to_user: Optional[str] = None) -> Optional[str]:
        """The Content the user sees (`to_user`, when given, must be the addressee); None for `success`."""
        assert status == 200, (status, body)
        if body == "success":
            return None
        root = fromstring(body)
        if safe:
            encrypted = root.findtext("Encrypt")
            expected = signature(self.token, root.findtext("TimeStamp"), root.findtext("Nonce"), encrypted)
            assert root.findtext("MsgSignature") == expected, "reply's MsgSignature is wrong"
            root = fromstring(self.crypto.decrypt(encrypted))
        assert root.findtext("MsgType") == "text"
        assert root.findtext("FromUserName") == ACCOUNT
        assert to_user is None or root.findtext("ToUserName") == to_user
        return root.findtext("Content")
