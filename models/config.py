"""Model hyper-parameters (TRM and HRM), readable from the reference code's config.json."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

POS_ENCODINGS = ("rope", "learned", "none")
FORWARD_DTYPES = ("float32", "bfloat16")


class _ConfigMixin:
    """What TRMConfig and HRMConfig share: (de)serialisation and the common checks.

    A mixin without fields, so each family's dataclass keeps its own field order (and so its
    `to_dict()` output) independent of the other's.
    """

    # Keys the reference config class requires (it has no default for them).
    _REFERENCE_REQUIRED: ClassVar[tuple[str, ...]] = ()
    # Defaults of the reference config class, which differ from ours (ours are the paper's recipe).
    _REFERENCE_DEFAULTS: ClassVar[dict[str, Any]] = {}
    # Integer fields that must be at least 1.
    _POSITIVE: ClassVar[tuple[str, ...]] = ()

    if TYPE_CHECKING:  # fields every family's dataclass defines
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
        seq_len: int
        hidden_size: int
        num_heads: int
        pos_encodings: str
        forward_dtype: str
        halt_exploration_prob: float
        expansion: float
        rope_theta: float
        rms_norm_eps: float

        @property
        def puzzle_positions(self) -> int: ...

    def _check_common(self) -> None:
        if self.pos_encodings not in POS_ENCODINGS:
            raise ValueError(f"pos_encodings must be one of {POS_ENCODINGS}, got {self.pos_encodings!r}")
        if self.forward_dtype not in FORWARD_DTYPES:
            raise ValueError(f"forward_dtype must be one of {FORWARD_DTYPES}, got {self.forward_dtype!r}")
        for name in self._POSITIVE:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size {self.hidden_size} is not divisible by num_heads {self.num_heads}")
        for name in ("expansion", "rope_theta", "rms_norm_eps"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")

    def _check_halting(self) -> None:
        if not 0.0 <= self.halt_exploration_prob <= 1.0:
            raise ValueError(f"halt_exploration_prob must be in [0, 1], got {self.halt_exploration_prob}")

    @property
    def total_len(self) -> int:
        """Length of the hidden state: puzzle positions followed by the token positions."""
        return self.seq_len + self.puzzle_positions

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build from `to_dict()` output; unknown keys are an error (they signal a format mismatch)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**_coerce(cls, data))

    @classmethod
    def from_reference(cls, data: dict[str, Any]) -> Self:
        """Build from a reference config (flat, or with the architecture nested under `arch`).

        Keys that are not architecture (loss_type, batch_size, data paths, ...) are ignored;
        optional keys missing from `data` take the reference's defaults, not ours.
        """
        fields = dict(data)
        if isinstance(data.get("arch"), dict):
            fields.update(data["arch"])
        missing = [k for k in cls._REFERENCE_REQUIRED if k not in fields]
        if missing:
            raise ValueError(f"reference config lacks required keys: {', '.join(missing)}")
        names = {f.name for f in dataclasses.fields(cls)}
        values = {**cls._REFERENCE_DEFAULTS, **{k: v for k, v in fields.items() if k in names}}
        return cls(**_coerce(cls, values))


@dataclass(frozen=True)
class TRMConfig(_ConfigMixin):
    """Architecture of one TRM; defaults are the paper's ARC-AGI configuration.

    Field names follow the reference so configs translate one to one.
    `puzzle_emb_len` 0 means "as many positions as the puzzle embedding needs".
    """

    _REFERENCE_REQUIRED: ClassVar[tuple[str, ...]] = (
        "seq_len",
        "num_puzzle_identifiers",
        "vocab_size",
        "H_cycles",
        "L_cycles",
        "L_layers",
        "hidden_size",
        "expansion",
        "num_heads",
        "pos_encodings",
        "halt_max_steps",
        "halt_exploration_prob",
    )
    _REFERENCE_DEFAULTS: ClassVar[dict[str, Any]] = {
        "H_layers": 0,
        "puzzle_emb_ndim": 0,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "forward_dtype": "bfloat16",
        "mlp_t": False,
        "puzzle_emb_len": 16,
        "no_ACT_continue": True,
    }
    _POSITIVE: ClassVar[tuple[str, ...]] = (
        "num_puzzle_identifiers",
        "vocab_size",
        "seq_len",
        "hidden_size",
        "num_heads",
        "H_cycles",
        "L_cycles",
        "L_layers",
        "halt_max_steps",
    )

    num_puzzle_identifiers: int = 1
    vocab_size: int = 12
    seq_len: int = 900
    hidden_size: int = 512
    num_heads: int = 8
    expansion: float = 4.0
    H_cycles: int = 3
    L_cycles: int = 4
    L_layers: int = 2
    H_layers: int = 0  # accepted for compatibility; TRM has a single block stack
    puzzle_emb_ndim: int = 512
    puzzle_emb_len: int = 16
    pos_encodings: str = "rope"
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    halt_max_steps: int = 16
    halt_exploration_prob: float = 0.1
    forward_dtype: str = "bfloat16"
    mlp_t: bool = False
    no_ACT_continue: bool = True
    causal: bool = False

    def __post_init__(self) -> None:
        self._check_common()
        if self.puzzle_emb_ndim < 0 or self.puzzle_emb_len < 0:
            raise ValueError("puzzle_emb_ndim and puzzle_emb_len must be >= 0")
        if self.puzzle_emb_ndim == 0 and self.puzzle_emb_len:
            # The reference would build a carry longer than the embedded sequence and fail.
            raise ValueError("puzzle_emb_len must be 0 when puzzle_emb_ndim is 0")
        if self.puzzle_emb_ndim > self.puzzle_positions * self.hidden_size:
            raise ValueError(
                f"puzzle_emb_ndim {self.puzzle_emb_ndim} does not fit in {self.puzzle_positions} positions"
                f" of hidden_size {self.hidden_size}"
            )
        self._check_halting()

    @property
    def puzzle_positions(self) -> int:
        """Sequence positions taken by the puzzle embedding (puzzle_emb_len, or derived when 0)."""
        if self.puzzle_emb_len:
            return self.puzzle_emb_len
        return math.ceil(self.puzzle_emb_ndim / self.hidden_size)


@dataclass(frozen=True)
class HRMConfig(_ConfigMixin):
    """Architecture of one HRM (reference `hrm_act_v1`); defaults are the paper's ARC configuration.

    Unlike TRM there is no puzzle_emb_len (the puzzle embedding always takes
    ceil(puzzle_emb_ndim / hidden_size) positions) and no switch for the Q-continue target:
    HRM always halts on q_halt > q_continue and always learns q_continue.
    """

    _REFERENCE_REQUIRED: ClassVar[tuple[str, ...]] = (
        "seq_len",
        "num_puzzle_identifiers",
        "vocab_size",
        "H_cycles",
        "L_cycles",
        "H_layers",
        "L_layers",
        "hidden_size",
        "expansion",
        "num_heads",
        "pos_encodings",
        "halt_max_steps",
        "halt_exploration_prob",
    )
    _REFERENCE_DEFAULTS: ClassVar[dict[str, Any]] = {
        "puzzle_emb_ndim": 0,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "forward_dtype": "bfloat16",
        "mlp_t": False,
    }
    _POSITIVE: ClassVar[tuple[str, ...]] = (
        "num_puzzle_identifiers",
        "vocab_size",
        "seq_len",
        "hidden_size",
        "num_heads",
        "H_cycles",
        "L_cycles",
        "H_layers",
        "L_layers",
        "halt_max_steps",
    )
    # Fixed in the reference HRM, read by the shared blocks and ACT wrapper (not fields: not configurable).
    causal: ClassVar[bool] = False
    no_ACT_continue: ClassVar[bool] = False

    num_puzzle_identifiers: int = 1
    vocab_size: int = 12
    seq_len: int = 900
    hidden_size: int = 512
    num_heads: int = 8
    expansion: float = 4.0
    H_cycles: int = 2
    L_cycles: int = 2
    H_layers: int = 4
    L_layers: int = 4
    puzzle_emb_ndim: int = 512
    pos_encodings: str = "rope"
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    halt_max_steps: int = 16
    halt_exploration_prob: float = 0.1
    forward_dtype: str = "bfloat16"
    mlp_t: bool = False

    def __post_init__(self) -> None:
        self._check_common()
        if self.puzzle_emb_ndim < 0:
            raise ValueError(f"puzzle_emb_ndim must be >= 0, got {self.puzzle_emb_ndim}")
        self._check_halting()

    @property
    def puzzle_positions(self) -> int:
        """Sequence positions taken by the puzzle embedding: ceil(puzzle_emb_ndim / hidden_size)."""
        return math.ceil(self.puzzle_emb_ndim / self.hidden_size)


def _coerce(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """Give every value its field's type, so JSON ints/floats/bools compare and hash consistently."""
    out = dict(values)
    for f in dataclasses.fields(cls):
        if f.name not in out:
            continue
        value = out[f.name]
        if f.type == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{f.name} must be true or false, got {value!r}")
        elif f.type == "int":
            if isinstance(value, bool) or int(value) != value:
                raise ValueError(f"{f.name} must be an integer, got {value!r}")
            out[f.name] = int(value)
        elif f.type == "float":
            if isinstance(value, bool) or not math.isfinite(float(value)):
                raise ValueError(f"{f.name} must be a finite number, got {value!r}")
            out[f.name] = float(value)
        else:
            out[f.name] = str(value)
    return out
