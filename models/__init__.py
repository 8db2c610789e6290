"""TRM and HRM in PyTorch: configurations, networks, ACT wrapper, loss, reference state-dict import.

Knows nothing about files or ARC JSON; harness/ wires it to disk.
"""

from models.config import HRMConfig, TRMConfig
from models.core import ACTModel, Carry, ModelConfig
from models.families import (
    FAMILIES,
    ModelFamily,
    config_from_reference,
    family_for_arch,
    family_of,
    family_of_reference,
)
from models.hrm import HRM
from models.loss import act_loss
from models.trm import TRM

__all__ = [
    "FAMILIES",
    "HRM",
    "TRM",
    "ACTModel",
    "Carry",
    "HRMConfig",
    "ModelConfig",
    "ModelFamily",
    "TRMConfig",
    "act_loss",
    "config_from_reference",
    "family_for_arch",
    "family_of",
    "family_of_reference",
]
