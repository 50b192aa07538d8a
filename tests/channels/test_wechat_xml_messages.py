"""Incoming XML to a dataclass; refused XML; reply XML."""
from xml.etree.ElementTree import fromstring

import pytest

from bot.channels.wechat.xml_messages import (
    MalformedMessage, encrypted_field, encrypted_reply, parse_message, text_reply,
)
from tests.support.wechat_server import BILLION_LAUGHS, EXTERNAL_ENTITY

TEXT = (
    b"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n"
    b"<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n"
    b"<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n"
    b"<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"
)


def test_text_message():
    message = parse_message(TEXT)
    assert (message.to_user, message.from_user, message.create_time) == (
        "gh_10f6c3c3ac5a", "oyORnuP8q7ou2gfYjqLzSIWZf0rs", 1409735668)
    assert (message.msg_type, message.content, message.msg_id) == ("text", "abcdteT", "6054768590064713728")
    assert message.dedup_id == "msg:6054768590064713728"


def test_event_dedup_id_is_sender_and_create_time():
    body = ("<xml><ToUserName>gh</ToUserName><FromUserName>oUser</FromUserName><CreateTime>123</CreateTime>"
            "<MsgType>event</MsgType><Event>subscribe</Event></xml>").encode()
    message = parse_message(body)
    assert (message.msg_type, message.event, message.msg_id) == ("event", "subscribe", "")
    assert message.dedup_id == "event:oUser:123:subscribe"


def test_voice_recognition():
    body = ("<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>voice</MsgType><MediaId>m</MediaId><Recognition>怎么激活</Recognition><MsgId>7</MsgId></xml>")
    assert parse_message(body.encode()).recognition == "怎么激活"


@pytest.mark.parametrize("body, reason", [
    (b"<xml><ToUserName>", "malformed XML"),
    (b"", "malformed XML"),
    (b"not xml at all", "malformed XML"),
    (b"<notxml/>", "the root element must be <xml>"),
    (b"<xml><ToUserName>gh</ToUserName></xml>", "missing FromUserName, CreateTime, MsgType"),
    (b"<xml><ToUserName>g</ToUserName><FromUserName>o</FromUserName><CreateTime>x</CreateTime>"
     b"<MsgType>text</MsgType></xml>", "CreateTime is not a number"),
])
def test_malformed_messages(body, reason):
    with pytest.raises(MalformedMessage) as error:
        parse_message(body)
    assert error.value.reason == reason


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["entity-expansion", "external-entity"])
def test_dtds_and_entities_are_refused(body):
    with pytest.raises(MalformedMessage) as error:
        parse_message(body)
    assert error.value.reason == "XML with a DTD or entities is refused"
    with pytest.raises(MalformedMessage):
        encrypted_field(body)


def test_encrypted_field_is_kept_exactly():
    assert encrypted_field(b"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[ab+/c=]]></Encrypt></xml>") == "ab+/c="
    with pytest.raises(MalformedMessage):
        encrypted_field(b"<xml><ToUserName>gh</ToUserName></xml>")


def test_text_reply_escapes_cdata_end():
    xml = text_reply("oUser", "gh", "a ]]> b <tag> & 中文", create_time=1700000000)
    root = fromstring(xml)
    assert root.findtext("ToUserName") == "oUser"
    assert root.findtext("FromUserName") == "gh"
    assert root.findtext("CreateTime") == "1700000000"
    assert root.findtext("MsgType") == "text"
    assert root.findtext("Content") == "a ]]> b <tag> & 中文"


def test_encrypted_reply_fields():
    root = fromstring(encrypted_reply("ENC+/=", "sig", "1700000000", "123"))
    assert [child.tag for child in root] == ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"]
    assert [child.text for child in root] == ["ENC+/=", "sig", "1700000000", "123"]
