"""Sending the verification code to the phone on file.

`SmsGateway` is the interface. In development mode `OutboxGateway` writes
each message, code and all, to the `sms_outbox` table in the same
transaction as the verification it belongs to: that outbox is how a
developer or a demo user reads the code (`GET /dev/outbox`,
`python -m bot.backend outbox`). In production mode nothing may hold a code
in clear: `MaskedRecordGateway` records only that a message went to a masked
phone, its code starred (this project has no SMS provider; a provider's
gateway class implementing `send` plugs in at `gateway_for` and hands the
clear text to the provider only).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import List, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.backend.models import SmsMessage
from bot.privacy.pii import mask_phone


class SmsGateway(Protocol):
    def send(self, session: Session, phone: str, text: str, now: dt.datetime) -> None:
        """Queue or send `text` to `phone` as part of the caller's transaction."""


class OutboxGateway:
    def send(self, session: Session, phone: str, text: str, now: dt.datetime) -> None:
        session.add(SmsMessage(phone=phone, phone_masked=mask_phone(phone), text=text, created_at=now))


class MaskedRecordGateway:
    """Production: a record of the sending with the phone masked and every digit of the text starred."""

    def send(self, session: Session, phone: str, text: str, now: dt.datetime) -> None:
        masked = mask_phone(phone)
        session.add(SmsMessage(phone=masked, phone_masked=masked, text=re.sub(r"\d", "*", text), created_at=now))


def gateway_for(mode: str) -> SmsGateway:
    return OutboxGateway() if mode == "development" else MaskedRecordGateway()


def latest_messages(session: Session, limit: int = 20) -> List[SmsMessage]:
    """The newest messages first (for the development outbox only)."""
    query = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    return list(session.execute(query).scalars())


def verification_text(code: str, minutes: int) -> str:
    return (
        f"【社保卡服务】您的验证码是 {code}，{minutes}分钟内有效，请勿告诉他人。"
        f" Your social security card verification code is {code}, valid for {minutes} minutes."
    )
