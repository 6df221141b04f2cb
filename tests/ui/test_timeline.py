"""The timeline's two lines (pure)."""

from __future__ import annotations

from pgconsole.db.recording.playhead import time_of_day
from pgconsole.widgets.timeline import column_of, columns, cursor_line
from tests.db.test_moments import at


def test_each_column_is_the_busiest_moment_of_its_slice_red_when_blocked() -> None:
    moments = [at(1000.0 + i, active=i % 4, blocked=int(i == 5)) for i in range(8)]
    line = columns(moments, 4)  # two moments a column
    assert line.plain == "▃█▃█" and len(line) == 4
    assert [str(span.style) for span in line.spans] == ["green", "green", "red", "green"]
    idle = columns([at(1.0), at(2.0)], 80)
    assert idle.plain == "··"  # sampled, nothing active


def test_the_cursor_is_under_its_column_and_the_ends_say_their_clock() -> None:
    moments = [at(1000.0 + i) for i in range(30)]
    line = cursor_line(moments, 12, 80).plain
    assert line.index("▲") == column_of(12, 30, 80) == 12
    assert line.startswith(time_of_day(1000.0)) and line.endswith(time_of_day(1029.0))
    assert len(line) == 30  # as long as the columns: the last clock above the last sample
    many = [at(1000.0 + i) for i in range(1000)]
    assert cursor_line(many, 999, 80).plain.index("▲") == 79
    assert cursor_line(many, 0, 80).plain.index("▲") == 0
