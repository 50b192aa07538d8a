"""A known set of conversations as Rasa's tracker store keeps them (the `events` table, redacted
text), and the ratings given in them, with the figures they must give, counted by hand.

Local days are China Standard Time (UTC+8). The period is DAY1..DAY2 (2026-03-10 and -11):

    A  web     DAY1 10:00  faq/reissue_fee (0.9 x 0.95, answered, rated up), thanks       rating 5
    B  wechat  DAY1 11:00  out of scope; faq/reissue_fee "补卡  要钱吗？" (0.7 x 0.8 = 0.56: low confidence,
                            rated down)
    F  web     DAY1 12:00  a session started, nothing said (not a conversation of the figures)
    C  web     DAY2 09:00  asks for a person (hand-over at +2 s, claimed at +62 s: a 60 s wait),
                            then a message held while staff has it, a staff message                rating 3
    D  web     DAY2 01:30 local (DAY1 17:30 UTC)  "asdfgh" and "asdfgh!" fall back (the first
                            rated down), then asks for a person (never claimed)                       rating 1
    E  web     DAY3        A's second session: one FAQ (outside the period)                      rating 4 (DAY3)

Conversations 4 (A B C D), messages 4+4+5+6 = 19, hand-offs 2 (C D): contained 0.5; turns NLU saw
2+2+1+3 = 8, fallbacks 2: fallback rate 0.25; median wait 60 s (C only); top topics human_handoff 2,
reissue_fee 2 (thanks is small talk); unanswered "asdfgh" x2 (latest "asdfgh!"), the pension question
x1; CSAT 3 ratings, average 3.0; feedback up 1 down 2 (reissue_fee 1/1, nlu_fallback 0/1).
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.core.message_ids import stamp
from bot.core.opaque import conversation_key, hasher

SECRET = "test-web-secret-key"  # tests/support/web.py's WEB_SECRET_KEY: the web process keys alike
OPAQUE = hasher(SECRET)
MODEL = "20260301-000000-test-model"
DAY1, DAY2, DAY3 = dt.date(2026, 3, 10), dt.date(2026, 3, 11), dt.date(2026, 3, 12)

RASA_EVENTS_DDL = """CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


def utc(day: dt.date, hour: int, minute: int = 0, second: float = 0) -> float:
    """A timestamp at local (UTC+8) time `hour:minute:second` of `day`."""
    local = dt.datetime.combine(day, dt.time(hour, minute)) + dt.timedelta(seconds=second)
    return (local - dt.timedelta(hours=8)).replace(tzinfo=dt.timezone.utc).timestamp()


def key(sender: str) -> str:
    return conversation_key(OPAQUE, sender)


class Conversation:
    def __init__(self, events: List[tuple], sender: str, channel: str, start: float) -> None:
        self.events, self.sender, self.channel, self.t = events, sender, channel, start
        self.answers: List[str] = []  # message ids of the bot messages, in order

    def _add(self, type_name: str, data: Dict[str, Any], seconds: float = 1.0) -> float:
        self.t += seconds
        data = {"event": type_name, "timestamp": self.t, **data}
        data.setdefault("metadata", {"model_id": MODEL})
        self.events.append((self.sender, type_name, self.t, data))
        return self.t

    def session(self) -> "Conversation":
        self._add("action", {"name": "action_session_start"})
        self._add("session_started", {})
        self._add("action", {"name": "action_listen"})
        return self

    def user(self, text: str, intent: Optional[str], confidence: float = 0.9, faq: Optional[str] = None,
             faq_confidence: float = 0.9, ranking: Optional[List[tuple]] = None) -> "Conversation":
        parse: Dict[str, Any] = {"text": text, "entities": []}
        if intent is None:
            parse["intent"] = {}
        else:
            parse["intent"] = {"name": intent, "confidence": confidence}
            parse["intent_ranking"] = [{"name": n, "confidence": c} for n, c in (ranking or [(intent, confidence)])]
        if faq:
            parse["response_selector"] = {"all_retrieval_intents": ["faq"], "faq": {
                "response": {"intent_response_key": f"faq/{faq}", "confidence": faq_confidence,
                             "utter_action": f"utter_faq/{faq}"},
                "ranking": [{"intent_response_key": f"faq/{faq}", "confidence": faq_confidence}]}}
        self._add("user", {"text": text, "parse_data": parse, "input_channel": self.channel,
                           "metadata": {"model_id": MODEL}})
        return self

    def external(self, intent: str) -> "Conversation":
        self._add("user", {"text": f"EXTERNAL: {intent}", "parse_data": {"intent": {"name": intent, "confidence": 1.0}},
                           "input_channel": self.channel, "metadata": {"is_external": True, "model_id": MODEL}},
                  seconds=60)
        return self

    def bot(self, text: str, custom: Optional[dict] = None, staff: bool = False, buttons=None) -> "Conversation":
        self._add("action", {"name": "utter_x"})
        metadata = {"model_id": MODEL, **({"from": "staff", "staff": "王**"} if staff else {})}
        at = self._add("bot", {"text": text, "data": {"buttons": buttons, "custom": custom}, "metadata": metadata})
        self.answers.append(stamp(at, "bot", {})["id"])
        return self


