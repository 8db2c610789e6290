"""The foundation every stage stands on; imports nothing else of the project.
in:  task files (ARC JSON, Kaggle challenges/solutions, folders), settings tables, torchrun's environment
out: validated Task/TaskSet objects with content hashes (tasks, sources, grids, benchmarks), DataError
     (errors: one line, exit 1), atomic writes and the one JSON reader (io), the settings validator
     (schema), the run-directory names and records (rundir), rank/world/device (dist)."""
