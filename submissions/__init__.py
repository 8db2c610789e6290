"""Kaggle submission.json: build it complete, validate it, score it as Kaggle does; and the scores of
Sudoku and maze predictions (puzzle_score.py: exact accuracy, per cell, per difficulty, maze paths)."""

from submissions.score import Score, score_submission
from submissions.submission import Submission, build_submission, read_submission, write_submission
from submissions.validate import validate_submission

__all__ = [
    "Score",
    "Submission",
    "build_submission",
    "read_submission",
    "score_submission",
    "validate_submission",
    "write_submission",
]
