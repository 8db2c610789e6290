"""`python -m harness.cli` (how torchrun starts a command on every rank)."""

import sys

from harness.cli.main import main

sys.exit(main())
