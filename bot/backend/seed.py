"""Demo data: card holders whose cards are in every status.

`python -m bot.backend seed` loads it into an empty database (and does
nothing if holders exist); `--force` first wipes holders, cards,
applications, tickets, verifications, idempotency records and the outbox
(never the audit log). Every ID number passes the GB 11643 checksum; the
phone numbers are fictional. In development mode the verification code
"sent" to the phone appears in `python -m bot.backend outbox`.

| name | ID number | phone on file | cards | what to try |
|---|---|---|---|---|
| 张三 | `11010519491231002X` | 13800000001 | `****0001` active (social security and bank functions on) | card status; report the card lost |
| 李四 | `440524188001010014` | 13800000002 | `****0002` cancelled, replaced by `****0102` issued_inactive; replacement application collected (4-step timeline) | activate the reissued card; follow the application |
| 王小明 | `360426199101010071` | 13800000003 | `****0003` reported_lost; replacement `****0103` in_production; application in_production | follow an application in production |
| 赵丽 | `310104198805120027` | 13800000004 | `****0004` ready_for_pickup (first card) | where to pick up a card |
| 陈静 | `440305199203150043` | 13800000005 | `****0005` issued_inactive (first card) | activate a first card |
| 刘洋 | `510107198511110030` | 13800000006 | `****0006` active (bank function not yet on); replacement application rejected | a rejected application |

Any other name + ID number pair gets "holder not found". Five wrong codes
lock an identity for 30 minutes.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.backend import models as m
from bot.backend.service import audit, hash_id_number, new_public_id, normalize_name, utcnow
from bot.privacy.pii import mask_id_number, mask_phone, normalize_id_number


@dataclass(frozen=True)
class DemoHolder:
    name: str
    id_number: str
    phone: str


DEMO_HOLDERS = (
    DemoHolder("张三", "11010519491231002X", "13800000001"),
    DemoHolder("李四", "440524188001010014", "13800000002"),
    DemoHolder("王小明", "360426199101010071", "13800000003"),
    DemoHolder("赵丽", "310104198805120027", "13800000004"),
    DemoHolder("陈静", "440305199203150043", "13800000005"),
    DemoHolder("刘洋", "510107198511110030", "13800000006"),
)

# Demo places: deliberately fictional, so no one mistakes them for real offices.
GUANGZHOU = "示例市第一社保卡服务中心（演示数据） / Demo City Social Security Card Service Centre No. 1 (demo data)"
NANCHANG = "示例市第二社保卡服务网点（演示数据） / Demo City Social Security Card Service Point No. 2 (demo data)"
SHANGHAI = "示例市第三社保卡服务网点（演示数据） / Demo City Social Security Card Service Point No. 3 (demo data)"


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def add_holder(session: Session, id_hash_key: str, name: str, id_number: str, phone: str,
               now: Optional[dt.datetime] = None) -> m.Holder:
    """A holder (the ID number validated, stored only hashed and masked)."""
    number = normalize_id_number(id_number)
    holder = m.Holder(
        name=normalize_name(name),
        id_number_hash=hash_id_number(id_hash_key, number),
        id_number_masked=mask_id_number(number),
        phone=phone,
        phone_masked=mask_phone(phone),
        wrong_codes=0,
        created_at=now or utcnow(),
    )
    session.add(holder)
    session.flush()
    return holder


def add_card(session: Session, holder: m.Holder, card_number: str, status: str, *,
             social_security_active: bool = False, financial_active: bool = False,
             issued_on: Optional[dt.date] = None, expires_on: Optional[dt.date] = None,
             issuing_bank: str = "中国工商银行 / ICBC", pickup_location: Optional[str] = None,
             replaces: Optional[m.Card] = None, now: Optional[dt.datetime] = None) -> m.Card:
    now = now or utcnow()
    card = m.Card(
        public_id=new_public_id("crd"), holder_id=holder.id, card_number=card_number, status=status,
        social_security_active=social_security_active, financial_active=financial_active,
        issued_on=issued_on, expires_on=expires_on, issuing_bank=issuing_bank, pickup_location=pickup_location,
        replaces_card_id=replaces.id if replaces else None, created_at=now, updated_at=now,
    )
    session.add(card)
    session.flush()
    return card


def add_application(session: Session, holder: m.Holder, old_card: m.Card, new_card: Optional[m.Card],
                    timeline: Sequence[Tuple[str, str, str]], pickup_location: Optional[str] = None
                    ) -> m.ReplacementApplication:
    """timeline: (status, ISO time, note), oldest first; the last is the current status."""
    application = m.ReplacementApplication(
        public_id=new_public_id("app"), holder_id=holder.id, old_card_id=old_card.id,
        new_card_id=new_card.id if new_card else None, status=timeline[-1][0],
        submitted_at=_at(timeline[0][1]), pickup_location=pickup_location, updated_at=_at(timeline[-1][1]),
    )
    session.add(application)
    session.flush()
    for status, at, note in timeline:
        session.add(m.ApplicationEvent(application_id=application.id, status=status, at=_at(at), note=note))
    return application


def _seed(session: Session, key: str, now: dt.datetime) -> None:
    zhang, li, wang, zhao, chen, liu = [add_holder(session, key, h.name, h.id_number, h.phone, now) for h in DEMO_HOLDERS]

    add_card(session, zhang, "A10000001", "active", social_security_active=True, financial_active=True,
             issued_on=_day("2019-03-15"), expires_on=_day("2029-03-15"), issuing_bank="中国工商银行 / ICBC", now=now)

    li_old = add_card(session, li, "B20000002", "cancelled", social_security_active=False, financial_active=False,
                      issued_on=_day("2016-06-01"), expires_on=_day("2026-06-01"),
                      issuing_bank="中国建设银行 / China Construction Bank", now=now)
    li_new = add_card(session, li, "B20000102", "issued_inactive", issued_on=_day("2026-11-10"),
                      expires_on=_day("2036-11-10"), issuing_bank="中国建设银行 / China Construction Bank",
                      pickup_location=GUANGZHOU, replaces=li_old, now=now)
    add_application(session, li, li_old, li_new, [
        ("submitted", "2026-10-20T02:15:00", "补办申请已受理 / Replacement application received"),
        ("in_production", "2026-10-22T08:00:00", "新卡制作中 / New card in production"),
        ("ready_for_pickup", "2026-11-05T03:30:00", "新卡可领取 / New card ready for pickup"),
        ("collected", "2026-11-10T06:45:00", "已领取，旧卡已注销 / Collected; the old card is cancelled"),
    ], pickup_location=GUANGZHOU)

    wang_old = add_card(session, wang, "C30000003", "reported_lost", social_security_active=True,
                        financial_active=True, issued_on=_day("2018-09-01"), expires_on=_day("2028-09-01"),
                        issuing_bank="中国银行 / Bank of China", now=now)
    wang_new = add_card(session, wang, "C30000103", "in_production", issuing_bank="中国银行 / Bank of China",
                        pickup_location=NANCHANG, replaces=wang_old, now=now)
    add_application(session, wang, wang_old, wang_new, [
        ("submitted", "2026-11-18T01:20:00", "补办申请已受理 / Replacement application received"),
        ("in_production", "2026-11-20T09:00:00", "新卡制作中，约 10 个工作日 / In production, about 10 working days"),
    ], pickup_location=NANCHANG)

    add_card(session, zhao, "D40000004", "ready_for_pickup", issuing_bank="交通银行 / Bank of Communications",
             pickup_location=SHANGHAI, now=now)

    add_card(session, chen, "E50000005", "issued_inactive", issued_on=_day("2026-11-01"),
             expires_on=_day("2036-11-01"), issuing_bank="招商银行 / China Merchants Bank", now=now)

    liu_card = add_card(session, liu, "F60000006", "active", social_security_active=True, financial_active=False,
                        issued_on=_day("2021-05-20"), expires_on=_day("2031-05-20"),
                        issuing_bank="中国农业银行 / Agricultural Bank of China", now=now)
    add_application(session, liu, liu_card, None, [
        ("submitted", "2026-11-01T03:00:00", "换卡申请已受理 / Application received"),
        ("rejected", "2026-11-03T07:30:00",
         "照片不符合要求，请重新提交 / The photo does not meet the requirements; please apply again"),
    ])


WIPE_ORDER = (
    m.ApplicationEvent, m.ReplacementApplication, m.LossReport, m.VerificationToken, m.Verification,
    m.HandoffTicket, m.TicketDayCounter, m.IdempotencyRecord, m.SmsMessage,
)


def seed(session: Session, id_hash_key: str, force: bool = False) -> bool:
    """Loads the demo data; True if it did. Without `force`, only into a
    database with no holders. The caller commits."""
    now = utcnow()
    if session.execute(select(func.count()).select_from(m.Holder)).scalar_one():
        if not force:
            return False
        for model in WIPE_ORDER:
            session.execute(delete(model))
        session.execute(update(m.Card).values(replaces_card_id=None))
        session.execute(delete(m.Card))
        session.execute(delete(m.Holder))
    _seed(session, id_hash_key, now)
    audit(session, "demo_data_seeded", "cli", "-", now, holders=len(DEMO_HOLDERS), forced=force)
    return True


def demo_holders() -> List[DemoHolder]:
    return list(DEMO_HOLDERS)
