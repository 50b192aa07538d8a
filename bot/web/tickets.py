"""The open human-handoff tickets, from the card backend (GET /v1/handoff-tickets).

The backend already masks the holder and keeps personal data out of the
summary; this module only picks the fields the staff page shows.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List

import httpx

log = logging.getLogger("bot.web.tickets")

FIELDS = ("ticket_number", "status", "created_at", "channel", "language", "summary")


class TicketsUnavailable(Exception):
    """The backend could not be reached or refused the request."""


class TicketSource:
    def __init__(self, backend_url: str, token: str, timeout: float) -> None:
        self.client = httpx.AsyncClient(base_url=backend_url, timeout=timeout,
                                        headers={"Authorization": f"Bearer {token}"})

    async def open_tickets(self, limit: int = 50) -> List[Dict[str, Any]]:
        try:
            response = await self.client.get("/v1/handoff-tickets", params={"status": "open", "limit": limit})
        except httpx.HTTPError as error:
            log.warning("backend unreachable for tickets: %s", type(error).__name__)
            raise TicketsUnavailable(type(error).__name__) from None
        if response.status_code != 200:
            log.warning("backend answered %s for tickets", response.status_code)
            raise TicketsUnavailable(f"HTTP {response.status_code}")
        try:
            tickets = response.json()["tickets"]
        except (ValueError, KeyError, TypeError):
            raise TicketsUnavailable("unexpected answer") from None
        return [
            {**{name: t.get(name) for name in FIELDS}, "holder": t.get("holder")}
            for t in tickets if isinstance(t, dict)
        ]

    async def close(self) -> None:
        await self.client.aclose()
