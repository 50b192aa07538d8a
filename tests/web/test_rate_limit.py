"""bot/web/rate_limit.py: a person's pace passes, a script's gets told to wait."""
from bot.web.rate_limit import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_rate_holds():
    clock = Clock()
    limit = RateLimit(per_minute=20, burst=8, clock=clock)
    assert [limit.wait("a") for _ in range(8)] == [None] * 8
    wait = limit.wait("a")
    assert wait is not None and 2.9 < wait <= 3.0  # one message every 3 s at 20 a minute
    assert limit.wait("b") is None  # another session is not affected
    clock.now += 3.0
    assert limit.wait("a") is None
    assert limit.wait("a") is not None


def test_a_person_typing_every_few_seconds_is_never_stopped():
    clock = Clock()
    limit = RateLimit(per_minute=20, burst=8, clock=clock)
    for _ in range(200):
        assert limit.wait("person") is None
        clock.now += 3.5
