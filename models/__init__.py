"""TRM in PyTorch: configuration, network, ACT wrapper, loss, reference state-dict import.

Knows nothing about files or ARC JSON; harness/ wires it to disk.
"""

from models.config import TRMConfig
from models.loss import act_loss
from models.trm import TRM, Carry

__all__ = ["TRM", "Carry", "TRMConfig", "act_loss"]
