"""Live help from a person (issue 12): what every process agrees on about a
hand-over. The state of each hand-over lives in the card backend
(bot/backend, /v1/handoffs); the web process (bot/web) and the WeChat channel
(bot/channels/wechat) route a held conversation's messages to staff; the
action server (actions/handoff.py) opens hand-overs and speaks about them.

    hours.py    HANDOFF_HOURS: when staff answer live (Asia/Shanghai)
    leave.py    a message that asks to leave the queue or the person
    client.py   the backend's hand-over API, for the web process and WeChat
"""
