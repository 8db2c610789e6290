"""Run configuration: TOML presets in configs/, `--set key=value` overrides, and the one schema
([data], [model], [train], [predict]) that checks every key and value before any work starts."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import DataError
from harness.core.puzzles import KINDS, SUDOKU_SIDES
from harness.core.schema import read_section, setting, toml_section
from harness.data.puzzle_encoding import vocab_size
from harness.data.subsets import subset_name
from voting.halting import HaltRule

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SECTIONS = ("data", "model", "train", "predict")
MAX_CANVAS = 64  # seq_len = canvas**2; ARC grids need at most 30
MAX_NUM_AUG = 100_000  # augmentations per task; the paper uses 1,000 (876,406 identifiers, ~1.8 GB of embeddings)
# Sizes past these are typos, not models (hidden 100,000 would ask for tens of GB before failing).
MODEL_LIMITS = {
    "hidden_size": 16384,
    "num_heads": 256,
    "expansion": 64.0,
    "H_cycles": 256,
    "L_cycles": 256,
    "H_layers": 256,
    "L_layers": 256,
    "puzzle_emb_ndim": 16384,
    "puzzle_emb_len": 1024,
    "halt_max_steps": 4096,
}
LOSS_TYPES = ("stablemax_cross_entropy", "softmax_cross_entropy")
BENCHMARKS = ("arc", *KINDS)
MAZE_NUM_AUG = (0, 7)  # mazes: none, or all 8 dihedral transforms (the reference builder's --aug)


@dataclass
class DataConfig:
    """Which tasks to train on and how they are augmented.

    `subsets` are task-set specs in the order the reference processes them (it matters: it drives
    the layout RNG). A spec is `name=SET` or `SET`; `SET` may join sets with `+`. `test_set` names
    the subset whose test pairs are held out (all other pairs are trained on).
    """

    subsets: list[str] = setting(["arc-agi-1/training", "arc-agi-1/evaluation"])
    test_set: str = "arc-agi-1/evaluation"
    num_aug: int = setting(1000, low=0, high=MAX_NUM_AUG)
    seed: int = setting(42, low=0, high=2**32 - 1)
    canvas: int = setting(30, low=1, high=MAX_CANVAS)
    max_side: int = setting(30, low=1, high=30)  # keep only tasks whose every grid fits in max_side x max_side
    translate: bool = True
    # Which benchmark: arc uses the fields above; a sudoku or maze run uses these (canvas = the grid's side,
    # num_aug = augmentations per puzzle drawn on the fly, seed = of the subsample and augmentations).
    benchmark: str = setting("arc", choices=BENCHMARKS)
    train_set: str = ""  # puzzle set trained on: built-in name, CSV, or a reference .npy split folder
    eval_set: str = ""  # held-out puzzle set: evaluated during training (eval_every) and after
    subsample: int = setting(0, low=0)  # train on this many puzzles of train_set, drawn with `seed` (0: all)


@dataclass
class TrainConfig:
    global_batch_size: int = setting(768, low=1)
    micro_batch_size: int = setting(0, low=0)  # rows per forward on one rank; 0 = all of its share
    epochs: int = setting(100000, low=1)  # the reference's unit: one pass over the groups (tasks)
    max_steps: int = setting(0, low=0)  # 0 = derived from epochs as the reference does
    optimizer: str = setting("adam_atan2", choices=("adam_atan2", "adamw"))
    lr: float = setting(1e-4, low=0.0)
    lr_min_ratio: float = setting(1.0, low=0.0, high=1.0)  # cosine decay floor; 1.0 = constant after warm-up
    lr_warmup_steps: int = setting(2000, low=0)
    beta1: float = setting(0.9, low=0.0, high=1.0)
    beta2: float = setting(0.95, low=0.0, high=1.0)
    weight_decay: float = setting(0.1, low=0.0)
    puzzle_emb_lr: float = setting(1e-2, low=0.0)
    puzzle_emb_weight_decay: float = setting(0.1, low=0.0)
    loss_type: str = setting("stablemax_cross_entropy", choices=LOSS_TYPES)
    ema: bool = True
    ema_rate: float = setting(0.999, low=0.0, high=1.0)
    seed: int = setting(0, low=0, high=2**32 - 1)
    compile: bool = False
    workers: int = setting(0, low=0, high=256)  # DataLoader worker processes building batches
    log_every: int = setting(10, low=1)
    checkpoint_every: int = setting(1000, low=1)
    keep_last: int = setting(3, low=1)
    eval_every: int = setting(0, low=0)  # 0 = only at the end
    eval_max_aug: int = setting(8, low=1)  # views per task in periodic evaluation
    init_from: str = ""  # checkpoint to fine-tune from (new puzzles start at the mean embedding)
    freeze_weights_steps: int = setting(0, low=0)  # fine-tuning: train only puzzle embeddings this long
    tensorboard: bool = False
    wandb_project: str = ""


def _halt_problem(spec: str) -> str | None:
    """What is wrong with a halting-rule spec (voting.halting's grammar), or None."""
    try:
        HaltRule.parse(spec)
    except ValueError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class EngineConfig:
    """[predict]: how the inference engine runs views (also the `predict`/`evaluate` options)."""

    batch_size: int = setting(256, low=1)
    steps: int | None = setting(None, low=1)  # None: the model's halt_max_steps
    # A halting rule run live (voting.halting): fixed (every step, the reference), q[:t], stable[:k],
    # converged[:tol], entropy[:k[:tol]]; a stopped row's batch slot takes the next row at once.
    halt: str = setting("fixed", check=_halt_problem)
    threshold: float = 0.0  # `q` without a parameter: stop when the q_halt logit exceeds this
    restarts: int = setting(1, low=1, high=1024)  # starts per view: 0 = H_init/L_init, r > 0 = + noise x N(0, 1)
    noise: float = setting(0.1, low=0.0)  # scale of the restart noise
    chunk_size: int = setting(4096, low=1)  # views per shard on disk
    record_steps: bool = False  # fixed mode: also keep every ACT step's prediction
    compile: bool = False  # torch.compile the block stack (worth it on GPUs for long runs)

    def rule(self) -> HaltRule:
        """The halting rule; a bare `q` takes `threshold` (as before rules had parameters)."""
        rule = HaltRule.parse(self.halt)
        return HaltRule("q", (self.threshold,)) if self.halt.strip() == "q" else rule

    def restart_key(self, seed: int) -> str:
        """What restarts add to a shard's settings ("" with one start, whose results the seed cannot move)."""
        return "" if self.restarts == 1 else f" restarts={self.restarts} noise={self.noise!r} seed={seed}"


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: dict[str, Any] = field(default_factory=dict)  # model config fields (num_puzzle_identifiers, seq_len derived)
    train: TrainConfig = field(default_factory=TrainConfig)
    predict: EngineConfig = field(default_factory=EngineConfig)

    def to_toml(self) -> str:
        lines = toml_section("data", dataclasses.asdict(self.data)) + toml_section("model", self.model)
        lines += toml_section("train", dataclasses.asdict(self.train))
        lines += toml_section("predict", dataclasses.asdict(self.predict))
        return "\n".join(lines)


def resolve_preset(name: str) -> Path:
    """A preset name (configs/<name>.toml) or a path to a TOML file."""
    path = Path(name)
    if path.suffix == ".toml" and path.exists():
        return path
    preset = CONFIGS / f"{name}.toml"
    if preset.exists():
        return preset
    known = ", ".join(sorted(p.stem for p in CONFIGS.glob("*.toml")))
    raise DataError(f"{name}: no such config file or preset (presets: {known})")


def _parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise DataError(f"--set {item}: expected section.key=value, e.g. train.lr=3e-4")
    key, raw = item.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare string
    return key.strip().split("."), value


def load_config(source: str | Path, overrides: Sequence[str] = ()) -> RunConfig:
    """Read a preset or TOML file, apply `section.key=value` overrides, check every key and type."""
    path = resolve_preset(str(source))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    for item in overrides:
        keys, value = _parse_override(item)
        if len(keys) != 2:
            raise DataError(f"--set {item}: expected section.key=value (sections: {', '.join(SECTIONS)})")
        raw.setdefault(keys[0], {})[keys[1]] = value
    return from_dict(raw, str(path))


def from_dict(raw: dict[str, Any], where: str) -> RunConfig:
    """Check every section, key and value of a parsed config; one DataError names the first problem."""
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise DataError(f"{where}: unknown section(s) {unknown}; expected {', '.join(SECTIONS)}")
    data = read_section(DataConfig, raw.get("data", {}), f"{where}: [data]")
    train = read_section(TrainConfig, raw.get("train", {}), f"{where}: [train]")
    predict = read_section(EngineConfig, raw.get("predict", {}), f"{where}: [predict]")
    model = _model_section(raw.get("model", {}), data, f"{where}: [model]")
    if data.benchmark != "arc":
        _check_puzzle_data(data, f"{where}: [data]")
    elif data.test_set not in [subset_name(s) for s in data.subsets]:
        raise DataError(
            f"{where}: [data] test_set {data.test_set!r} is not one of the subsets "
            f"{[subset_name(s) for s in data.subsets]}"
        )
    elif data.max_side > data.canvas:
        raise DataError(
            f"{where}: [data] max_side ({data.max_side}) must not exceed canvas ({data.canvas}): "
            f"a grid must fit on the canvas"
        )
    elif data.train_set or data.eval_set or data.subsample:
        raise DataError(
            f"{where}: [data] train_set, eval_set and subsample are for sudoku and maze runs; "
            f"an ARC run trains on its subsets"
        )
    if train.checkpoint_every % train.log_every:
        raise DataError(
            f"{where}: [train] checkpoint_every ({train.checkpoint_every}) must be a multiple of log_every "
            f"({train.log_every}), so that a resumed run logs the same windows"
        )
    return RunConfig(data, model, train, predict)


def _check_puzzle_data(data: DataConfig, where: str) -> None:
    """A sudoku or maze run names both sets, a side its kind has, and an augmentation its kind can draw."""
    if not data.train_set or not data.eval_set:
        raise DataError(f"{where}: a {data.benchmark} run needs train_set and eval_set (puzzle-set specs)")
    if data.benchmark == "sudoku" and data.canvas not in SUDOKU_SIDES:
        raise DataError(f"{where}: canvas = {data.canvas} is the Sudoku's side; one of {SUDOKU_SIDES}")
    if data.benchmark == "maze" and data.canvas < 5:
        raise DataError(f"{where}: canvas = {data.canvas} is the maze's side; at least 5")
    if data.benchmark == "maze" and data.num_aug not in MAZE_NUM_AUG:
        raise DataError(
            f"{where}: num_aug = {data.num_aug}: a maze run takes 0 (no augmentation, the reference "
            f"builder's default) or 7 (all 8 dihedral transforms, its --aug)"
        )


def puzzle_vocab(data: DataConfig) -> dict[str, int]:
    """The model fields a sudoku or maze run derives from its data ({} for ARC): the vocabulary."""
    if data.benchmark == "arc":
        return {}
    return {"vocab_size": vocab_size("maze" if data.benchmark == "maze" else "sudoku", data.canvas)}


def _model_section(values: Any, data: DataConfig, where: str) -> dict[str, Any]:
    """The [model] table as given, checked by building its family's config class (`family`, default
    trm) with the fields the run derives (seq_len from the canvas, one puzzle identifier) filled in."""
    from models import FAMILIES

    if not isinstance(values, dict):
        raise DataError(f"{where}: should be a table of key = value settings")
    model = dict(values)
    family = model.get("family", "trm")
    if family not in FAMILIES:
        raise DataError(f"{where}: family = {family!r} must be one of {', '.join(map(repr, FAMILIES))}")
    config_class = FAMILIES[family].config_class
    names = {f.name for f in dataclasses.fields(config_class)} | {"family"}
    bad = sorted(set(model) - names)
    if bad:
        raise DataError(f"{where}: unknown key(s) {bad} for family {family}")
    derived = sorted({"num_puzzle_identifiers", "seq_len", *puzzle_vocab(data)} & set(model))
    if derived:
        raise DataError(f"{where}: {', '.join(derived)} are derived from the layout and canvas; remove them")
    fields = {k: v for k, v in model.items() if k != "family"}
    for key, limit in MODEL_LIMITS.items():
        value = fields.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > limit:
            raise DataError(f"{where}: {key} = {value!r} is out of range (at most {limit})")
    try:
        config_class.from_dict({**fields, "num_puzzle_identifiers": 1, "seq_len": data.canvas**2, **puzzle_vocab(data)})
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: {exc}") from None
    return model
