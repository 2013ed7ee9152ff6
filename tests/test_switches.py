"""Attributes a constructor argument switches on (`switches.py`): what the index records
of `__init__` and of the calls that make instances, and what the model concludes."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from conclint.analysis import switches
from conclint.analysis.catalog import SHIPPED
from conclint.analysis.declared import from_json, to_json
from conclint.analysis.project import ProjectIndex
from conclint.analysis.types import ProjectTypes
from tests.conftest import app_module_facts

REGISTRY = """\
import threading


class Registry:
    def __init__(self, use_lock=False, *, strict=True, label=""):
        self._lock = threading.Lock() if use_lock else None
        self._strict_lock = None if not strict else threading.Lock()
        self._label_lock = threading.Lock() if label else None
        self._either = threading.Lock() if use_lock else threading.RLock()
        self._guess = threading.Lock() if self.wanted() else None

    def wanted(self):
        return True


class Rebinding:
    def __init__(self, use_lock=False):
        use_lock = use_lock or True
        self._lock = threading.Lock() if use_lock else None


class Relocking(Registry):
    def share(self):
        self._lock = threading.Lock()


class Reinit(Registry):
    def __init__(self):
        super().__init__(use_lock=True)
"""

OWNER = """\
from .registry import Registry, Relocking, Reinit


class Owner:
    def __init__(self, flag):
        self.plain = Registry()
        self.keyword_off = Registry(use_lock=False)
        self.positional_off = Registry(0, strict=False)
        self.keyword_on = Registry(use_lock=True)
        self.unknown = Registry(use_lock=flag)
        self.unpacked = Registry(**{"use_lock": False})
        self.twice = Registry()
        self.relocking = Relocking()
        self.reinit = Reinit()

    def reset(self):
        self.twice = Registry(use_lock=True)
"""


@pytest.fixture
def model(tmp_path: Path) -> ProjectTypes:
    modules = [
        ("app.registry", app_module_facts(tmp_path, "registry", REGISTRY)),
        ("app.owner", app_module_facts(tmp_path, "owner", OWNER)),
    ]
    return ProjectIndex.from_facts(modules).types(SHIPPED)


def test_the_index_records_switches_of_init_on_its_parameters(tmp_path: Path) -> None:
    classes = app_module_facts(tmp_path, "registry", REGISTRY).declared.classes
    assert classes["Registry"].switches == {
        "_lock": ("use_lock", "0", "off"),
        "_strict_lock": ("strict", "*", "on"),
        "_label_lock": ("label", "*", "off"),
    }
    # A parameter rebound first, and an attribute another method assigns, switch nothing.
    assert classes["Rebinding"].switches == {}
    assert classes["Relocking"].switches == {}


def test_switches_survive_the_cache(tmp_path: Path) -> None:
    declared = app_module_facts(tmp_path, "registry", REGISTRY).declared
    again = from_json(json.loads(json.dumps(to_json(declared))))
    assert again.classes["Registry"].switches == declared.classes["Registry"].switches


@pytest.mark.parametrize(
    ("call", "off"),
    [
        ("Registry()", True),
        ("Registry(use_lock=False)", True),
        ("Registry(None, strict=True)", True),
        ("Registry(1)", False),
        ("Registry(use_lock=True)", False),
        ("Registry(use_lock=flag)", False),
        ("Registry(flag)", False),
        ("Registry(*args)", False),
        ("Registry(**options)", False),
    ],
)
def test_a_call_leaves_a_switch_off(call: str, off: bool) -> None:
    made = ast.parse(call, mode="eval").body
    assert isinstance(made, ast.Call)
    mark = switches.arguments(made)
    assert switches.is_off(("use_lock", "0", "off"), [mark] if mark else []) is off


@pytest.mark.parametrize(
    ("call", "on"),
    [
        ("Registry(use_lock=True)", True),
        ("Registry(1)", True),
        ("Registry('yes')", True),
        ("Registry()", False),
        ("Registry(use_lock=False)", False),
        ("Registry(use_lock=flag)", False),
        ("Registry(b'yes')", False),
        ("Registry(*args)", False),
    ],
)
def test_a_call_turns_a_switch_on(call: str, on: bool) -> None:
    mark = switches.arguments(_call(call))
    assert switches.is_on(("use_lock", "0", "off"), [mark] if mark else []) is on


def test_a_switch_with_a_true_default_is_on_unless_passed() -> None:
    strict = ("strict", "*", "on")
    assert switches.is_on(strict, [switches.arguments(_call("Registry()")) or ""])
    assert not switches.is_on(strict, [switches.arguments(_call("Registry(strict=0)")) or ""])
    assert not switches.is_off(strict, [switches.arguments(_call("Registry()")) or ""])


def test_a_switch_without_a_false_default_is_off_only_when_passed_false() -> None:
    strict = ("strict", "*", "on")
    assert not switches.is_off(strict, [switches.arguments(_call("Registry()")) or ""])
    assert switches.is_off(strict, [switches.arguments(_call("Registry(strict=0)")) or ""])
    # Every call that made the instance must leave it off.
    marks = [switches.arguments(_call(c)) or "" for c in ("Registry(strict=0)", "Registry()")]
    assert not switches.is_off(strict, marks)
    assert not switches.is_off(strict, [])


def _call(text: str) -> ast.Call:
    made = ast.parse(text, mode="eval").body
    assert isinstance(made, ast.Call)
    return made


def test_the_model_knows_which_attributes_an_instance_holds_none_in(model: ProjectTypes) -> None:
    registry = "app.registry.Registry"
    off = {"_lock", "_label_lock"}
    assert model.switched_off("app.owner.Owner", "plain", registry) == off
    assert model.switched_off("app.owner.Owner", "keyword_off", registry) == off
    assert model.switched_off("app.owner.Owner", "positional_off", registry) == {
        "_lock",
        "_strict_lock",
        "_label_lock",
    }
    assert model.switched_off("app.owner.Owner", "keyword_on", registry) == {"_label_lock"}
    assert model.switched_off("app.owner.Owner", "unknown", registry) == {"_label_lock"}
    assert model.switched_off("app.owner.Owner", "unpacked", registry) == set()
    # Made twice, once with the lock.
    assert model.switched_off("app.owner.Owner", "twice", registry) == {"_label_lock"}
    # A subclass that assigns the attribute itself, or whose own `__init__` runs instead.
    relocking = model.switched_off("app.owner.Owner", "relocking", "app.registry.Relocking")
    assert "_lock" not in relocking
    assert model.switched_off("app.owner.Owner", "reinit", "app.registry.Reinit") == set()
