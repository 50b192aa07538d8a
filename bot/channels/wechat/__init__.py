"""WeChat Official Account channel; credentials.yml: `bot.channels.wechat.WeChatInput`."""
from bot.channels.wechat.channel import WeChatInput

__all__ = ["WeChatInput"]
