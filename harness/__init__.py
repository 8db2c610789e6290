"""Wiring, I/O and the command line: task sources, validation, runs, checkpoints."""