def known_events() -> Dict[str, Conversation]:
    events: List[tuple] = []
    convs = {}
    a = convs["a"] = Conversation(events, "sender-a", "rest", utc(DAY1, 10)).session()
    a.user("补卡要钱吗", "faq", 0.9, faq="reissue_fee", faq_confidence=0.95).bot("由各地规定……")
    a.user("谢谢", "thank", 0.99).bot("不客气")
    b = convs["b"] = Conversation(events, "sender-b", "wechat", utc(DAY1, 11)).session()
    b.user("养老金什么时候发", "out_of_scope", 0.8).bot("不在服务范围")
    b.user("补卡  要钱吗？", "faq", 0.7, faq="reissue_fee", faq_confidence=0.8).bot("由各地规定……")
    convs["f"] = Conversation(events, "sender-f", "rest", utc(DAY1, 12)).session()
    d = convs["d"] = Conversation(events, "sender-d", "rest", utc(DAY2, 1, 30)).session()
    fallback = [("nlu_fallback", 0.55), ("faq", 0.4), ("greet", 0.1)]
    d.user("asdfgh", "nlu_fallback", 0.55, faq="activation_how", faq_confidence=0.5, ranking=fallback)
    d.bot("您是想问：", buttons=[{"title": "怎么激活", "payload": "/faq"}])
    d.user("asdfgh!", "nlu_fallback", 0.55, faq="activation_how", faq_confidence=0.5, ranking=fallback)
    d.bot("您是想问：", buttons=[{"title": "怎么激活", "payload": "/faq"}])
    d.user("我要人工", "human_handoff", 0.97).bot("正在为您转接，前面还有 0 人",
                                              custom={"handoff": {"status": "waiting", "id": 2, "mode": "live"}})
    c = convs["c"] = Conversation(events, "sender-c", "rest", utc(DAY2, 9)).session()
    c.user("我要找人工", "human_handoff", 0.95)
    c.bot("正在为您转接", custom={"handoff": {"status": "waiting", "id": 1, "mode": "live", "position": 1}})
    c.external("EXTERNAL_handoff_claimed").bot("工作人员 王** 已接入",
                                              custom={"handoff": {"status": "claimed", "staff": "王**"}})
    c.user("你好在吗", None).bot("在的，请讲", staff=True)
    e = convs["e"] = Conversation(events, "sender-a", "rest", utc(DAY3, 15)).session()
    e.user("补卡要带什么材料", "faq", 0.95, faq="reissue_documents", faq_confidence=0.99).bot("身份证……")
    convs["_events"] = events  # type: ignore[assignment]
    return convs


