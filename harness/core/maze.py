"""Mazes whose shortest start -> goal path is unique, made from a seed (Maze-Hard cannot be
downloaded here; a second shortest path would make the exact-match label ambiguous, which is
why EqR's Maze-Unique keeps only unique ones).

Recipe: a perfect maze (rooms at odd coordinates, a random depth-first spanning tree: exactly one
path between any two rooms), start S at a random room and goal G at the room farthest from it;
then walls between rooms are knocked down in random order (the `loops` knob: the fraction of
remaining walls tried), each kept down only if BFS path counting still finds one shortest path.
"""

from __future__ import annotations

import numpy as np

from harness.core.puzzles import GOAL, OPEN, PATH, START, WALL, PuzzleSet

MIN_SIDE = 5


def perfect_maze(rng: np.random.Generator, side: int) -> np.ndarray:
    """A side x side grid of WALL/OPEN: a spanning tree of the rooms at odd coordinates.

    An even side gets the maze of side - 1 plus a wall row and column, so 30 x 30 (Maze-Hard's
    size) works too.
    """
    if side < MIN_SIDE:
        raise ValueError(f"maze side must be at least {MIN_SIDE}, got {side}")
    odd = side - 1 if side % 2 == 0 else side
    k = (odd - 1) // 2  # rooms per row and column
    grid = np.full((side, side), WALL, dtype=np.uint8)
    grid[1:odd:2, 1:odd:2] = OPEN
    visited = np.zeros((k, k), dtype=bool)
    start = int(rng.integers(0, k * k))
    stack = [divmod(start, k)]
    visited[stack[0]] = True
    keys = rng.random(4 * k * k + 4)  # pre-drawn choices: one draw per step, deterministic
    step = 0
    while stack:
        r, c = stack[-1]
        nexts = [
            (r + dr, c + dc)
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
            if 0 <= r + dr < k and 0 <= c + dc < k and not visited[r + dr, c + dc]
        ]
        if not nexts:
            stack.pop()
            continue
        nr, nc = nexts[int(keys[step % len(keys)] * len(nexts))]
        step += 1
        visited[nr, nc] = True
        grid[r + nr + 1, c + nc + 1] = OPEN  # the wall between rooms (2r+1, 2c+1) and (2nr+1, 2nc+1)
        stack.append((nr, nc))
    return grid


def shortest_paths(passable: np.ndarray, start: int, goal: int) -> tuple[int, list[int]]:
    """(number of shortest start -> goal paths, capped at 2; one such path as flat cell indices).

    BFS over a grid whose border is impassable (so neighbours never leave it); (0, []) when
    the goal cannot be reached.
    """
    side = passable.shape[1]
    free = passable.ravel().tolist()
    size = len(free)
    dist = [-1] * size
    count = [0] * size
    dist[start], count[start] = 0, 1
    frontier = [start]
    while frontier and dist[goal] < 0:
        nxt = []
        for u in frontier:
            du, cu = dist[u] + 1, count[u]
            for v in (u - 1, u + 1, u - side, u + side):
                if not free[v]:
                    continue
                if dist[v] < 0:
                    dist[v], count[v] = du, cu
                    nxt.append(v)
                elif dist[v] == du:
                    count[v] = min(2, count[v] + cu)
        frontier = nxt
    if dist[goal] < 0:
        return 0, []
    path = [goal]
    while path[-1] != start:
        u = path[-1]
        path.append(next(v for v in (u - 1, u + 1, u - side, u + side) if free[v] and dist[v] == dist[u] - 1))
    return count[goal], path[::-1]


def make_maze(rng: np.random.Generator, side: int, loops: float = 0.0) -> tuple[np.ndarray, np.ndarray, int]:
    """(question, answer, path length in moves) for one maze with a unique shortest path."""
    if not 0.0 <= loops <= 1.0:
        raise ValueError(f"loops must be in [0, 1], got {loops}")
    grid = perfect_maze(rng, side)
    rooms = np.flatnonzero((grid == OPEN).ravel() & _room_mask(side))
    start = int(rooms[rng.integers(0, len(rooms))])
    goal = _farthest(grid != WALL, start)
    count, path = shortest_paths(grid != WALL, start, goal)
    walls = np.flatnonzero(_knockable(grid).ravel())
    flat = grid.ravel()  # a view: knocking down here changes `grid`
    for cell in rng.permutation(walls)[: int(round(loops * len(walls)))]:
        flat[cell] = OPEN
        count, trial = shortest_paths(grid != WALL, start, goal)
        if count != 1 or len(trial) < len(path):
            flat[cell] = WALL  # a second shortest path, or a shortcut that would make the maze easy
    question = grid.copy()
    question.flat[start], question.flat[goal] = START, GOAL
    answer = question.copy()
    answer.flat[path[1:-1]] = PATH
    return question.ravel(), answer.ravel(), len(path) - 1


def generate_mazes(name: str, side: int, count: int, loops: float, seed: int) -> PuzzleSet:
    """`count` distinct mazes; maze i comes from its own stream (seed, i), so a smaller count with
    the same seed gives a prefix of this set. Rating = shortest path length in moves."""
    questions: list[np.ndarray] = []
    answers: list[np.ndarray] = []
    ratings: list[int] = []
    seen: set[bytes] = set()
    i = 0
    while len(questions) < count:
        question, answer, length = make_maze(np.random.default_rng([seed, i]), side, loops)
        i += 1
        if question.tobytes() in seen:
            continue
        seen.add(question.tobytes())
        questions.append(question)
        answers.append(answer)
        ratings.append(length)
    shape = (count, side * side)
    return PuzzleSet(
        name,
        "maze",
        side,
        np.array(questions, dtype=np.uint8).reshape(shape),
        np.array(answers, dtype=np.uint8).reshape(shape),
        np.array(ratings, dtype=np.int64),
        source_names=(f"generated:maze:{side}x{side}:loops={loops}:seed={seed}",),
    )


def _room_mask(side: int) -> np.ndarray:
    odd = side - 1 if side % 2 == 0 else side
    mask = np.zeros((side, side), dtype=bool)
    mask[1:odd:2, 1:odd:2] = True
    return mask.ravel()


def _knockable(grid: np.ndarray) -> np.ndarray:
    """Walls between two rooms (in a row or a column), never the border or a pillar."""
    side = grid.shape[0]
    odd = side - 1 if side % 2 == 0 else side
    mask = np.zeros_like(grid, dtype=bool)
    mask[1:odd:2, 2 : odd - 1 : 2] = True  # between horizontal neighbours
    mask[2 : odd - 1 : 2, 1:odd:2] = True  # between vertical neighbours
    return mask & (grid == WALL)


def _farthest(passable: np.ndarray, start: int) -> int:
    """The open cell farthest from `start` (first in BFS order among ties); a room in a perfect maze."""
    side = passable.shape[1]
    free = passable.ravel().tolist()
    seen = {start}
    frontier = [start]
    last = start
    while frontier:
        last = frontier[0]
        nxt = []
        for u in frontier:
            for v in (u - 1, u + 1, u - side, u + side):
                if free[v] and v not in seen:
                    seen.add(v)
                    nxt.append(v)
        frontier = nxt
    return last
