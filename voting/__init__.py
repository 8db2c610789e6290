"""Voting: many augmented predictions -> inverted, de-duplicated, ranked candidates -> attempts.

Pure numpy; nothing here knows about torch or files.
"""

from voting.predictions import Predictions
from voting.vote import RANKERS, Candidates, pass_at_k, vote

__all__ = ["RANKERS", "Candidates", "Predictions", "pass_at_k", "vote"]
