"""Staff roles and what each may use: the one table the guard reads.

    agent     answers citizens: the FAQ lookup, the tickets, live hand-overs
    reviewer  improves the assistant: the review inbox, the figures
    admin     everything, and the staff accounts

A route's blueprint names the capability it needs (routes.py); a login
without it gets 403 `forbidden`. The account `make run` creates from
STAFF_USER / STAFF_PASSWORD is an admin; `python -m bot.web add-staff
--role` sets any other.
"""
from __future__ import annotations

from typing import Dict, FrozenSet

AGENT, REVIEWER, ADMIN = "agent", "reviewer", "admin"
ROLES = (AGENT, REVIEWER, ADMIN)
DEFAULT_ROLE = AGENT

FAQ_LOOKUP, HANDOFF, REVIEW, ANALYTICS, ACCOUNTS = "faq_lookup", "handoff", "review", "analytics", "accounts"
CAPABILITIES: Dict[str, FrozenSet[str]] = {
    FAQ_LOOKUP: frozenset({AGENT, ADMIN}),
    HANDOFF: frozenset({AGENT, ADMIN}),
    REVIEW: frozenset({REVIEWER, ADMIN}),
    ANALYTICS: frozenset({REVIEWER, ADMIN}),
    ACCOUNTS: frozenset({ADMIN}),
}


def may(role: str, capability: str) -> bool:
    return role in CAPABILITIES[capability]


def capabilities_of(role: str) -> list:
    """What the pages may show this role (the staff page hides the rest)."""
    return sorted(c for c, roles in CAPABILITIES.items() if role in roles)
