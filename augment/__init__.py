"""The augmentation groups: for ARC, dihedral symmetries x colour permutations fixing black; for
Sudoku, digit permutations x band/row and stack/column shuffles (x transpose for square boxes);
for mazes, the dihedral symmetries alone (`Transform(tid)`).

Pure numpy; nothing here knows about torch, files or models.
"""

from augment.dihedral import DIHEDRAL_INVERSE, DIHEDRAL_NAMES, dihedral, inverse_dihedral
from augment.sudoku import SudokuTransform, random_sudoku_transform
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
    "SudokuTransform",
    "Transform",
    "dihedral",
    "format_name",
    "inverse_dihedral",
    "parse_name",
    "random_sudoku_transform",
    "random_transform",
]
