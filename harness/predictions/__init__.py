"""Every on-disk form of voting.Predictions (one row per evaluated view), each format known once:
  jsonl.py      JSON Lines interchange <-> Predictions (any codebase), and the vote's candidates out
  reference.py  the reference code's saved evaluation outputs -> Predictions (read only)
  shards.py     the engine's npz shards <-> Predictions (+ ACT steps, per-step grids), and a run's reader
Imports only harness.core, harness.data.encoding, voting and augment: never the engine that writes."""
