"""The WeChat channel (/webhooks/wechat/webhook on the Rasa server) under hostile input:
unsigned requests get 403; signed ones reach the parser, which answers 400 to
anything WeChat would not send (XML bombs and entities included) and never leaks a file."""
import httpx
import pytest
from hypothesis import given, strategies as st

from bot.channels.wechat.crypto import signature
from tests.fuzz.hostile import (
    FUZZ, MB, TIMEOUT, below_500, content_types, encode, headers_with, hostile_bodies, json_error, nasty_text,
)
from tests.support.wait import wait_until
from tests.support.wechat_server import ACCOUNT, BILLION_LAUGHS, EXTERNAL_ENTITY, WeChatServer, text_xml

pytestmark = [pytest.mark.product, pytest.mark.fuzz]

PASSWD = "root:x:0:0"  # the first line of /etc/passwd
URL = "/webhooks/wechat/webhook"


@pytest.fixture(scope="module")
def client(product):
    with httpx.Client(base_url=product.rasa_url, timeout=TIMEOUT) as client:
        yield client


def check(response: httpx.Response, what: str, allowed=(200, 400, 403, 413)) -> None:
    """Below 500; a refusal is JSON; a 200 is `success` or reply XML; /etc/passwd never shows."""
    below_500(response, what)
    assert response.status_code in allowed, (what, response.status_code, response.text[:300])
    assert PASSWD not in response.text
    if response.status_code == 200:
        assert response.text == "success" or response.text.startswith("<xml>"), response.text[:300]
    else:
        json_error(response)


def safe_envelope(wechat: WeChatServer, encrypted: str):
    """A safe-mode request around any Encrypt text, with a valid msg_signature over it."""
    params = wechat.url_params()
    params.update(encrypt_type="aes", msg_signature=signature(wechat.token, params["timestamp"], params["nonce"],
                                                              encrypted))
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return params, encode(body)


query_params = st.dictionaries(
    st.sampled_from(["signature", "timestamp", "nonce", "echostr", "encrypt_type", "msg_signature", "openid", "x"]),
    nasty_text.map(lambda t: t.encode("utf-8", "surrogatepass").decode("utf-8", "replace")), max_size=6,
)


@FUZZ
@given(params=query_params, body=hostile_bodies(), content_type=content_types)
def test_unsigned_requests_are_403(client, params, body, content_type):
    response = client.post(URL, params=params, content=body, headers=headers_with(content_type))
    check(response, f"POST wechat {params!r} {body[:200]!r}", allowed=(403, 413) if len(body) > 64 * 1024 else (403,))


@pytest.mark.parametrize("query", [
    "signature=%ED%A0%80&timestamp=%ED%A0%80&nonce=%ED%A0%80",  # percent-encoded lone surrogates
    "signature=%FF%FE&timestamp=1%00&nonce=%0D%0A", "timestamp=99999999999999999999999999&signature=",
    "timestamp=-1&signature=x", "timestamp=1e9&signature=x", "timestamp=NaN&signature=x",
    "&&&===&signature", "signature=" + "a" * 4000,
])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_raw_query_strings_are_403(client, query, method):
    response = client.request(method, f"{URL}?{query}", content=b"<xml/>")
    check(response, f"{method} wechat ?{query}", allowed=(403,))


@FUZZ
@given(params=query_params)
def test_unsigned_url_verification_is_403(client, params):
    response = client.get(URL, params=params)
    check(response, f"GET wechat {params!r}", allowed=(403,))


@FUZZ
@given(body=hostile_bodies(), content_type=content_types)
def test_signed_plaintext_garbage_is_403(client, wechat, body, content_type):
    """The product has an EncodingAESKey: safe mode is required, plaintext refused before parsing."""
    response = client.post(URL, params=wechat.url_params(), content=body, headers=headers_with(content_type))
    check(response, f"POST wechat signed {body[:200]!r}", allowed=(413,) if len(body) > 64 * 1024 else (403,))


xml_text = nasty_text.map(lambda t: t.replace("]]>", ""))
no_surrogates = xml_text.map(lambda t: "".join(c for c in t if not 0xD800 <= ord(c) <= 0xDFFF))
tags = st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event",
                        "Recognition", "Encrypt", "xml", "a"])
fields = st.dictionaries(tags, xml_text, max_size=8)


def xml_of(root: str, children: dict) -> bytes:
    inner = "".join(f"<{tag}><![CDATA[{value}]]></{tag}>" for tag, value in children.items())
    return encode(f"<{root}>{inner}</{root}>")


@FUZZ
@given(root=st.sampled_from(["xml", "XML", "root"]), children=fields)
def test_signed_xml_of_any_structure(client, wechat, root, children):
    """Valid signatures, XML of WeChat's vocabulary in any combination and with any text."""
    body = xml_of(root, children)
    check(client.post(URL, params=wechat.url_params(), content=body), f"POST wechat signed {body[:300]!r}")


@FUZZ
@given(content=no_surrogates, safe=st.booleans())
def test_signed_text_messages_of_any_content(client, wechat, content, safe):
    """What WeChat would send with a hostile Content: answered, or 400 for characters XML does not allow."""
    params, body = wechat.request(text_xml("oFuzz0000000000000000000001", content), safe=safe)
    check(client.post(URL, params=params, content=body), f"POST wechat {'safe' if safe else 'plain'} {content!r}",
          allowed=(200, 400) if safe else (403,))


