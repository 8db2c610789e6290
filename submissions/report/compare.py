"""Paired comparison of two runs on the same tasks: is B's score different from A's, beyond chance?

- Exact McNemar test **per test output**: an output is solved or not (either attempt equals the
  truth), which is the binary outcome McNemar needs; per-task scores are fractions for tasks with
  several outputs. Only discordant outputs carry information: under "no difference", an output
  solved by exactly one run is equally likely to be A's or B's, so the count solved only by B is
  Binomial(discordant, 1/2) (scipy.stats.binomtest, two-sided).
- Bootstrap interval for the difference of Kaggle scores (B - A, mean over tasks), resampling
  tasks with both runs paired, seeded like Score.interval.

Sweep cells and repeated runs (submissions.report.sides) hold per-task scores only, so their test is
the exact sign test **per task** (a task where B scores higher counts for B; ties carry nothing),
which on Sudoku and Maze, one output per puzzle, is McNemar's test. Repeats are averaged per task
first; with as many repeats on both sides, the difference's 95% t interval over repeats (paired by
repeat) is given too. NFE per task is shown for both sides, with their ratio: "better" at twice the
compute is another claim than at matched compute.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from harness.core.errors import DataError
from harness.core.stats import t_interval
from submissions.report.runs import Run
from submissions.report.sides import Side
from submissions.score import BOOTSTRAP_SAMPLES


@dataclass
class Comparison:
    a: str
    b: str
    dataset: str
    dataset_hash: str
    tasks: int
    outputs: int
    score_a: float
    score_b: float
    difference: float  # score_b - score_a
    ci95: tuple[float, float]  # bootstrap over tasks
    only_a: int  # test outputs solved by A but not B
    only_b: int
    p_value: float  # exact two-sided McNemar on test outputs
    alpha: float
    family_a: str | None = None  # model families and weight counts from run.json (None: not recorded)
    family_b: str | None = None
    parameters_a: dict[str, int] | None = None  # {"network", "puzzle_embedding"}
    parameters_b: dict[str, int] | None = None
    nfe_a: float | None = None  # network applications per task, from run.json (None: not recorded)
    nfe_b: float | None = None

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    @property
    def verdict(self) -> str:
        """One line for people."""
        test = f"McNemar exact p = {self.p_value:.3g} on {self.only_a + self.only_b} discordant test outputs"
        if not self.significant:
            return (
                f"No significant difference between {self.a} and {self.b}: {self.b} - {self.a} = "
                f"{self._points(1)}; {test}."
            )
        b_better = self.only_b > self.only_a
        better, worse = (self.b, self.a) if b_better else (self.a, self.b)
        return f"{better} is better than {worse}: {self._points(1 if b_better else -1)}; {test}."

    def _points(self, sign: int) -> str:
        """The score difference (sign 1: B - A, -1: A - B) with its interval, in percentage points."""
        lo, hi = sorted(sign * x for x in self.ci95)
        return f"{100 * sign * self.difference:+.2f} points (95% CI {100 * lo:+.2f} to {100 * hi:+.2f})"

    def to_dict(self) -> dict:
        return asdict(self) | {"significant": self.significant, "verdict": self.verdict}


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (1.0 when there are none)."""
    from scipy.stats import binomtest

    n = only_a + only_b
    return 1.0 if n == 0 else float(binomtest(only_b, n, 0.5).pvalue)


