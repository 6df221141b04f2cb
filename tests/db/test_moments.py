"""Moments: a sample in a few numbers, and the searches replay and rewind jump with (pure)."""

from __future__ import annotations

from dataclasses import replace

from pgconsole.db.activity import stats
from pgconsole.db.activity.moments import (
    Moment,
    index_at,
    moment,
    next_blocked,
    next_longest,
    next_wait_spike,
    spike_threshold,
)
from tests.db.test_stats import counters

CLIENT = stats.Backend(
    pid=0,
    user="app",
    database="shop",
    application="web",
    client="127.0.0.1",
    backend_type="client backend",
    state="idle",
    wait_event_type=None,
    wait_event=None,
    xact_age=None,
    query_age=1.0,
    state_age=1.0,
    query="SELECT 1",
)


def client(pid: int, **fields: object) -> stats.Backend:
    return replace(CLIENT, pid=pid, **fields)  # type: ignore[arg-type]


def taken(at: float, *backends: stats.Backend) -> stats.Sample:
    return stats.Sample(backends=backends, server=counters(at), queries=1)


def at(taken_at: float, **fields: object) -> Moment:
    base = Moment(taken_at, 0, 0, 0, 0, None, None)
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_moment_counts_client_sessions_only_and_names_the_longest_transaction() -> None:
    sample = taken(
        1000.0,
        client(1, state="active", xact_age=2.0),
        client(
            2,
            state="active",
            wait_event_type="Lock",
            wait_event="transactionid",
            blocked_by=(3,),
            xact_age=5.0,
        ),
        client(3, state="idle in transaction", xact_age=30.25),
        client(4, state="active", is_self=True, xact_age=99.0),  # the sampler
        client(5, state="active", backend_type="autovacuum worker", xact_age=80.0),
        client(6, state="idle"),
    )
    found = moment(sample)
    assert (found.active, found.waiting, found.blocked, found.idle_in_transaction) == (2, 1, 1, 1)
    assert found.longest_pid == 3 and found.longest_start == 969.75
    assert found.longest_age == 30.25


def test_a_blocked_period_is_found_at_its_start_forward_and_backward() -> None:
    moments = [at(t, blocked=b) for t, b in enumerate([0, 1, 1, 0, 0, 2, 0])]
    assert next_blocked(moments, 0) == 1
    assert next_blocked(moments, 1) == 5  # not the second second of the same period
    assert next_blocked(moments, 5) is None
    assert next_blocked(moments, 6, step=-1) == 5
    assert next_blocked(moments, 5, step=-1) == 1


def test_a_wait_spike_is_twice_the_median_and_at_least_three_sessions() -> None:
    waiting = [1, 1, 2, 1, 6, 7, 1, 1, 2, 9, 1]
    moments = [at(t, waiting=w) for t, w in enumerate(waiting)]
    assert spike_threshold(moments) == 3.0  # the median (1) doubled is below the floor
    assert next_wait_spike(moments, 0) == 4
    assert next_wait_spike(moments, 4) == 9
    busy = [at(t, waiting=w) for t, w in enumerate([10, 10, 12, 25, 10])]
    assert spike_threshold(busy) == 20.0
    assert next_wait_spike(busy, 0) == 3


def test_a_new_longest_transaction_is_another_pid_or_another_start() -> None:
    moments = [
        at(100, longest_pid=None),
        at(101, longest_pid=6, longest_start=100.5),  # open half a second: not counted
        at(102, longest_pid=7, longest_start=90.5),
        at(103, longest_pid=7, longest_start=90.501),  # the same one, its age rounded
        at(104, longest_pid=7, longest_start=92.9),  # pid 7 began another transaction
        at(105, longest_pid=8, longest_start=91.0),
    ]
    assert next_longest(moments, 0) == 2
    assert next_longest(moments, 2) == 4
    assert next_longest(moments, 4) == 5
    assert next_longest(moments, 5) is None


def test_index_at_finds_the_sample_shown_at_a_time() -> None:
    moments = [at(t) for t in (10.0, 11.0, 12.5, 20.0)]
    assert index_at(moments, 5.0) == 0
    assert index_at(moments, 11.0) == 1
    assert index_at(moments, 12.4) == 1
    assert index_at(moments, 99.0) == 3
