"""A message that asks to leave the queue or the member of staff and go back
to the assistant. Only a whole message counts (算了, 不用了, 回到机器人, back to
the bot, never mind): "算了，我自己去银行吧" said to a person is for that person."""
from __future__ import annotations

import re
from typing import Optional

from bot.privacy import pii

_BACK_TO_BOT_ZH = re.compile(
    r"(?:我要|我想|请|麻烦)?(?:回到|返回|切换到|转回|换回|回)(?:智能)?(?:机器人|助手|智能客服|自动回复)(?:吧|了|谢谢)*"
    r"|(?:不要|不用|不找|不需要)(?:了)?(?:转)?人工(?:了|客服|服务)*(?:了|吧)*"
    r"|(?:退出|结束|取消)(?:排队|人工|人工服务|人工客服)(?:吧|了)*"
)
_BACK_TO_BOT_EN = re.compile(
    r"(?:(?:ok|okay|please|i\s+want\s+to|i\s?d\s+like\s+to|i\s+would\s+like\s+to|let\s+me)\s+)*"
    r"(?:(?:go\s+)?back\s+to\s+(?:the\s+)?(?:bot|assistant|chatbot)|leave\s+(?:the\s+)?queue|"
    r"(?:i\s+)?(?:don\s?t|do\s+not)\s+need\s+(?:a\s+)?(?:person|human|agent)(?:\s+any\s*more)?|talk\s+to\s+the\s+bot)"
    r"(?:\s+(?:please|now|thanks|thank\s+you))*"
)
# Punctuation, the apostrophe among it ("don't" is matched as "don t"), becomes a space.
_PUNCTUATION = re.compile(r"[\s,.!?;:~，。！？；：、…～\"'“”‘’()（）]+")


def asks_to_leave_handoff(text: Optional[str]) -> bool:
    """The whole message asks to stop waiting for, or talking to, a person."""
    if pii.asks_to_leave(text):
        return True
    spaced = _PUNCTUATION.sub(" ", (text or "").strip().lower()).strip()
    return bool(_BACK_TO_BOT_ZH.fullmatch(spaced.replace(" ", "")) or _BACK_TO_BOT_EN.fullmatch(spaced))
