"""Options that rules and the model declare: their `[tool.conclint]` key, how the key is
checked, and the default. The configuration reads every declared option (`config.py`
asks the registry), and a rule reads its own through `Settings.option`."""

from __future__ import annotations

from dataclasses import dataclass

OptionValue = bool | tuple[str, ...]


@dataclass(frozen=True)
class Option:
    key: str  # in `[tool.conclint]`
    kind: str  # how the configuration checks a value: "bool", "identifiers"
    default: OptionValue
    help: str  # one line, for `--show-settings` readers and the docs
