"""The reference builder's np.random draws, replayed in bulk from raw Mersenne-Twister words.

One (tid, colour map) draw is a 9-state automaton over the words' low 4 bits; only accepted words advance it.
Checked call for call against np.random.RandomState by tests/test_layout.py::test_draws_replay_numpy_legacy_random.
"""

from __future__ import annotations

import numpy as np

# np.random.shuffle and np.random.permutation are Fisher-Yates shuffles whose step i (n-1 down to
# 1) reads 32-bit words masked to the smallest all-ones mask >= i until one is <= i (legacy
# `random_interval`); randint(0, 8) reads one word masked by 7. So one (tid, colour map) draw is a
# 9-state automaton over words: state 0 reads the tid, state s reads the shuffle step i = 9 - s,
# every word is consumed, and only accepted words advance the state. All masks are <= 15, so a
# word acts through its low 4 bits only.

_MASKS = np.array([7, 15, 7, 7, 7, 7, 3, 3, 1])
_BOUNDS = np.array([7, 8, 7, 6, 5, 4, 3, 2, 1])
_ACCEPTS = (np.arange(16) & _MASKS[:, None]) <= _BOUNDS[:, None]  # [state, low 4 bits]
_NEXT = np.where(_ACCEPTS, (np.arange(9)[:, None] + 1) % 9, np.arange(9)[:, None])  # [state, low bits]
# Flat tables indexed by state * 16 + low bits; _NEXT16 returns the next state times 16.
_ACCEPTS16 = _ACCEPTS.ravel()
_NEXT16 = (16 * _NEXT).ravel().astype(np.int32)


def _three_word_table() -> np.ndarray:
    """[state * 4096 + low bits of 3 words] -> state after them, times 4096 (to index again)."""
    codes = np.arange(4096)
    state = np.repeat(np.arange(9), 4096).reshape(9, 4096)
    for shift in (8, 4, 0):
        state = _NEXT[state, (codes >> shift) & 15]
    return (state * 4096).ravel().astype(np.int32)


_NEXT3 = _three_word_table()
_BLOCK_TRIPLES = 256
_CHUNK_WORDS = 1 << 19


def _parse_trials(words: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every complete (randint(0, 8), permutation(1..9)) draw at the start of `words`, in order.

    Returns tids (k,), colour maps (k, 10) with [:, 0] == 0, and the word offset after each draw.
    The automaton runs over blocks of words in parallel, each block from all 9 possible entry
    states at once, 3 words per step; chaining the blocks' exit states picks each block's true run.
    """
    n = len(words) // (3 * _BLOCK_TRIPLES) * (3 * _BLOCK_TRIPLES)
    low = (words[:n] & 15).astype(np.int32).reshape(-1, 3)
    triples = (low[:, 0] << 8) | (low[:, 1] << 4) | low[:, 2]
    columns = np.ascontiguousarray(triples.reshape(-1, _BLOCK_TRIPLES).T)  # [triple in block, block]
    lanes = np.tile(np.arange(0, 9 * 4096, 4096, dtype=np.int32), (columns.shape[1], 1))
    before = np.empty((_BLOCK_TRIPLES, *lanes.shape), np.int32)  # state x 4096 before each triple
    for i, column in enumerate(columns):
        before[i] = lanes
        lanes = np.take(_NEXT3, lanes + column[:, None])
    entry, state = [], 0
    for block_exits in (lanes >> 12).tolist():
        entry.append(state)
        state = block_exits[state]
    states: np.ndarray = np.empty_like(low)  # state x 16 before each word
    states[:, 0] = before[:, np.arange(len(entry)), entry].T.ravel() >> 8
    states[:, 1] = np.take(_NEXT16, states[:, 0] + low[:, 0])
    states[:, 2] = np.take(_NEXT16, states[:, 1] + low[:, 1])
    accepted: np.ndarray = np.flatnonzero(np.take(_ACCEPTS16, states + low))
    accepted = accepted[: len(accepted) // 9 * 9].reshape(-1, 9)  # one row per complete draw
    values = np.take(low, accepted) & _MASKS
    perm = np.tile(np.arange(1, 10, dtype=np.uint8), (len(values), 1))
    rows = np.arange(len(values))
    for step in range(1, 9):
        i, j = 9 - step, values[:, step]
        swapped = perm[rows, i].copy()
        perm[rows, i] = perm[rows, j]
        perm[rows, j] = swapped
    colors = np.concatenate([np.zeros((len(values), 1), np.uint8), perm], axis=1)
    return values[:, 0].astype(np.uint8), colors, accepted[:, 8].astype(np.int64) + 1


class LegacyDraws:
    """np.random.seed(seed) followed by the reference's shuffles and augmentation draws."""

    def __init__(self, seed: int, skip: int = 0) -> None:
        """`skip`: start that many words in, where an earlier run stopped."""
        legacy: tuple = np.random.RandomState(seed).get_state(legacy=True)  # type: ignore[assignment]
        key, pos = np.asarray(legacy[1]), int(legacy[2])
        self._bits = np.random.MT19937()
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        for start in range(0, skip, _CHUNK_WORDS):
            self._bits.random_raw(min(_CHUNK_WORDS, skip - start))
        self._words = np.empty(0, np.uint32)
        self._pos = 0  # next unread word
        self._base = skip  # words consumed before self._words[0]
        self._clear_trials()

    def _clear_trials(self) -> None:
        self._tids = np.empty(0, np.uint8)
        self._colors = np.empty((0, 10), np.uint8)
        self._ends = np.empty(0, np.int64)
        self._next = 0

    def _refill(self) -> None:
        """Drop consumed words, keep unread ones and append a fresh chunk."""
        self._base += self._pos
        self._ends -= self._pos
        fresh = self._bits.random_raw(_CHUNK_WORDS).astype(np.uint32)
        self._words = np.concatenate([self._words[self._pos :], fresh])
        self._pos = 0

    def interval(self, bound: int) -> int:
        """np.random.randint(0, bound + 1), drawn right after the last consumed pair."""
        if len(self._tids):
            self._clear_trials()
        mask = (1 << bound.bit_length()) - 1
        while bound:
            if self._pos == len(self._words):
                self._refill()
            value = int(self._words[self._pos]) & mask
            self._pos += 1
            if value <= bound:
                return value
        return 0

    def shuffle(self, items: list) -> None:
        """In place, as np.random.shuffle(items) would do it."""
        for i in range(len(items) - 1, 0, -1):
            j = self.interval(i)
            items[i], items[j] = items[j], items[i]

    def peek(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The next `count` (tid, colour map) pairs, not yet consumed."""
        while len(self._tids) - self._next < count:
            start = int(self._ends[-1]) if len(self._ends) else self._pos
            if len(self._words) - start < 64 * count + 1024:
                self._refill()
                start = int(self._ends[-1]) if len(self._ends) else self._pos
            tids, colors, ends = _parse_trials(self._words[start:])
            keep = slice(self._next, None)
            self._tids = np.concatenate([self._tids[keep], tids])
            self._colors = np.concatenate([self._colors[keep], colors])
            self._ends = np.concatenate([self._ends[keep], ends + start])
            self._next = 0
        stop = self._next + count
        return self._tids[self._next : stop], self._colors[self._next : stop]

    def consume(self, count: int) -> None:
        if count:
            self._next += count
            self._pos = int(self._ends[self._next - 1])

    def total_words(self) -> int:
        """Words drawn so far: where np.random's state stands after the layout."""
        return self._base + self._pos
