"""The rewind buffer: the last minutes of activity samples, in memory, within a fixed budget.

Samples are kept as the recording file keeps them (`codec`): each encoded against the one
before it as it comes, and every `BLOCK` of them joined into one compressed block. The
oldest blocks go when the buffer spans more than its minutes or weighs more than its
budget. A `Moment` per sample is kept beside, for the timeline and the searches.
"""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass

from pgconsole.db.activity.moments import Moment, moment
from pgconsole.db.activity.stats import Sample
from pgconsole.db.recording.codec import BlockReader, Delta, Encoder, join_block

MINUTES = 15.0
"""How far back the buffer reaches by default."""
BUDGET = 20 * 2**20
"""Bytes the buffer may hold by default: compressed blocks, open deltas and moments."""
BLOCK = 60
"""Samples per compressed block (a minute at the default 1 s refresh)."""
_MOMENT_BYTES = 120
"""About what a `Moment` costs in memory (a slotted frozen dataclass of seven fields)."""


@dataclass(frozen=True)
class _Block:
    moments: tuple[Moment, ...]
    data: bytes


class RewindBuffer:
    """Samples as they were shown, the oldest dropped a block at a time."""

    def __init__(self, minutes: float = MINUTES, budget: int = BUDGET, block: int = BLOCK) -> None:
        self.seconds = minutes * 60
        self.budget = budget
        self.block = block
        self._blocks: deque[_Block] = deque()
        self._open: list[Delta] = []
        self._open_moments: list[Moment] = []
        self._encoder = Encoder()
        self._moments: list[Moment] | None = None
        """All moments, oldest first; rebuilt when a block goes."""
        self._decoded: dict[int, BlockReader] = {}
        """The last two blocks read (by their place in `_blocks`), for stepping."""
        self._open_reader: BlockReader | None = None
        """The open block's frames, read as far as asked (None: changed since)."""

    # -- writing -------------------------------------------------------------------------------

    def add(self, sample: Sample) -> None:
        """Keep a sample (ignored when not later than the last one kept)."""
        moments = self.moments()
        if moments and sample.server.taken_at <= moments[-1].taken_at:
            return
        if not self._open:
            self._encoder.reset()
        self._open.append(self._encoder.encode(sample))
        self._open_reader = None
        summary = moment(sample)
        self._open_moments.append(summary)
        moments.append(summary)
        if len(self._open) >= self.block:
            self._blocks.append(_Block(tuple(self._open_moments), join_block(self._open)))
            self._open, self._open_moments = [], []
        self._evict()

    def clear(self) -> None:
        """Forget everything (another server)."""
        self._blocks.clear()
        self._open, self._open_moments = [], []
        self._moments, self._decoded, self._open_reader = None, {}, None

    def _evict(self) -> None:
        """Drop the oldest blocks the buffer can spare: while what remains still spans its
        minutes, or while it weighs more than its budget."""
        while self._blocks:
            oldest = len(self._blocks[0].moments)
            if self.memory() <= self.budget and self.span_without(oldest) < self.seconds:
                return
            self._blocks.popleft()
            self._moments, self._decoded, self._open_reader = None, {}, None

    # -- reading -------------------------------------------------------------------------------

    def moments(self) -> list[Moment]:
        """A summary per sample kept, oldest first (the list is the buffer's: do not change)."""
        if self._moments is None:
            self._moments = [m for b in self._blocks for m in b.moments]
            self._moments.extend(self._open_moments)
        return self._moments

    def __len__(self) -> int:
        return len(self.moments())

    def sample(self, index: int) -> Sample:
        """The sample at `index` (of `moments()`), decoded from its block.

        Raises:
            IndexError: No such sample.
        """
        count = len(self)
        if not 0 <= index < count:
            raise IndexError(f"sample {index} of {count}")
        first = 0
        for number, block in enumerate(self._blocks):
            if index < first + len(block.moments):
                reader = self._decoded.get(number)
                if reader is None:
                    if len(self._decoded) >= 2:
                        del self._decoded[next(iter(self._decoded))]
                    reader = self._decoded[number] = BlockReader.of_block(block.data)
                return reader.sample(index - first)
            first += len(block.moments)
        if self._open_reader is None:
            self._open_reader = BlockReader([d.data for d in self._open])
        return self._open_reader.sample(index - first)

    def span(self) -> float:
        """Seconds between the oldest sample kept and the newest (0 with fewer than two)."""
        return self.span_without(0)

    def span_without(self, oldest: int) -> float:
        """`span` if the `oldest` samples were gone."""
        moments = self.moments()
        if len(moments) - oldest < 2:
            return 0.0
        return moments[-1].taken_at - moments[oldest].taken_at

    def memory(self) -> int:
        """Bytes held, about: the blocks, the open deltas, the moments, and the blocks being
        read (their frames parsed)."""
        blocks = sum(sys.getsizeof(b.data) for b in self._blocks)
        open_deltas = sum(sys.getsizeof(d.data) + 64 for d in self._open)
        readers = [*self._decoded.values(), *filter(None, [self._open_reader])]
        return blocks + open_deltas + len(self) * _MOMENT_BYTES + sum(r.weight for r in readers)
