"""`python -m harness.cli` (how torchrun starts a command on every rank)."""

from harness.cli.main import main

main()
