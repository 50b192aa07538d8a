"""WeChat's XML: incoming messages parsed into a dataclass, replies built.

Parsing goes through defusedxml with DTDs forbidden, so neither entity
expansion ("billion laughs") nor external entities can reach us.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, Optional
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class MalformedMessage(Exception):
    """Not XML WeChat would send (`reason` is safe to log and show)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IncomingMessage:
    to_user: str  # the Official Account's original ID (gh_...)
    from_user: str  # the user's OpenID
    create_time: int
    msg_type: str
    content: str = ""
    msg_id: str = ""
    event: str = ""
    recognition: str = ""

    @property
    def dedup_id(self) -> str:
        """MsgId; events have none, so the sender and CreateTime stand for it."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"event:{self.from_user}:{self.create_time}:{self.event}"


def parse_fields(body: bytes) -> Dict[str, str]:
    """The child elements of <xml> as tag -> text."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise MalformedMessage("XML with a DTD or entities is refused") from None
    except (ParseError, ValueError):
        raise MalformedMessage("malformed XML") from None
    if root.tag != "xml":
        raise MalformedMessage("the root element must be <xml>")
    return {child.tag: child.text or "" for child in root}


def parse_message(body: bytes) -> IncomingMessage:
    fields = {tag: text.strip() for tag, text in parse_fields(body).items()}
    missing = [name for name in ("ToUserName", "FromUserName", "CreateTime", "MsgType") if not fields.get(name)]
    if missing:
        raise MalformedMessage("missing " + ", ".join(missing))
    try:
        create_time = int(fields["CreateTime"])
    except ValueError:
        raise MalformedMessage("CreateTime is not a number") from None
    return IncomingMessage(
        to_user=fields["ToUserName"],
        from_user=fields["FromUserName"],
        create_time=create_time,
        msg_type=fields["MsgType"].lower(),
        content=fields.get("Content", ""),
        msg_id=fields.get("MsgId", ""),
        event=fields.get("Event", "").lower(),
        recognition=fields.get("Recognition", ""),
    )


def encrypted_field(body: bytes) -> str:
    """The <Encrypt> text of a safe-mode body, exactly as received (the
    signature is over these characters)."""
    encrypted = parse_fields(body).get("Encrypt", "")
    if not encrypted.strip():
        raise MalformedMessage("missing Encrypt")
    return encrypted


def cdata(text: str) -> str:
    # "]]>" cannot occur inside CDATA: end the section there and start another.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, create_time: Optional[int] = None) -> str:
    create_time = int(time.time()) if create_time is None else create_time
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


def encrypted_reply(encrypted: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    return (
        "<xml>"
        f"<Encrypt>{cdata(encrypted)}</Encrypt>"
        f"<MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce>"
        "</xml>"
    )
