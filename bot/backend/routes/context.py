"""What every route of the backend works with."""
from __future__ import annotations

from dataclasses import dataclass

from bot.backend.config import BackendConfig
from bot.backend.sms import SmsGateway
from bot.http.blocking import DatabaseWork


@dataclass(frozen=True)
class Backend:
    cfg: BackendConfig
    work: DatabaseWork  # the database, off the event loop; a DomainError still commits
    gateway: SmsGateway
