"""The product as `make cluster` runs it (2 Rasa and 2 action server replicas
behind nginx, tracker store and backend on PostgreSQL, locks in Redis), on
free ports, with PostgreSQL and Redis reached through TCP proxies the tests
can cut. And the conversation every load test runs."""
from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from bot.core import knowledge_base
from tests.support.product import RunningProduct, stored_user_texts
from tests.support.tcp_proxy import TcpProxy

ASK_NAME = "为了核实您的身份，请告诉我您的姓名"
ASK_ID = "请输入您的18位居民身份证号码。"
CANCELLED = "好的，已取消"
# FAQ topics asked in the middle of the form (none of them sounds like a task).
FAQ_TOPICS = ["reissue_needs_activation", "why_reactivate", "card_number_change", "reissue_documents",
              "after_activation_use", "abnormal_use", "legal_basis"]


@dataclass
class Turn:
    text: str       # what the user sends
    stored: str     # what the tracker store keeps of it (a name typed at the prompt is masked)
    expect: List[str]  # texts the replies must contain


def form_conversation() -> List[Turn]:
    """10 turns: start a status check, give a name, ask 7 FAQ questions (each
    answered, then the form asks for the ID number again: its state is
    intact), cancel."""
    topics = knowledge_base.load()
    turns = [Turn("帮我查一下社保卡状态", "帮我查一下社保卡状态", [ASK_NAME]), Turn("张三", "张*", [ASK_ID])]
    for key in FAQ_TOPICS:
        entry = topics[key].entry("zh")
        turns.append(Turn(entry.question, entry.question, [entry.answer, ASK_ID]))
    turns.append(Turn("算了", "算了", [CANCELLED]))
    return turns


@dataclass
class Cluster:
    product: RunningProduct
    tracker_url: str  # direct, not through the proxy
    postgres: TcpProxy
    redis: TcpProxy

    def processes(self) -> List[Dict]:
        return json.loads((Path(self.product.env["RUN_DIR"]) / "processes.json").read_text())

    def pid(self, name: str) -> int:
        return next(p["pid"] for p in self.processes() if p["name"] == name)

    def kill(self, name: str) -> int:
        pid = self.pid(name)
        os.killpg(pid, signal.SIGKILL)
        return pid

    @contextlib.contextmanager
    def stopped(self, name: str):
        """The process `name` stopped (SIGSTOP) for the block: alive, its connections
        open, answering nothing, as a process stalled by its host."""
        pid = self.pid(name)
        os.killpg(pid, signal.SIGSTOP)
        try:
            yield pid
        finally:
            os.killpg(pid, signal.SIGCONT)

    def stored_user_texts(self, sender: str) -> List[str]:
        return stored_user_texts(self.tracker_url, sender)
