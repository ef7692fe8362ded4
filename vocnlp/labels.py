"""Label sets (task, labels, Japanese names, descriptions, examples) read from YAML in configs/."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ConfigError


@dataclass(frozen=True)
class Label:
    name: str
    ja: str
    description: str
    examples: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LabelSet:
    task: str
    multi_label: bool
    labels: tuple[Label, ...]

    @property
    def names(self) -> list[str]:
        return [lab.name for lab in self.labels]


def load_label_set(path: Path) -> LabelSet:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        labels = tuple(Label(str(x["name"]), str(x.get("ja", x["name"])), str(x.get("description", "")),
                             tuple(str(e) for e in x.get("examples", []) or [])) for x in data["labels"])
        ls = LabelSet(str(data.get("task", Path(path).stem)), bool(data.get("multi_label", False)), labels)
    except (OSError, KeyError, TypeError, yaml.YAMLError) as err:
        raise ConfigError(f"label file '{path}' is invalid ({err.__class__.__name__}: {err}).",
                          fix="each label needs at least 'name' (see vocnlp/resources/labels/cx_dimension.yaml).") from None
    if len(set(ls.names)) != len(ls.names) or not ls.names:
        raise ConfigError(f"label file '{path}' has no labels or a repeated label name.", fix="give each label a unique name.")
    if any("|" in n for n in ls.names):
        raise ConfigError(f"label names in '{path}' may not contain '|'.", fix="rename the label.")
    return ls
