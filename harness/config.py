"""Training run configuration: TOML presets in configs/, `--set key=value` overrides, validation."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import DataError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@dataclass
class DataConfig:
    """Which tasks to train on and how they are augmented.

    `subsets` are task-set specs in the order the reference processes them (it matters: it drives
    the layout RNG). A spec is `name=SET` or `SET`; `SET` may join sets with `+`. `test_set` names
    the subset whose test pairs are held out (all other pairs are trained on).
    """

    subsets: list[str] = field(default_factory=lambda: ["arc-agi-1/training", "arc-agi-1/evaluation"])
    test_set: str = "arc-agi-1/evaluation"
    num_aug: int = 1000
    seed: int = 42
    canvas: int = 30
    max_side: int = 30  # keep only tasks whose every grid fits in max_side x max_side
    translate: bool = True


@dataclass
class TrainConfig:
    global_batch_size: int = 768
    micro_batch_size: int = 0  # rows per forward on one rank; 0 = all of its share (no accumulation)
    epochs: int = 100000  # the reference's unit: one pass over the groups (tasks)
    max_steps: int = 0  # 0 = derived from epochs as the reference does
    optimizer: str = "adam_atan2"  # or "adamw"
    lr: float = 1e-4
    lr_min_ratio: float = 1.0  # cosine decay floor; 1.0 = constant after warm-up (the paper)
    lr_warmup_steps: int = 2000
    beta1: float = 0.9
    beta2: float = 0.95
    weight_decay: float = 0.1
    puzzle_emb_lr: float = 1e-2
    puzzle_emb_weight_decay: float = 0.1
    loss_type: str = "stablemax_cross_entropy"
    ema: bool = True
    ema_rate: float = 0.999
    seed: int = 0
    compile: bool = False
    workers: int = 0  # DataLoader worker processes building batches
    log_every: int = 10
    checkpoint_every: int = 1000
    keep_last: int = 3
    eval_every: int = 0  # 0 = only at the end
    eval_max_aug: int = 8  # views per task in periodic evaluation
    init_from: str = ""  # checkpoint to fine-tune from (new puzzles start at the mean embedding)
    freeze_weights_steps: int = 0  # fine-tuning: train only puzzle embeddings for this many steps
    tensorboard: bool = False
    wandb_project: str = ""


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: dict[str, Any] = field(default_factory=dict)  # TRMConfig fields (num_puzzle_identifiers, seq_len derived)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_toml(self) -> str:
        lines = []
        for section in ("data", "model", "train"):
            value = getattr(self, section)
            items = value if isinstance(value, dict) else dataclasses.asdict(value)
            lines.append(f"[{section}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in items.items()]
            lines.append("")
        return "\n".join(lines)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


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


def load_config(source: str | Path, overrides: list[str] = ()) -> RunConfig:
    """Read a preset or TOML file, apply `section.key=value` overrides, check every key and type."""
    path = resolve_preset(str(source))
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: invalid TOML: {exc}") from None
    for item in overrides:
        keys, value = _parse_override(item)
        if len(keys) != 2:
            raise DataError(f"--set {item}: expected section.key=value (sections: data, model, train)")
        raw.setdefault(keys[0], {})[keys[1]] = value
    return from_dict(raw, str(path))


def from_dict(raw: dict[str, Any], where: str) -> RunConfig:
    unknown = set(raw) - {"data", "model", "train"}
    if unknown:
        raise DataError(f"{where}: unknown section(s) {sorted(unknown)}; expected data, model, train")
    data = _section(DataConfig, raw.get("data", {}), f"{where}: [data]")
    train = _section(TrainConfig, raw.get("train", {}), f"{where}: [train]")
    from models.config import TRMConfig

    model = dict(raw.get("model", {}))
    names = {f.name for f in dataclasses.fields(TRMConfig)}
    bad = sorted(set(model) - names)
    if bad:
        raise DataError(f"{where}: [model]: unknown key(s) {bad}")
    if data.test_set not in [subset_name(s) for s in data.subsets]:
        raise DataError(f"{where}: [data] test_set {data.test_set!r} is not one of the subsets "
                        f"{[subset_name(s) for s in data.subsets]}")
    if train.checkpoint_every % train.log_every:
        raise DataError(f"{where}: [train] checkpoint_every ({train.checkpoint_every}) must be a multiple of log_every "
                        f"({train.log_every}), so that a resumed run logs the same windows")
    if train.optimizer not in ("adam_atan2", "adamw"):
        raise DataError(f"{where}: [train] optimizer must be adam_atan2 or adamw, got {train.optimizer!r}")
    return RunConfig(data, model, train)


def _section(cls, values: dict[str, Any], where: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise DataError(f"{where}: unknown key(s) {unknown}; known: {sorted(fields)}")
    defaults = cls()
    for key, value in values.items():
        expected = type(getattr(defaults, key))
        ok = isinstance(value, expected) or (expected is float and isinstance(value, int)
                                             and not isinstance(value, bool))
        if not ok or (expected is int and isinstance(value, bool)):
            raise DataError(f"{where}: {key} = {value!r} should be {expected.__name__}")
    return cls(**{k: (float(v) if type(getattr(defaults, k)) is float else v) for k, v in values.items()})


def subset_name(spec: str) -> str:
    """`name=SET` -> name; `SET` -> SET."""
    return spec.split("=", 1)[0] if "=" in spec else spec


def subset_source(spec: str) -> str:
    return spec.split("=", 1)[1] if "=" in spec else spec
