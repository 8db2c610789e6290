"""The run-directory contract: every file name a stage writes or reads, and the typed records in
its JSON files (each field commented, as lm-evaluation-harness's result_schema), so that no other
module spells a name and readers and writers agree on the keys.

    training run  runs/<name>/   config.toml  run.json (TrainingRecord)  metrics.jsonl  layout/
                                 checkpoints/step_N/ {model.safetensors, manifest.json (Manifest),
                                 identifiers.json, state.pt, rank<R>.pt}
    evaluation    runs/<name>/   predictions/chunk-*.npz  submission.json  candidates.jsonl
                                 score.json (ScoreRecord)  run.json (EvaluationRecord)
    puzzles       runs/<name>/   predictions/puzzles-*.npz  score.json (PuzzleScoreRecord)  run.json
    sweep         runs/<name>/   options.json  recording/chunk-*.npz  cells.csv  cell_scores.npz  sweep.json
                                 report/  [seeds/seed-<S>/ (one sweep per further seed)  cells_seeds.csv]

`run.json` keeps its name in both kinds of folder (existing runs and scripts read it); the two
records are told apart by the files beside them (a training run has config.toml).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

# Training runs
TRAIN_CONFIG = "config.toml"  # the resolved RunConfig, re-read by --resume
TRAINING_RECORD = "run.json"  # TrainingRecord
METRICS = "metrics.jsonl"  # one JSON object per log line
LAYOUT = "layout"  # folder: the puzzle layout (harness.data.layout)
LAYOUT_MANIFEST = "layout.json"  # inside LAYOUT
CHECKPOINTS = "checkpoints"  # folder of step_N checkpoints
TRAIN_STATE = "state.pt"  # optimiser, raw and EMA weights, data position (inside step_N)

# Checkpoints (a folder anything can evaluate)
MANIFEST = "manifest.json"  # Manifest, written last: a folder with a manifest is complete
WEIGHTS = "model.safetensors"
IDENTIFIERS = "identifiers.json"  # the puzzle identifiers (embedding rows) in order

# Evaluations
PREDICTIONS = "predictions"  # folder of prediction shards (harness.predictions.shards)
SUBMISSION = "submission.json"  # the Kaggle file
CANDIDATES = "candidates.jsonl"  # every ranked candidate
SCORE = "score.json"  # ScoreRecord
EVALUATION_RECORD = "run.json"  # EvaluationRecord
PREDICTIONS_JSONL = "predictions.jsonl"  # baselines: predictions as JSON Lines

# Sweeps (harness.infer.sweep): one recording, every cell scored from it
SWEEP_OPTIONS = "options.json"  # what the recording was made with; a rerun with other options is refused
SWEEP_RECORDING = "recording"  # folder of recording chunks (harness.predictions.recording)
SWEEP_CELLS = "cells.csv"  # one row per (depth, breadth, views, rule, selector) cell
SWEEP_CELL_SCORES = "cell_scores.npz"  # per cell, per task scores (harness.predictions.cell_scores)
SWEEP_SUMMARY = "sweep.json"  # what ran, NFE recorded against the reference's, the headline cells
SWEEP_REPORT = "report"  # folder: report.html, report.md, plots/
SWEEP_SEEDS = "seeds"  # folder: seed-<S>/, one whole sweep per further seed of --seeds
SWEEP_SEED_CELLS = "cells_seeds.csv"  # per cell, the mean and 95% interval over seeds

# The demo
DEMO_SUMMARY = "summary.json"


class KaggleScore(TypedDict):
    """`submissions.Score.to_dict()`: the Kaggle metric of one submission."""

    dataset: str  # task-set name the truth came from
    dataset_hash: str  # sha256 of that set's content
    score: float  # mean over tasks of solved test outputs / test outputs
    ci95: list[float]  # 95% bootstrap interval over tasks
    tasks: int  # tasks scored (every task of the set)
    tasks_fully_solved: int  # tasks with every output solved
    tasks_missing: int  # tasks absent from the submission (count as 0)
    outputs: int  # test outputs
    outputs_solved: int
    output_score: float  # outputs_solved / outputs


class ScoreRecord(TypedDict):
    """score.json: what voting produced and, when the set has solutions, how it scores."""

    tasks: str  # task-set name (re-loaded by reports; must hash to tasks_hash)
    tasks_hash: str  # sha256 of the task set's content when the run was scored
    n_tasks: int
    test_inputs: int
    views: int  # prediction rows voted
    candidates: int  # distinct (task, test input, grid) candidates
    rank_by: str  # the voting rule (voting.RANKERS)
    fallbacks: int  # test inputs with no prediction (given a copy of the input)
    fallback_pairs: list[str]  # "task[index]" of each fallback
    submission: str  # path of the submission.json written
    pass_at_k: NotRequired[dict[str, float]]  # "K" -> fraction of test outputs in the top K (K > 2: oracle)
    score: NotRequired[KaggleScore]  # only when the task set has solutions
    mean_steps: NotRequired[float]  # evaluations: mean ACT steps per view
    nfe_per_task: NotRequired[float]  # evaluations: network applications run per task (EvaluationRecord)


class RatingBucket(TypedDict):
    """One difficulty bucket of a puzzle set's ratings (Sudoku-Extreme: the tdoku solver's backtracks)."""

    low: int  # ratings low..high, both included
    high: int
    puzzles: int
    exact: int
    exact_accuracy: float


class PuzzleScoreRecord(TypedDict):
    """score.json of a Sudoku or maze evaluation (told from a ScoreRecord by its `benchmark` key)."""

    benchmark: str  # "sudoku" or "maze"
    tasks: str  # puzzle-set spec (re-loaded by reports; must hash to tasks_hash)
    tasks_hash: str  # sha256 of the set's content (PuzzleSet.hash)
    published_set: str | None  # "sudoku-extreme/test" or "maze-30x30-hard-1k/test" when it is that set, else None
    puzzles: int
    predicted: int  # puzzles with a prediction (the others count as wrong)
    exact: int  # puzzles whose every cell equals the answer
    exact_accuracy: float  # exact / puzzles
    exact_ci95: list[float]  # 95% Wilson score interval of exact_accuracy
    cell_accuracy: float  # cells equal to the answer / all cells (a missing puzzle: every cell wrong)
    fill_accuracy: float  # the same over the cells a question leaves open (Sudoku blanks, maze open cells)
    by_rating: list[RatingBucket]  # empty when the set has no ratings
    valid_paths: NotRequired[int]  # mazes: predictions that are one valid S -> G path, the label's or another
    valid_path_rate: NotRequired[float]  # valid_paths / puzzles
    exact_by_step: NotRequired[dict[str, float]]  # "N" -> exact accuracy after ACT step N (--record-steps)
    mean_steps: NotRequired[float]  # ACT steps run per puzzle, summed over its restarts (when the shards record them)
    restarts: NotRequired[int]  # evaluate --restarts B > 1: each answer is the majority over B starts
    predictions: str  # where the predictions were read from


class EvaluationRecord(TypedDict):
    """run.json of an evaluation: how the predictions were made (shown by reports)."""

    checkpoint: str  # path of the evaluated checkpoint
    checkpoint_step: int | None  # training step it was saved at, when known
    family: NotRequired[str]  # model family of the checkpoint (models.FAMILIES); absent in older runs
    parameters: NotRequired[dict[str, int]]  # {"network", "puzzle_embedding"}: weight counts; absent in older runs
    tasks: str
    tasks_hash: str
    views: int  # views predicted
    max_aug: int | None  # cap on views per task (None: every view of the layout)
    halt: str  # halting rule: fixed (the reference), q, or a rule label (stable:2, converged:0.01, entropy:2:0.01)
    threshold: float | None  # q_halt logit threshold (q rule only)
    restarts: NotRequired[int]  # starts per view (1: the reference); absent in older runs
    noise: NotRequired[float | None]  # std of the restart noise (None with one start)
    max_steps: int  # ACT step cap
    mean_steps: float  # ACT steps actually run per row (view x restart)
    seconds: float  # wall time of predict + vote + score
    device: str
    world_size: int
    gpu_seconds: float | None  # seconds x processes on GPUs; None on CPU
    nfe_per_step: NotRequired[int]  # network (block) applications per ACT step (models.families); absent in older runs
    nfe_per_task: NotRequired[float]  # network applications actually run, summed over a task's views, mean over tasks
    nfe_reference_per_task: NotRequired[float]  # the same for the reference protocol (every view, halt_max_steps)
    published: NotRequired[PublishedRecord]  # a checkpoint pulled from the Hub: its source and the scores published


class PublishedScore(TypedDict):
    """A score a checkpoint's authors (or a verifier) published: theirs, not reproduced by this run."""

    score: float  # percent, as published
    metric: str  # e.g. "pass@2", "exact accuracy"
    set: str  # what it was measured on (e.g. "ARC-AGI-1 semi-private")
    source: str  # who measured it, where it is written


