"""What a turn costs as a conversation grows (issue 14): one citizen, one
conversation, over the REST channel.

- faq: 100 FAQ questions in one conversation (600 events); the median turn of
  81-100 against that of 1-20.
- unclear: 100 messages the bot cannot place in one conversation (a "did you
  mean", then a "sorry" that reverts both messages, and again), likewise.
- form: the turn that gives the resident ID number (the form's validation
  action calls the card backend) in a new conversation, and in one with 100
  earlier events (FAQ turns) before the form.

For each turn the Rasa server's CPU time is read too (/proc, every thread of
the process: TensorFlow's included), reported as a mean over the turns
compared (the kernel counts it in 10 ms ticks): on a machine shared with other
work it moves far less than the wall clock. Several products are measured turn by turn
in turn, so that whatever else the machine does falls on all of them alike.
"""
from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from typing import Dict, List, Sequence

import httpx

from bench.load import FAQ_QUESTIONS, FORM_TURNS
from bench.products import REST_HEADERS, Product

FAQ_TURNS = 100
UNCLEAR = "补卡"  # the model cannot place it (tests/support/product.py UNCLEAR): "did you mean"
EARLIER_EVENTS = 100  # before the form, in the long conversations
EVENTS_PER_FAQ_TURN = 6  # user message, language slot, utter_faq, its message, action_listen, ...
FORM_REPETITIONS = 15


@dataclass
class Target:
    """A product measured: its REST channel and its Rasa server's process."""

    name: str
    url: str
    pid: int

    @classmethod
    def of(cls, product: Product) -> "Target":
        pid = next(p["pid"] for p in product.processes() if p["name"].startswith("rasa"))
        return cls(product.name, f"{product.rasa_url}/webhooks/rest/webhook", pid)

    def cpu_seconds(self) -> float:
        """User and system time of the whole process so far (/proc/<pid>/stat)."""
        fields = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Turn:
    ms: float
    cpu_ms: float


def _turn(client: httpx.Client, target: Target, sender: str, message: str) -> Turn:
    cpu, started = target.cpu_seconds(), time.perf_counter()
    reply = client.post(target.url, json={"sender": sender, "message": message})
    elapsed = time.perf_counter() - started
    reply.raise_for_status()
    if not reply.json():
        raise RuntimeError(f"{target.name}: no reply to {message!r}")
    return Turn(elapsed * 1000, (target.cpu_seconds() - cpu) * 1000)


def conversation_turns(targets: Sequence[Target], messages: Sequence[str], turns: int = FAQ_TURNS,
                       kind: str = "faq") -> Dict[str, List[Turn]]:
    """Every turn of one long conversation of `messages` (in turn) per target, interleaved."""
    measured: Dict[str, List[Turn]] = {t.name: [] for t in targets}
    run = time.monotonic_ns()
    with httpx.Client(timeout=60, headers=REST_HEADERS) as client:
        for turn in range(turns):
            for target in targets:
                message = messages[turn % len(messages)]
                measured[target.name].append(_turn(client, target, f"growth-{kind}-{run}", message))
    return measured


def form_turns(targets: Sequence[Target], repetitions: int = FORM_REPETITIONS) -> Dict[str, Dict[str, List[Turn]]]:
    """The ID-number turn, in a new conversation ("new") and after
    EARLIER_EVENTS events of FAQ turns ("late"), per target, interleaved."""
    measured = {t.name: {"new": [], "late": []} for t in targets}
    run = time.monotonic_ns()
    with httpx.Client(timeout=60, headers=REST_HEADERS) as client:
        for repetition in range(repetitions):
            for target in targets:
                for where in ("new", "late"):
                    sender = f"growth-form-{where}-{run}-{repetition}"
                    if where == "late":
                        for turn in range(EARLIER_EVENTS // EVENTS_PER_FAQ_TURN + 1):
                            _turn(client, target, sender, FAQ_QUESTIONS[turn % len(FAQ_QUESTIONS)])
                    for message, timed in FORM_TURNS:
                        turn = _turn(client, target, sender, message)
                        if timed:
                            measured[target.name][where].append(turn)
    return measured


def _median_ms(turns: List[Turn]) -> float:
    return round(statistics.median(t.ms for t in turns), 1)


def _mean_cpu_ms(turns: List[Turn]) -> float:
    return round(statistics.fmean(t.cpu_ms for t in turns), 1)


def summary(conversations: Dict[str, Dict[str, List[Turn]]],
            form: Dict[str, Dict[str, List[Turn]]]) -> List[dict]:
    """Per target and kind: the early and late median turn, the Rasa server's
    mean CPU time per turn, and their ratios."""
    rows = []
    for kind, measured in conversations.items():
        for name, turns in measured.items():
            early, late = turns[:20], turns[-20:]
            rows.append(_row(name, kind, f"turns 1-20 vs {len(turns) - 19}-{len(turns)}", early, late))
    for name, turns in form.items():
        rows.append(_row(name, "form", f"new conversation vs after {EARLIER_EVENTS} events",
                         turns["new"], turns["late"]))
    return rows


def _row(name: str, kind: str, compared: str, early: List[Turn], late: List[Turn]) -> dict:
    row = {"system": name, "kind": kind, "compared": compared,
           "early_ms": _median_ms(early), "late_ms": _median_ms(late),
           "early_cpu_ms": _mean_cpu_ms(early), "late_cpu_ms": _mean_cpu_ms(late)}
    row["ratio"] = round(row["late_ms"] / row["early_ms"], 2)
    row["cpu_ratio"] = round(row["late_cpu_ms"] / row["early_cpu_ms"], 2) if row["early_cpu_ms"] else None
    return row


def run(products: Sequence[Product], turns: int = FAQ_TURNS, repetitions: int = FORM_REPETITIONS) -> List[dict]:
    targets = [Target.of(p) for p in products]
    conversations = {"faq": conversation_turns(targets, FAQ_QUESTIONS, turns),
                     "unclear": conversation_turns(targets, [UNCLEAR], turns, "unclear")}
    rows = summary(conversations, form_turns(targets, repetitions))
    for r in rows:
        print(f"  {r['system']:<22} {r['kind']:<7} {r['compared']}: {r['early_ms']} -> {r['late_ms']} ms "
              f"({r['ratio']}x), Rasa CPU {r['early_cpu_ms']} -> {r['late_cpu_ms']} ms", flush=True)
    return rows