def write_tracker(path: Path, events: List[tuple]) -> None:
    """Rasa's events table in an SQLite file, rows in `events` order (appends if it exists)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute(RASA_EVENTS_DDL.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(sender, type_name, t, ((data.get("parse_data") or {}).get("intent") or {}).get("name"),
              data.get("name"), json.dumps(data, ensure_ascii=False)) for sender, type_name, t, data in events])
        connection.commit()
    finally:
        connection.close()


def at(timestamp: float) -> str:
    """A naive UTC datetime (as the staff tables keep them) as SQL text."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def ratings(convs: Dict[str, Conversation]) -> List[tuple]:
    """(sql, params) inserting the feedback and ratings of the known set into a staff database."""
    feedback = "INSERT INTO chat_message_feedback (conversation, message_id, rating, created_at) " \
               "VALUES (:c, :m, :r, :at)"
    rating = "INSERT INTO chat_conversation_ratings (conversation, score, comment, created_at) " \
             "VALUES (:c, :s, NULL, :at)"
    a, b, d, e = convs["a"], convs["b"], convs["d"], convs["e"]
    return [
        (feedback, {"c": key("sender-a"), "m": a.answers[0], "r": "up", "at": at(utc(DAY1, 10, 5))}),
        (feedback, {"c": key("sender-b"), "m": b.answers[1], "r": "down", "at": at(utc(DAY1, 11, 5))}),
        (feedback, {"c": key("sender-d"), "m": d.answers[0], "r": "down", "at": at(utc(DAY2, 1, 35))}),
        (feedback, {"c": key("sender-a"), "m": e.answers[0], "r": "up", "at": at(utc(DAY3, 15, 5))}),
        (rating, {"c": key("sender-a"), "s": 5, "at": at(utc(DAY1, 10, 10))}),
        (rating, {"c": key("sender-c"), "s": 3, "at": at(utc(DAY2, 9, 30))}),
        (rating, {"c": key("sender-d"), "s": 1, "at": at(utc(DAY2, 1, 40))}),
        (rating, {"c": key("sender-e"), "s": 4, "at": at(utc(DAY3, 16))}),
    ]


# The figures of DAY1..DAY2, by hand (see the module's text).
EXPECTED = {
    "from": "2026-03-10", "to": "2026-03-11", "timezone": "Asia/Shanghai",
    "conversations": 4, "messages": 19, "contained_rate": 0.5, "fallback_rate": 0.25, "handoffs": 2,
    "median_handoff_wait_s": 60.0,
    "csat": {"count": 3, "average": 3.0, "distribution": {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1}},
    "feedback": {"up": 1, "down": 2},
    "top_topics": [{"key": "human_handoff", "count": 2}, {"key": "reissue_fee", "count": 2}],
    "turns": 8,
    "outcomes": {"answered": 4, "low_confidence": 1, "fallback": 2, "out_of_scope": 1, "held": 1},
    "days": [
        {"date": "2026-03-10", "conversations": 2, "messages": 8, "handoffs": 0, "turns": 4, "fallbacks": 0,
         "fallback_rate": 0.0, "contained_rate": 1.0},
        {"date": "2026-03-11", "conversations": 2, "messages": 11, "handoffs": 2, "turns": 4, "fallbacks": 2,
         "fallback_rate": 0.5, "contained_rate": 0.0},
    ],
    "channels": [
        {"channel": "web", "conversations": 3, "messages": 15, "handoffs": 2, "turns": 6, "fallbacks": 2,
         "fallback_rate": 0.3333, "contained_rate": 0.3333},
        {"channel": "wechat", "conversations": 1, "messages": 4, "handoffs": 0, "turns": 2, "fallbacks": 0,
         "fallback_rate": 0.0, "contained_rate": 1.0},
    ],
    "feedback_by_topic": [{"key": "reissue_fee", "up": 1, "down": 1}, {"key": "nlu_fallback", "up": 0, "down": 1}],
    "handoff_waits_claimed": 1,
}
EXPECTED_UNANSWERED = [("asdfgh!", "en", 2, "fallback"), ("养老金什么时候发", "zh", 1, "out_of_scope")]