class PublishedRecord(TypedDict):
    """Where an evaluated checkpoint came from on the Hub, and what was published for it."""

    name: str | None  # registry short name (harness/infer/published.toml), None for a bare hf:// address
    address: str  # hf://OWNER/REPO[/SUBFOLDER][@REVISION]
    commit: str | None  # the Hub commit the files were read at
    sha256: str  # of the state dict (or model.safetensors) downloaded
    scores: list[PublishedScore]  # empty when the registry knows none


class TrainingRecord(TypedDict):
    """run.json of a training run: what it trains on and where it ran."""

    layout_sha256: str  # Layout.hash: checkpoints only evaluate under this layout
    identifiers: int  # puzzle identifiers (embedding rows)
    total_steps: int  # planned optimiser steps
    world_size: int  # processes (a resume needs the same number)
    environment: dict[str, Any]  # git commit, python/torch/numpy/cuda versions, GPUs


class Manifest(TypedDict):
    """manifest.json of a checkpoint folder (format trm-eval-checkpoint, version 1)."""

    format: str  # "trm-eval-checkpoint"
    format_version: int
    trm_eval_version: str
    torch_version: str
    family: NotRequired[str]  # model family (models.FAMILIES); absent in older TRM checkpoints
    config: dict[str, Any]  # the model config (the family's config class, to_dict())
    puzzle_identifiers: dict[str, Any] | None  # {"count", "sha256"} of identifiers.json, None if unknown
    step: int | None  # training step, None for imported weights
    ema: bool | None  # whether these are EMA weights; None when unknown
    source: dict[str, Any] | None  # where the weights came from (a run, a reference file)
