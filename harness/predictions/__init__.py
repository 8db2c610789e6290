"""Every on-disk form of voting.Predictions (one row per evaluated view), each format known in one module:
  jsonl.py      JSON Lines interchange, read and written (any codebase's views), and the vote's candidates.jsonl
  reference.py  the reference code's saved evaluation outputs, read into Predictions
  shards.py     the engine's npz shards: saved, loaded, merged, and read back per ACT step for reports
  puzzle_shards.py  Sudoku and maze predictions: their npz shards (and a CSV), saved, checked, read back
Below harness.infer (the engine calls shards): imports only harness.core, harness.data.encoding, voting, augment."""