def paired_bootstrap(a: np.ndarray, b: np.ndarray, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of mean(b - a) over tasks resampled with replacement."""
    diff = b - a
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (BOOTSTRAP_SAMPLES, len(diff)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def compare_runs(a: Run, b: Run, alpha: float = 0.05) -> Comparison:
    """Compare B against A; both must have been scored on the same task set (same hash)."""
    if a.tasks.hash != b.tasks.hash:
        raise DataError(
            f"{a.path} was scored on {a.tasks.name} (sha256 {a.tasks.hash[:12]}) and {b.path} on "
            f"{b.tasks.name} (sha256 {b.tasks.hash[:12]}): a paired comparison needs the same tasks"
        )
    solved_a, solved_b = a.outputs["solved"].to_numpy(), b.outputs["solved"].to_numpy()
    only_a, only_b = int((solved_a & ~solved_b).sum()), int((solved_b & ~solved_a).sum())
    score_a = a.pass2.per_task["score"].to_numpy(float)
    score_b = b.pass2.per_task["score"].to_numpy(float)
    return Comparison(
        a=a.name,
        b=b.name,
        dataset=a.tasks.name,
        dataset_hash=a.tasks.hash,
        tasks=len(score_a),
        outputs=len(solved_a),
        score_a=float(score_a.mean()),
        score_b=float(score_b.mean()),
        difference=float(score_b.mean() - score_a.mean()),
        ci95=paired_bootstrap(score_a, score_b),
        only_a=only_a,
        only_b=only_b,
        p_value=mcnemar_exact(only_a, only_b),
        alpha=alpha,
        family_a=a.family,
        family_b=b.family,
        parameters_a=a.parameters,
        parameters_b=b.parameters,
        nfe_a=a.nfe_per_task,
        nfe_b=b.nfe_per_task,
    )


@dataclass
class SideComparison:
    a: str
    b: str
    dataset: str
    dataset_hash: str
    metric: str
    tasks: int
    repeats_a: int
    repeats_b: int
    score_a: float  # mean over tasks of the per-task mean over repeats
    score_b: float
    difference: float  # score_b - score_a
    ci95: tuple[float, float]  # paired bootstrap over tasks
    ci95_repeats: tuple[float, float] | None  # t interval over paired repeats (equal counts > 1)
    better_a: int  # tasks where A's mean score is higher
    better_b: int
    p_value: float  # exact two-sided sign test over tasks
    alpha: float
    nfe_a: float | None
    nfe_b: float | None
    chosen: bool  # some side's cell was picked by its score on these tasks

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    @property
    def nfe_ratio(self) -> float | None:
        return self.nfe_b / self.nfe_a if self.nfe_a and self.nfe_b is not None else None

    @property
    def verdict(self) -> str:
        diff = f"{100 * self.difference:+.2f} points (95% CI {100 * self.ci95[0]:+.2f} to {100 * self.ci95[1]:+.2f})"
        test = f"sign test p = {self.p_value:.3g} on {self.better_a + self.better_b} tasks that differ"
        compute = "" if self.nfe_ratio is None else f" at {self.nfe_ratio:.2f}x the NFE"
        caveat = " (a cell chosen by its score on these tasks: optimistic)" if self.chosen else ""
        if not self.significant:
            return f"No significant difference: {self.b} - {self.a} = {diff}{compute}; {test}{caveat}."
        b_better = self.better_b > self.better_a  # the test's direction: more tasks where B scores higher
        if b_better != (self.difference > 0):
            return (
                f"Inconclusive: more tasks favour {self.b if b_better else self.a} ({test}), but the mean "
                f"difference {self.b} - {self.a} = {diff}{compute} goes the other way{caveat}."
            )
        better, worse = (self.b, self.a) if b_better else (self.a, self.b)
        return f"{better} is better than {worse}: {self.b} - {self.a} = {diff}{compute}; {test}{caveat}."

    def to_dict(self) -> dict:
        return asdict(self) | {"significant": self.significant, "nfe_ratio": self.nfe_ratio, "verdict": self.verdict}


def compare_sides(a: Side, b: Side, alpha: float = 0.05) -> SideComparison:
    """B against A, paired over tasks (and over repeats when both have as many)."""
    if a.dataset_hash != b.dataset_hash:
        raise DataError(
            f"{a.name} was scored on {a.dataset} (sha256 {a.dataset_hash[:12]}) and {b.name} on "
            f"{b.dataset} (sha256 {b.dataset_hash[:12]}): a paired comparison needs the same tasks"
        )
    if a.metric != b.metric:
        raise DataError(f"{a.name} is scored by {a.metric} and {b.name} by {b.metric}")
    tasks = sorted(a.tasks)
    sa, sb = a.aligned(tasks), b.aligned(tasks)
    mean_a, mean_b = sa.mean(axis=0), sb.mean(axis=0)
    repeats = None
    if a.repeats == b.repeats > 1:
        _, _, low, high = t_interval((sb.mean(axis=1) - sa.mean(axis=1))[:, None])
        repeats = (float(low[0]), float(high[0]))
    better_a, better_b = int((mean_a > mean_b).sum()), int((mean_b > mean_a).sum())
    return SideComparison(
        a=a.name,
        b=b.name,
        dataset=a.dataset,
        dataset_hash=a.dataset_hash,
        metric=a.metric,
        tasks=len(tasks),
        repeats_a=a.repeats,
        repeats_b=b.repeats,
        score_a=float(mean_a.mean()),
        score_b=float(mean_b.mean()),
        difference=float(mean_b.mean() - mean_a.mean()),
        ci95=paired_bootstrap(mean_a, mean_b),
        ci95_repeats=repeats,
        better_a=better_a,
        better_b=better_b,
        p_value=mcnemar_exact(better_a, better_b),
        alpha=alpha,
        nfe_a=a.nfe_per_task,
        nfe_b=b.nfe_per_task,
        chosen=a.chosen or b.chosen,
    )
