"""The augmentation group: dihedral symmetries x colour permutations fixing black.

Pure numpy; nothing here knows about torch, files or models.
"""

from augment.dihedral import DIHEDRAL_INVERSE, DIHEDRAL_NAMES, dihedral, inverse_dihedral
from augment.transform import (
    IDENTITY,
    Transform,
    format_name,
    parse_name,
    random_transform,
)

__all__ = [
    "DIHEDRAL_INVERSE",
    "DIHEDRAL_NAMES",
    "IDENTITY",
    "Transform",
    "dihedral",
    "format_name",
    "inverse_dihedral",
    "parse_name",
    "random_transform",
]
