"""The expiry sweep: a live hand-over nobody claimed within HANDOFF_WAIT_MINUTES
becomes a call-back (issue 12), and the citizen is told so and asked whether
staff may call back.

A background task of each web process, every HANDOFF_SWEEP_SECONDS: the card
backend switches the waiting live tickets older than that to mode callback,
atomically, and returns each to exactly one caller (several web processes
sweep at once in the cluster); for each, Rasa is told (EXTERNAL_handoff_timeout,
on the conversation's channel: WeChat sends the words itself, the web's are
in the tracker) and the conversation's version is bumped (the widget's long
poll answers). An announcement Rasa could not take is tried again at the next
sweeps, a few times.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List

from bot.handoff.client import HandoffClient, HandoffUnavailable
from bot.web.handoff_state import HandoffState, output_channel
from bot.web.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger("bot.web.handoff_sweep")

TIMEOUT_INTENT = "EXTERNAL_handoff_timeout"
ANNOUNCE_ATTEMPTS = 4


class HandoffSweep:
    def __init__(self, client: HandoffClient, rasa: RasaClient, handoffs: HandoffState, wait_minutes: int) -> None:
        self.client, self.rasa, self.handoffs = client, rasa, handoffs
        self.wait_seconds = wait_minutes * 60
        self.pending: List[Dict[str, Any]] = []  # expired ones not announced yet, with their attempts
        self._backend_down = False

    async def once(self) -> int:
        """One sweep: the number of conversations told that nobody came."""
        try:
            expired = await self.client.expire(self.wait_seconds)
        except HandoffUnavailable:
            if not self._backend_down:
                log.warning("backend unavailable for the hand-over sweep")
            self._backend_down = True
            expired = []
        else:
            self._backend_down = False
        if expired:
            log.info("%d hand-overs waited too long: offered a call back", len(expired))
        todo, self.pending = self.pending + [{**e, "attempts": 0} for e in expired], []
        told = 0
        for item in todo:
            try:
                await self.rasa.trigger_intent(item["conversation"], TIMEOUT_INTENT, {},
                                               output_channel(item.get("channel")))
                told += 1
            except RasaUnavailable:
                item["attempts"] += 1
                if item["attempts"] < ANNOUNCE_ATTEMPTS:
                    self.pending.append(item)
                else:
                    log.error("a hand-over's time-out could not be told to the citizen")
            finally:
                await self.handoffs.bump(item["conversation"])
        return told

    async def run(self, every_seconds: float) -> None:
        """Sweeps until cancelled (the web process stopping)."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # never let the sweep die
                log.error("hand-over sweep failed: %s", type(error).__name__)
