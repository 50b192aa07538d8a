"""Staff hours (HANDOFF_HOURS, bot/handoff/hours.py) in Asia/Shanghai whatever
the server's clock, how they are told to a citizen (actions/handoff.py), and
HANDOFF_WAIT_MINUTES."""
import datetime as dt

import pytest

from actions.handoff import staff_hours_text
from bot.handoff import hours

UTC = dt.timezone.utc


def shanghai(year, month, day, hour, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=hours.SHANGHAI)


# 2026-12-07 is a Monday.
MONDAY, FRIDAY, SATURDAY, SUNDAY = 7, 11, 12, 13


def test_office_hours_are_shanghai_time_whatever_the_clock_of_the_caller():
    week = hours.parse("Mon-Fri 09:00-17:00")
    assert week.open_at(shanghai(2026, 12, MONDAY, 9, 0))
    assert week.open_at(shanghai(2026, 12, FRIDAY, 16, 59))
    assert not week.open_at(shanghai(2026, 12, FRIDAY, 17, 0))  # the end is not included
    assert not week.open_at(shanghai(2026, 12, MONDAY, 8, 59))
    assert not week.open_at(shanghai(2026, 12, SATURDAY, 10))
    # 01:30 UTC on Monday is 09:30 in Shanghai; 16:30 UTC on Monday is already Tuesday 00:30 there.
    assert week.open_at(dt.datetime(2026, 12, MONDAY, 1, 30, tzinfo=UTC))
    assert not week.open_at(dt.datetime(2026, 12, MONDAY, 16, 30, tzinfo=UTC))
    # Sunday 23:30 UTC is Monday 07:30 in Shanghai: closed; Monday 01:00 UTC: 09:00, open.
    assert not week.open_at(dt.datetime(2026, 12, SUNDAY, 23, 30, tzinfo=UTC))
    assert week.open_at(dt.datetime(2026, 12, MONDAY, 1, 0, tzinfo=UTC))


def test_a_lunch_break_and_a_saturday_morning():
    week = hours.parse("Mon-Fri 09:00-12:00,13:30-17:00; Sat 09:00-12:00")
    assert week.open_at(shanghai(2026, 12, MONDAY, 11, 59))
    assert not week.open_at(shanghai(2026, 12, MONDAY, 12, 30))
    assert week.open_at(shanghai(2026, 12, MONDAY, 13, 30))
    assert week.open_at(shanghai(2026, 12, SATURDAY, 9, 15))
    assert not week.open_at(shanghai(2026, 12, SATURDAY, 13, 0))
    assert not week.open_at(shanghai(2026, 12, SUNDAY, 10, 0))
    assert week.groups() == [(0, 4, ((540, 720), (810, 1020))), (5, 5, ((540, 720),))]


def test_always_and_never():
    assert hours.parse("always").open_at(shanghai(2026, 12, SUNDAY, 3))
    assert not hours.parse("always").never
    never = hours.parse("never")
    assert never.never and not never.open_at(shanghai(2026, 12, MONDAY, 10))
    assert never.groups() == []
    assert hours.parse(" ALWAYS ").groups() == [(0, 6, ((0, 1440),))]


def test_spelling_is_forgiving_where_it_can_be():
    assert hours.parse("mon-fri 9:00-17:00").spans == hours.parse("Mon-Fri 09:00-17:00").spans
    assert hours.parse("Mon-Fri  09:00-12:00, 13:30-17:00 ;").spans == \
        hours.parse("Mon-Fri 09:00-12:00,13:30-17:00").spans
    assert hours.parse("Sat 00:00-24:00").open_at(shanghai(2026, 12, SATURDAY, 23, 59))


@pytest.mark.parametrize("bad", [
    "", "weekdays 09:00-17:00", "Mon-Fri", "Mon-Fri 9-17", "Fri-Mon 09:00-17:00", "Mon-Fri 17:00-09:00",
    "Mon-Fri 09:60-17:00", "Mon-Fri 09:00-24:30", "Mon-Fri 09:00-25:00", "Mon,Tue 09:00-17:00", "Mon-Fri 09:00-17:00 x",
])
def test_a_malformed_value_is_refused_naming_the_setting(bad):
    with pytest.raises(ValueError, match="HANDOFF_HOURS"):
        hours.parse(bad)


def test_the_settings_are_read_from_the_environment():
    assert hours.configured({"HANDOFF_HOURS": "Sat 09:00-12:00"}).groups() == [(5, 5, ((540, 720),))]
    assert hours.configured({}).text == "Mon-Fri 09:00-17:00"  # the default (bot/core/settings.py)
    assert hours.wait_minutes({}) == 10
    assert hours.wait_minutes({"HANDOFF_WAIT_MINUTES": "3"}) == 3
    for bad in ("0", "-1", "2.5", "ten"):
        with pytest.raises(ValueError, match="HANDOFF_WAIT_MINUTES"):
            hours.wait_minutes({"HANDOFF_WAIT_MINUTES": bad})
    with pytest.raises(ValueError, match="HANDOFF_HOURS"):
        hours.configured({"HANDOFF_HOURS": "soon"})


@pytest.mark.parametrize("setting, zh, en", [
    ("Mon-Fri 09:00-17:00", "周一至周五 09:00-17:00", "Mon-Fri 09:00-17:00"),
    ("Mon-Fri 09:00-12:00,13:30-17:00; Sat 09:00-12:00",
     "周一至周五 09:00-12:00、13:30-17:00；周六 09:00-12:00", "Mon-Fri 09:00-12:00, 13:30-17:00; Sat 09:00-12:00"),
    # Days with the same hours are told together, whatever order the setting lists them in.
    ("Mon 09:00-17:00; Tue-Wed 09:00-17:00; Sun 10:00-12:00",
     "周一至周三 09:00-17:00；周日 10:00-12:00", "Mon-Wed 09:00-17:00; Sun 10:00-12:00"),
    ("Sat 00:00-24:00", "周六 00:00-24:00", "Sat 00:00-24:00"),
    ("always", "每天 24 小时", "24 hours a day, every day"),
])
def test_the_hours_as_a_citizen_is_told_them(setting, zh, en):
    assert staff_hours_text(hours.parse(setting), "zh") == zh
    assert staff_hours_text(hours.parse(setting), "en") == en
