"""Stage wiring: predictions -> vote -> submission.json -> score, writing every artefact to disk (Sudoku
and maze predictions: straight to their score)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.baselines import BASELINES, predict_views
from harness.core import rundir
from harness.core.io import write_json
from harness.core.puzzles import PuzzleSet
from harness.core.tasks import TaskSet
from harness.predictions.jsonl import write_candidates, write_jsonl
from harness.predictions.puzzle_shards import read_puzzle_predictions
from submissions import build_submission, score_submission, write_submission
from submissions.puzzle_score import score_puzzles
from voting import Predictions, pass_at_k, vote
from voting.vote import PASS_KS, SUBMITTED_K


def vote_to_submission(
    preds: Predictions,
    tasks: TaskSet,
    out: Path,
    rank_by: str = "votes-q",
    candidates_out: Path | None = None,
) -> dict[str, Any]:
    """Vote, write a complete submission (and optionally the candidates); score when truth is known."""
    candidates = vote(preds, rank_by)
    submission = build_submission(tasks, candidates.attempts(SUBMITTED_K))
    if candidates_out is not None:  # first: a command that fails leaves no submission behind
        write_candidates(candidates, candidates_out)
    write_submission(submission, out)
    summary: dict[str, Any] = {
        "tasks": tasks.name,
        "tasks_hash": tasks.hash,
        "n_tasks": len(tasks),
        "test_inputs": tasks.n_test_inputs,
        "views": len(preds),
        "candidates": len(candidates),
        "rank_by": rank_by,
        "fallbacks": len(submission.fallbacks),
        "fallback_pairs": [f"{t}[{i}]" for t, i in submission.fallbacks],
        "submission": str(out),
    }
    if tasks.has_solutions:
        truth = tasks.solutions()
        summary["pass_at_k"] = {str(k): v for k, v in pass_at_k(candidates, truth, PASS_KS).items()}
        summary["score"] = score_submission(submission.entries, truth, tasks.name, tasks.hash).to_dict()
    return summary


def score_puzzle_predictions(puzzles: PuzzleSet, source: Path) -> rundir.PuzzleScoreRecord:
    """A Sudoku or maze run's predictions (a run or predictions folder, a shard, a CSV) -> score.json's record."""
    return score_puzzles(puzzles, read_puzzle_predictions(source, puzzles), str(source))


def run_baselines(tasks: TaskSet, out_dir: Path, n_views: int = 8, seed: int = 0) -> list[dict[str, Any]]:
    """Each baseline predictor through the full path; artefacts in out_dir/<baseline>/."""
    results = []
    for name, predictor in BASELINES.items():
        run = out_dir / name
        preds = predict_views(tasks, predictor, n_views, seed)
        write_jsonl(preds, run / rundir.PREDICTIONS_JSONL)
        summary = vote_to_submission(preds, tasks, run / rundir.SUBMISSION)
        write_json(run / rundir.SCORE, summary, indent=2)
        results.append({"baseline": name, **summary})
    return results