@FUZZ
@given(encrypted=no_surrogates)
def test_safe_mode_garbage_ciphertext_with_a_valid_signature(client, wechat, encrypted):
    params, body = safe_envelope(wechat, encrypted)
    check(client.post(URL, params=params, content=body), f"POST wechat safe {encrypted!r}", allowed=(400, 403))


@FUZZ
@given(plain=st.binary(max_size=500) | hostile_bodies().filter(lambda b: len(b) < 40_000))
def test_safe_mode_any_decrypted_body(client, wechat, plain):
    """Correctly encrypted and signed, with anything inside."""
    encrypted = wechat.crypto.encrypt(plain.decode("utf-8", "surrogateescape").encode("utf-8", "surrogateescape")
                                      .decode("latin-1"))
    params, body = safe_envelope(wechat, encrypted)
    check(client.post(URL, params=params, content=body), f"POST wechat safe {plain[:200]!r}", allowed=(200, 400))


HTTP_ENTITY = EXTERNAL_ENTITY.replace(b"file:///etc/passwd", b"http://127.0.0.1:1/")
PARAMETER_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;]>'
                    b"<xml><ToUserName>gh</ToUserName></xml>")
DTD_ONLY = b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:1/x.dtd"><xml><MsgType>text</MsgType></xml>'
QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "' + b"x" * 20000 + b'">]><xml><Content>'
             + b"&a;" * 2000 + b"</Content></xml>")
DEEP = b"<xml>" + b"<a>" * 6000 + b"</a>" * 6000 + b"</xml>"  # under 64 KiB even encrypted
BROKEN = [b"<xml><ToUserName>gh</ToUserName>", b"<xml><a></b></xml>", b"<xml>\x00</xml>", b"<?xml?>",
          b"<xml><![CDATA[</xml>", b"\xef\xbb\xbf<xml/>", b"<xml>\xff\xfe</xml>", b"</xml>"]
HOSTILE_XML = [BILLION_LAUGHS, EXTERNAL_ENTITY, HTTP_ENTITY, PARAMETER_ENTITY, DTD_ONLY, QUADRATIC, DEEP, *BROKEN]


def xinclude_message(openid: str, before: str) -> str:
    """A text message whose Content is `before`, then an XInclude of /etc/passwd."""
    return text_xml(openid, before).replace(
        f"<Content><![CDATA[{before}]]></Content>",
        f'<Content xmlns:xi="http://www.w3.org/2001/XInclude">{before}'
        '<xi:include href="file:///etc/passwd" parse="text"/></Content>')


@pytest.mark.parametrize("body", HOSTILE_XML, ids=lambda b: b[:40].decode("latin-1"))
@pytest.mark.parametrize("mode", ["plain", "safe", "unsigned"])
def test_xml_bombs_entities_and_broken_xml(client, wechat, body, mode):
    if mode == "plain":  # safe mode is required: refused before parsing
        params, content, expected = wechat.url_params(), body, 403
    elif mode == "safe":
        params, content = safe_envelope(wechat, wechat.crypto.encrypt(body.decode("latin-1")))
        expected = 400
    else:
        params, content, expected = {}, body, 403
    response = client.post(URL, params=params, content=content)
    check(response, f"POST wechat {mode} {body[:80]!r}", allowed=(expected,))


def test_xinclude_is_never_followed(product, client, wechat):
    """XInclude is not processed: the assistant is told the text before the
    include and nothing of the file. The reply is encrypted and never echoes
    the message, so the stored conversation is where this shows."""
    openid = "oFuzzXInclude000000000000001"
    xml = xinclude_message(openid, "补卡要带什么材料")
    assert "xi:include" in xml
    params, content = safe_envelope(wechat, wechat.crypto.encrypt(xml))
    check(client.post(URL, params=params, content=content), "XInclude", allowed=(200,))
    # A turn slower than WeChat's deadline answers `success` and goes on: wait for it to be stored.
    stored = wait_until(lambda: product.stored_user_texts(openid), "the message in the tracker store")
    assert stored == ["补卡要带什么材料"]


@pytest.mark.parametrize("wrapper", ["dtd", "entity"])
def test_an_envelope_with_a_dtd_is_400(client, wechat, wrapper):
    """The safe-mode envelope is parsed with the same defences as the message inside."""
    params, _ = safe_envelope(wechat, "x")
    entity = b'<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    body = entity + (b"<xml><Encrypt>&e;</Encrypt></xml>" if wrapper == "entity" else b"<xml><Encrypt>x</Encrypt></xml>")
    check(client.post(URL, params=params, content=body), f"envelope {wrapper}", allowed=(400,))


@pytest.mark.parametrize("size", [64 * 1024 + 1, MB, 8 * MB])
def test_oversized_signed_bodies_are_413(client, wechat, size):
    body = b"<xml><Content>" + b"a" * size + b"</Content></xml>"
    check(client.post(URL, params=wechat.url_params(), content=body), f"{size} bytes", allowed=(413,))


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_wrong_methods_are_405(client, wechat, method):
    response = client.request(method, URL, params=wechat.url_params(), content=BILLION_LAUGHS)
    assert response.status_code == 405 and PASSWD not in response.text
