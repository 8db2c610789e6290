"""Inference: a checkpoint and a task set in, prediction shards, votes, submission and score out.
checkpoints.py  the checkpoint folder (safetensors + manifest): save, load (family-aware), import from the
                reference, run one batch
engine.py       batched ACT steps over views (fixed or q-halting, continuous batching) -> shards
evaluate.py     predict / evaluate (shards -> harness.pipeline vote -> submission -> score) and the
                held-out evaluation training runs on a model in memory
puzzle_eval.py  the same for Sudoku and maze sets: one view per puzzle, shards, score.json."""
