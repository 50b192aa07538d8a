"""A member of staff's message to a follower, through the customer-service API.

`POST /webhooks/wechat/staff-message` `{"openid", "text"}` (bot/channels/wechat/channel.py)
is called by the web process only (the REST channel's shared secret), when the
member of staff holding a WeChat conversation writes in the staff console. The
text goes out as it is (cut into several messages past MAX_PART_BYTES, at a
line or sentence boundary); WeChat's refusal comes back as its errcode with a
plain explanation the console shows to the member of staff. Token errors and
"busy" are retried once by the API client. The text is never logged.
"""
from __future__ import annotations

import unicodedata
from typing import Any, Dict, List, Tuple

from bot.channels.wechat import rendering
from bot.channels.wechat.api_client import CustomerServiceClient
from bot.channels.wechat.state import ChannelState
from bot.text import is_clean_text

MAX_TEXT_CHARS = 4000
MAX_OPENID_CHARS = 128
MAX_PART_BYTES = rendering.MAX_REPLY_BYTES

# WeChat's errcodes a member of staff may meet, in the staff console's words.
REFUSALS: Dict[int, str] = {
    45015: "超过 48 小时：该用户 48 小时内没有给公众号发消息（或已取消关注），微信不允许再向其发送客服消息。"
           "请等用户再次发来消息后回复，或通过电话等其他方式联系。",
    45047: "发送条数超限：用户回复前最多只能连续发送有限条客服消息。请等待用户回复后再发送。",
    43004: "该用户已取消关注公众号，无法再向其发送消息。",
    40003: "用户标识（OpenID）无效，消息无法送达。",
    45002: "消息内容过长，请缩短后重试。",
    48001: "公众号没有发送客服消息的权限（需要已认证的服务号）。请联系管理员。",
    -1: "微信系统繁忙，消息没有发出，请稍后重试。",
    -2: "微信接口没有配置好（WECHAT_APP_SECRET）或答复异常，消息没有发出。请联系管理员。",
}
UNKNOWN_REFUSAL = "微信拒绝了这条消息（错误码 {errcode}）。"
UNREACHABLE = "暂时无法连接微信服务器，消息没有发出，请稍后重试。"


class InvalidStaffMessage(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refusal_message(errcode: int) -> str:
    """What the member of staff reads for WeChat's `errcode`."""
    return REFUSALS.get(errcode, UNKNOWN_REFUSAL.format(errcode=errcode))


def parse(body: Any) -> Tuple[str, str]:
    """(openid, text) of a request body; InvalidStaffMessage naming what is wrong."""
    if not isinstance(body, dict):
        raise InvalidStaffMessage('The body must be a JSON object {"openid": ..., "text": ...}.')
    openid, text = body.get("openid"), body.get("text")
    if not isinstance(openid, str) or not openid.strip() or len(openid) > MAX_OPENID_CHARS \
            or not openid.isprintable() or not is_clean_text(openid):
        raise InvalidStaffMessage(f'"openid" must be text of 1 to {MAX_OPENID_CHARS} characters.')
    if not isinstance(text, str) or not text.strip() or not is_clean_text(text):
        raise InvalidStaffMessage('"text" must be text that is not empty.')
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidStaffMessage(f'"text" has at most {MAX_TEXT_CHARS} characters.')
    return openid.strip(), unicodedata.normalize("NFC", text.strip())


def parts_of(text: str) -> List[str]:
    """The messages `text` goes out as: one, unless it is longer than a message may be."""
    return rendering.split_for_reply(text, MAX_PART_BYTES, pointer=False)


async def send(api: CustomerServiceClient, state: ChannelState, openid: str, text: str) -> None:
    """Sends the text (in parts, in order); WeChatAPIError / httpx.HTTPError from the
    first part that failed. Once a member of staff has written, a number or "继续"
    from the follower is an answer to them, not to the assistant's last options."""
    await state.forget_options_and_parts(openid)
    for part in parts_of(text):
        await api.send_text(openid, part)
