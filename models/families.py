"""The model families the harness can build, train and evaluate: TRM and HRM.

Both offer the same interface (models.core.ACTModel); a family ties a config class to its model
class and says how to recognise it in a reference config and how much compute a step costs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from models.config import HRMConfig, TRMConfig
from models.core import ACTModel, ModelConfig
from models.hrm import HRM
from models.trm import TRM


@dataclass(frozen=True)
class ModelFamily:
    """One model family. `nfe_per_step(config)`: block applications in one ACT step (forward)."""

    name: str
    config_class: type[ModelConfig]
    model_class: type[ACTModel]
    nfe_per_step: Callable[[Any], int]
    reference_arch: str  # the reference model class name contains this
    reference_modules: tuple[str, ...]  # modules defining that network (`module@Class` in their configs)

    def build(self, config: ModelConfig) -> ACTModel:
        """A freshly initialised model (seeded by the caller)."""
        return self.model_class(config)


def _trm_nfe(config: TRMConfig) -> int:
    # Each H cycle: L_cycles z_L updates and one z_H update, all through the same L_layers blocks.
    return config.H_cycles * (config.L_cycles + 1) * config.L_layers


def _hrm_nfe(config: HRMConfig) -> int:
    # Each H cycle: L_cycles passes of L_level, one pass of H_level.
    return config.H_cycles * (config.L_cycles * config.L_layers + config.H_layers)


FAMILIES: dict[str, ModelFamily] = {
    "trm": ModelFamily("trm", TRMConfig, TRM, _trm_nfe, "TinyRecursiveReasoningModel", ("recursive_reasoning.trm",)),
    # HRM as the TRM reference code carries it, and as sapientinc/HRM (its origin) names it.
    "hrm": ModelFamily(
        "hrm", HRMConfig, HRM, _hrm_nfe, "HierarchicalReasoningModel", ("recursive_reasoning.hrm", "hrm.hrm_act_v1")
    ),
}


def family_of(config: ModelConfig) -> ModelFamily:
    """The family a config belongs to (by its exact class)."""
    for family in FAMILIES.values():
        if type(config) is family.config_class:
            return family
    raise ValueError(f"no model family for config type {type(config).__name__}")


def family_for_arch(arch: str) -> ModelFamily:
    """The family of a reference arch name: a class name (`HierarchicalReasoningModel_ACTV1`) or
    the `module@Class` form of its hydra configs (TRM reference or sapientinc/HRM). Reference variants
    living in other modules (trm_hier6, trm_singlez, ...) have other networks under the same class
    name: refused."""
    module, _, class_name = arch.rpartition("@")
    for family in FAMILIES.values():
        if family.reference_arch in class_name:
            if module and module not in family.reference_modules:
                raise ValueError(f"reference arch {arch!r} is a variant that {family.name} does not implement")
            return family
    known = ", ".join(f.reference_arch for f in FAMILIES.values())
    raise ValueError(f"unknown reference arch {arch!r}; known: {known}")


def family_of_reference(data: dict[str, Any], state_keys: Iterable[str] = ()) -> ModelFamily:
    """The family of a reference config: `arch` as a name or as a mapping with `name`.

    A config that names no arch is taken as TRM, the only family this harness read before, unless
    `state_keys` (its checkpoint's state-dict keys) hold HRM's second block stack, H_level.
    """
    arch = data.get("arch")
    if isinstance(arch, dict):
        arch = arch.get("name")
    if arch is None:
        return FAMILIES["hrm" if any(".H_level." in key for key in state_keys) else "trm"]
    if not isinstance(arch, str):
        raise ValueError(f"reference config arch must be a name, got {arch!r}")
    return family_for_arch(arch)


def config_from_reference(data: dict[str, Any], state_keys: Iterable[str] = ()) -> ModelConfig:
    """A reference config read by its own family's config class (see family_of_reference)."""
    return family_of_reference(data, state_keys).config_class.from_reference(data)
