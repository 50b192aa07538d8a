"""Hostile inputs (hypothesis strategies and fixed bodies) and the checks every
answer must pass: below 500, in time, and in the documented shape; and the
product answering normally afterwards."""
from __future__ import annotations

import json
from typing import Optional

import httpx
from hypothesis import HealthCheck, settings, strategies as st

from tests.support.wechat_server import text_xml

TIMEOUT = 30.0  # a request that hangs fails its test instead of blocking it
MB = 1024 * 1024

# Reproducible in CI, bounded for 2 shared cores; many examples are large bodies.
FUZZ = settings(
    max_examples=40, deadline=None, derandomize=True, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                           HealthCheck.function_scoped_fixture],
)

EMOJI = "\U0001F600\U0001F4A9\U0001F9D1\u200d\U0001F4BB\U0001F1E8\U0001F1F3"  # incl. ZWJ and a flag pair

# Text as hostile as JSON and UTF-8 allow: controls, lone surrogates, BOM, RTL marks, emoji, CJK.
nasty_text = st.lists(
    st.one_of(
        st.characters(min_codepoint=0, max_codepoint=0x1F),
        st.sampled_from(["\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "\u202e", "\ufffd", "\U0010ffff",
                         "\ud800", "\udfff", *EMOJI, "社保卡", "<", "&amp;", "]]>", "\\", '"', "\r\n"]),
        st.characters(),
    ),
    max_size=120,
).map("".join)


def encode(text: str) -> bytes:
    """UTF-8 that keeps lone surrogates (invalid UTF-8 on purpose)."""
    return text.encode("utf-8", "surrogatepass")


def nested(depth: int, opener: str) -> bytes:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "[":
        return ("[" * depth + "]" * depth).encode()
    return ('{"a":' * depth + "1" + closer * depth).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nasty_text, children, max_size=4),
    max_leaves=12,
)

# Whole bodies: bytes of any kind, huge or deeply nested JSON, valid JSON of the wrong shape.
def hostile_bodies(*, keys=("sender", "message", "metadata")) -> st.SearchStrategy[bytes]:
    right_keys_wrong_values = st.fixed_dictionaries({k: json_values for k in keys})
    return st.one_of(
        st.just(b""),
        st.binary(max_size=2000),
        nasty_text.map(encode),
        st.sampled_from([b"\xff\xfe\x00", b"\xc0\xaf", b"\xed\xa0\x80", b'{"message": "\xff"}', b"\x00" * 100,
                         b"NaN", b"[NaN]", b'{"a": Infinity}', b"1e999999", b"-" + b"9" * 5000, b"null", b"[]",
                         b'"\\ud800"', b"{" * 3, b'{"message":}']),
        st.integers(min_value=1000, max_value=10_000).flatmap(
            lambda depth: st.sampled_from([nested(depth, "["), nested(depth, "{")])),
        json_values.map(lambda v: json.dumps(v).encode()),
        right_keys_wrong_values.map(lambda v: json.dumps(v).encode()),
        st.builds(lambda n, c: c * n, st.sampled_from([MB, MB + 1]), st.sampled_from([b"a", b"{", b"\x00"])),
    )


content_types = st.sampled_from([
    None, "application/json", "application/json; charset=latin-1", "text/plain", "text/xml",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream",
    "application/json; charset=utf-16", "*/*", "\x01",
])


def headers_with(content_type: Optional[str], extra: Optional[dict] = None) -> dict:
    headers = dict(extra or {})
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def json_error(response: httpx.Response) -> None:
    """A 4xx carries {"error": {"code": str, "message": str}}."""
    try:
        error = response.json()["error"]
    except Exception as failure:
        raise AssertionError(f"{response.status_code} without a JSON error body: {response.text[:300]!r}") from failure
    assert isinstance(error["code"], str) and isinstance(error["message"], str), error


def below_500(response: httpx.Response, request: str) -> None:
    assert response.status_code < 500, (
        f"{request} -> {response.status_code}: {response.text[:500]!r}")


QUESTION = "补办的社保卡需要重新激活吗?"


def answers_normally(product, wechat) -> None:
    """Every server answers a real question as before: the REST channel, the
    widget's page, the WeChat channel (in safe mode)."""
    answer = product.say("fuzz-after", QUESTION)
    assert any("激活" in (reply.get("text") or "") for reply in answer), answer

    page = httpx.get(f"{product.web_url}/", timeout=TIMEOUT)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]

    params, body = wechat.request(text_xml("oFuzzAfter0000000000000000001", QUESTION), safe=True)
    reply = None
    for _ in range(3):  # as WeChat retries: a slow first turn answers `success`, a retry gets the answer
        response = httpx.post(f"{product.rasa_url}/webhooks/wechat/webhook", params=params, content=body,
                              timeout=TIMEOUT)
        reply = wechat.read_reply(response.status_code, response.text, safe=True)
        if reply is not None:
            break
    assert reply and "激活" in reply, reply


def wait_until_up(url: str, seconds: float = 180.0) -> None:
    """After a crash, wait for the launcher's restart so that later tests test the product, not the restart."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
