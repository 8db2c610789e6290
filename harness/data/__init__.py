"""What the model is fed, exactly as the reference builds it.
in:  TaskSets (harness.core), subset specs, num_aug and seed
out: the Layout (puzzle identifiers = embedding rows; which examples train, which are held out;
     layout.py, with the reference's RNG replay in reference_rng.py and duplicate detection in dedup.py),
     token sequences (encoding.py), test-time views (views.py), training batches (loader.py), and the
     reference's .npy data set (export.py); for Sudoku and maze, their tokens (puzzle_encoding.py) and
     seeded on-the-fly training batches (puzzle_loader.py)."""
