"""The rewind buffer: the last minutes of samples in memory, within their budget (pure)."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest

from pgconsole.db.activity import stats
from pgconsole.db.recording.playhead import Playhead, parse_moment
from pgconsole.db.recording.rewind import RewindBuffer
from tests.db.test_moments import client, taken


def busy(at: float, sessions: int = 20) -> stats.Sample:
    """A sample at `at`: every third session active on a query of its own, the rest idle."""
    return taken(
        at,
        *(
            client(
                pid,
                state="active" if (pid + int(at)) % 3 == 0 else "idle",
                query=f"SELECT {pid} -- {int(at)}",
                xact_age=None if (pid + int(at)) % 3 else 0.5,
                query_age=0.5,
                state_age=0.5,
            )
            for pid in range(100, 100 + sessions)
        ),
    )


def test_each_sample_comes_back_as_it_was_kept() -> None:
    rewind = RewindBuffer(minutes=10, block=8)
    kept = [busy(1000.0 + i) for i in range(30)]
    for sample in kept:
        rewind.add(sample)
    assert len(rewind) == 30 and rewind.span() == 29.0
    for index in (0, 7, 8, 23, 24, 29):  # block edges, and the open block
        back = rewind.sample(index)
        assert back.server.taken_at == kept[index].server.taken_at
        assert [(b.pid, b.state, b.query) for b in back.backends] == [
            (b.pid, b.state, b.query) for b in kept[index].backends
        ]
        assert back.backends[0].query_age == pytest.approx(0.5, abs=0.001)
    with pytest.raises(IndexError):
        rewind.sample(30)


def test_the_oldest_blocks_go_once_the_rest_spans_the_minutes() -> None:
    rewind = RewindBuffer(minutes=1, block=10)
    for i in range(200):
        rewind.add(busy(1000.0 + i))
    moments = rewind.moments()
    assert moments[-1].taken_at == 1199.0
    # At least the minute is kept, and never a whole block more than it.
    assert 60 <= rewind.span() < 70
    assert rewind.sample(0).server.taken_at == moments[0].taken_at


def test_a_budget_too_small_for_the_minutes_keeps_the_newest_that_fit() -> None:
    unbounded = RewindBuffer(minutes=60, block=10)
    bounded = RewindBuffer(minutes=60, budget=20_000, block=10)
    for i in range(300):
        unbounded.add(busy(1000.0 + i, sessions=50))
        bounded.add(busy(1000.0 + i, sessions=50))
    assert unbounded.memory() > 20_000 and len(unbounded) == 300
    assert bounded.memory() <= 20_000 < unbounded.memory()
    assert bounded.moments()[-1].taken_at == 1299.0 and len(bounded) < 300


def test_a_sample_not_later_than_the_last_is_ignored() -> None:
    rewind = RewindBuffer()
    rewind.add(busy(1000.0))
    rewind.add(busy(1000.0))
    rewind.add(busy(999.0))
    assert len(rewind) == 1


# --- the playhead ----------------------------------------------------------------------------


def clock_at(hour: int, minute: int, second: int, day: int = 6) -> float:
    return datetime.datetime(2026, 12, day, hour, minute, second).timestamp()


def test_a_typed_time_is_a_clock_time_or_an_offset_from_either_end() -> None:
    first, last = clock_at(3, 0, 0), clock_at(3, 30, 0)
    assert parse_moment("03:12:05", first, last) == clock_at(3, 12, 5)
    assert parse_moment("3:12", first, last) == clock_at(3, 12, 0)
    assert parse_moment("-4m", first, last) == last - 240
    assert parse_moment("-90s", first, last) == last - 90
    assert parse_moment("+4m", first, last) == first + 240
    assert parse_moment("10", first, last) == first + 10
    with pytest.raises(ValueError, match="03:12:05"):
        parse_moment("yesterday", first, last)
    with pytest.raises(ValueError, match="not a clock time"):
        parse_moment("25:00", first, last)


def test_a_clock_time_after_a_tape_that_crossed_midnight_is_the_day_before() -> None:
    first, last = clock_at(23, 50, 0, day=5), clock_at(0, 10, 0)
    assert parse_moment("23:55", first, last) == clock_at(23, 55, 0, day=5)
    assert parse_moment("00:05", first, last) == clock_at(0, 5, 0)


def test_the_playhead_stays_on_its_sample_while_the_oldest_are_dropped() -> None:
    rewind = RewindBuffer(minutes=1, block=10)
    for i in range(70):
        rewind.add(busy(1000.0 + i))
    head = Playhead(rewind)
    assert head.live and head.shown() == len(rewind) - 1
    head.skip(-10)
    assert not head.live and rewind.moments()[head.shown()].taken_at == 1059.0
    head.step(-1)
    assert rewind.moments()[head.shown()].taken_at == 1058.0
    for i in range(70, 100):  # two blocks more come, the oldest go
        rewind.add(busy(1000.0 + i))
    assert rewind.moments()[0].taken_at > 1000.0
    assert rewind.moments()[head.shown()].taken_at == 1058.0
    head.go(0.0)
    assert head.shown() == 0
    head.step(-5)  # already the oldest
    assert head.shown() == 0


def test_the_playhead_finds_the_next_blocked_moment() -> None:
    rewind = RewindBuffer()
    for i in range(20):
        sample = busy(1000.0 + i)
        if i in (12, 13):
            waiter = client(999, state="active", wait_event_type="Lock", blocked_by=(100,))
            sample = replace(sample, backends=(*sample.backends, waiter))
        rewind.add(sample)
    head = Playhead(rewind)
    head.go(1000.0)
    assert head.find("blocked") and head.shown() == 12
    assert not head.find("blocked") and head.shown() == 12  # no second period
    assert head.find("blocked", -1) is False
