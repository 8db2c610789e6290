"""The foundation every stage stands on; imports nothing else of the project.
in:  task files (ARC JSON, Kaggle challenges/solutions, folders; Sudoku/Maze CSV and .npy), settings
     tables, torchrun's environment, Hugging Face Hub addresses
out: validated TaskSet / PuzzleSet objects with content hashes (tasks, sources, puzzles, benchmarks),
     DataError (one line, exit 1), atomic writes and the one JSON parser (io), the settings validator
     (schema), the run-directory names and records (rundir), rank/world/device (dist), downloads (hub)."""
