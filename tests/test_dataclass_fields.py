"""How the index marks the fields of a private dataclass from the calls that make it
(`dataclass_fields.py`)."""

from __future__ import annotations

from pathlib import Path

from conclint.analysis.project import facts_of

SOURCE = """\
import asyncio
import queue
import typing
from dataclasses import dataclass, field


@dataclass
class _State:
    text: queue.Queue
    replies: asyncio.Queue
    limit: typing.ClassVar[int] = 3
    done: asyncio.Event = field(default_factory=asyncio.Event)
    spare: queue.Queue = field(default_factory=queue.Queue)


@dataclass(frozen=True)
class _Bounded:
    text: queue.Queue


@dataclass
class _Late:
    text: queue.Queue
    extra: queue.Queue = field(init=False)


@dataclass
class _Factory:
    text: queue.Queue


@dataclass
class _Base:
    text: queue.Queue


@dataclass
class _Derived(_Base):
    more: queue.Queue


@dataclass
class Public:
    text: queue.Queue


class _Plain:
    text: queue.Queue


def make(options, maxsize):
    _State(queue.Queue(), replies=asyncio.Queue())
    _State(text=queue.Queue(0), replies=asyncio.Queue(maxsize=-1), spare=queue.Queue(4))
    _Bounded(queue.Queue(maxsize))
    _Bounded(**options)
    _Late(queue.Queue())
    _Derived(queue.Queue(), queue.Queue())
    Public(queue.Queue())
    _Plain()
    return isinstance(options, _Factory), typing.cast(_Factory, options), [_Factory]


def annotated(state: _State, other: "_Bounded") -> _State:
    return state
"""


def test_fields_are_marked_by_the_calls_that_make_them(tmp_path: Path) -> None:
    path = tmp_path / "states.py"
    path.write_text(SOURCE, encoding="utf-8")
    classes = facts_of(SOURCE, str(path)).declared.classes
    state = classes["_State"].made
    assert state["text"] == ("unbounded", "unbounded")
    assert state["replies"] == ("unbounded", "unbounded")
    # Left out: the default factory's call makes it.
    assert state["spare"] == ("unbounded", "other")
    assert "limit" not in state  # a class variable is no field
    # A capacity that is not literal, and a call that unpacks its arguments.
    assert classes["_Bounded"].made["text"] == ("other", "other")
    # Not taken by `__init__`, or its positions moved by a base's fields: not marked.
    assert classes["_Late"].made == {}
    assert classes["_Derived"].made == {}
    # Public, or no dataclass: made elsewhere, or not by arguments.
    assert classes["Public"].made == {}
    assert classes["_Plain"].made == {}
    # Named other than in a call and in tests of a type (`[_Factory]`): not known.
    assert classes["_Factory"].made == {"text": ("other",)}
