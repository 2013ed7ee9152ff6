"""The "What it knows" lists of the rule pages name what the catalog holds, and all of it.

The convention: at the end of `## What it does`, a `### What it knows` heading,
then one bullet per list, which may run on over indented lines:

    - Kinds with trait `lock`: `asyncio.Lock`, `threading.Lock`, ...
    - Kinds with a method of role `task-done`: `asyncio.Queue`, ...
    - Methods with role `close`: `asyncio.Queue.shutdown`, ...
    - Functions with role `spawn`: `asyncio.create_task`, ...
    - Names with role `cancellation`: `asyncio.CancelledError`, `BaseException`, ...

Names are in backticks, dotted as the catalog has them; a name without a dot is a
builtin (`open` is `builtins.open`). A kind may be named by a class, factory or
annotation that makes it (`threading.Timer` for `threading.Thread`), a method as
`Kind.method` or `Class.method`. Every name must be in the catalog with that role
or trait, and every entry of the catalog with it must be named, unless the bullet
says `, for example` before its colon. Other lines of the section are prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from conclint import registry
from conclint.catalog import Catalog, load
from conclint.pages import page, section

HEADING = "### What it knows"
_BULLET = re.compile(
    r"(?P<what>Kinds|Methods|Functions|Names) with (?P<by>trait|role|a method of role) "
    r"`(?P<word>[a-z-]+)`(?P<partial>, for example)?: (?P<names>.+)",
    re.DOTALL,
)
_NAME = re.compile(r"`([^`]+)`")
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# What may stand between the names of a list.
_SEPARATORS = re.compile(r"[\s,.;]|\band\b|\bor\b")

# The lists each page must hold: the catalog entries its rule asks for, as
# (what, by, role or trait). CCL601 and CCL604 are kept by the blocking-call work.
USES: dict[str, set[tuple[str, str, str]]] = {
    "CCL101": {
        ("Functions", "role", "spawn"),
        ("Functions", "role", "paces"),
        ("Functions", "role", "keeps-futures"),
        ("Kinds", "trait", "future"),
    },
    "CCL102": {("Functions", "role", "coroutine"), ("Methods", "role", "coroutine")},
    "CCL103": {("Kinds", "trait", "thread"), ("Functions", "role", "cancel-settles")},
    "CCL104": {("Kinds", "trait", "executor"), ("Methods", "role", "shutdown")},
    "CCL107": {("Functions", "role", "group-first")},
    "CCL108": {
        ("Functions", "role", "startable"),
        ("Kinds", "a method of role", "waits-started"),
        ("Kinds", "a method of role", "started"),
        ("Functions", "role", "generator-context"),
    },
    "CCL109": {("Kinds", "a method of role", "started")},
    "CCL203": {
        ("Names", "role", "cancellation"),
        ("Names", "role", "runner-cancellation"),
        ("Kinds", "trait", "cancellation-class"),
        ("Functions", "role", "checkpoint"),
    },
    "CCL204": {("Functions", "role", "no-cleanup"), ("Methods", "role", "no-cleanup")},
    "CCL301": {("Methods", "role", "close"), ("Functions", "role", "closes-fd")},
    "CCL302": {("Methods", "role", "send"), ("Methods", "role", "close")},
    "CCL401": {("Kinds", "a method of role", "task-done")},
    "CCL402": {("Kinds", "a method of role", "task-done")},
    "CCL403": {("Kinds", "trait", "lock")},
    "CCL404": {("Kinds", "trait", "condition")},
    "CCL405": {("Kinds", "trait", "release-unbounded")},
    "CCL406": {("Kinds", "trait", "lock"), ("Kinds", "trait", "wraps-lock")},
    "CCL501": {("Methods", "role", "fill"), ("Methods", "role", "take")},
    "CCL502": {
        ("Functions", "role", "spawn"),
        ("Methods", "role", "spawn"),
        ("Kinds", "a method of role", "starts"),
        ("Kinds", "trait", "limiter"),
    },
    "CCL601": {("Functions", "role", "blocking"), ("Methods", "role", "blocking")},
    "CCL603": {("Kinds", "trait", "thread-lock")},
    "CCL604": {("Functions", "role", "blocking"), ("Methods", "role", "blocking")},
    "CCL605": {("Functions", "role", "paces"), ("Kinds", "trait", "event")},
}


@dataclass(frozen=True)
class Listed:
    what: str
    by: str
    word: str
    partial: bool
    names: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.what, self.by, self.word


def lists_of(markdown: str) -> list[Listed]:
    """The bullets under `### What it knows`; a bullet off the convention fails the test."""
    lines = section(markdown, "What it does").splitlines()
    if HEADING not in lines:
        return []
    bullets: list[str] = []
    for line in lines[lines.index(HEADING) + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("- "):
            bullets.append(line[2:])
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
    return [_parsed(bullet) for bullet in bullets]


def _parsed(bullet: str) -> Listed:
    match = _BULLET.fullmatch(bullet)
    assert match is not None, f"not a list of the convention: {bullet!r}"
    what, by = match["what"], match["by"]
    assert (what == "Kinds") == (by != "role"), f"{what} with {by}: no such list"
    names = tuple(_NAME.findall(match["names"]))
    rest = _SEPARATORS.sub("", _NAME.sub("", match["names"]))
    assert not rest, f"outside backticks in {bullet!r}: {rest!r}"
    for name in names:
        assert _DOTTED.fullmatch(name), f"{name!r} is not a dotted name"
    return Listed(what, by, match["word"], bool(match["partial"]), names)


def _canonical(name: str) -> str:
    return name if "." in name else f"builtins.{name}"


def entries(known: Catalog, listed: Listed) -> dict[str, object]:
    """Each listed name -> the catalog entry it names with the list's role or trait (None:
    it names none such)."""
    found: dict[str, object] = {}
    for name in listed.names:
        full = _canonical(name)
        if listed.what == "Kinds":
            kind = known.kind_named(full)
            described = known.kinds.get(kind or "")
            has = described is not None and (
                listed.word in described.traits
                if listed.by == "trait"
                else any(listed.word in m.roles for m in described.methods.values())
            )
            found[name] = kind if has else None
        elif listed.what == "Methods":
            owner, _, method_name = full.rpartition(".")
            kind = known.kind_named(owner)
            method = known.method(kind, method_name)
            found[name] = (kind, method_name) if method and listed.word in method.roles else None
        elif listed.what == "Functions":
            function = known.functions.get(full)
            found[name] = full if function and listed.word in function.roles else None
        else:
            found[name] = full if listed.word in known.names.get(full, ()) else None
    return found


def every(known: Catalog, listed: Listed) -> set[object]:
    """Every catalog entry with the list's role or trait."""
    if listed.what == "Kinds" and listed.by == "trait":
        return set(known.kinds_with(listed.word))
    if listed.what == "Kinds":
        return set(known.methods_by_kind(listed.word))
    if listed.what == "Methods":
        by_kind = known.methods_by_kind(listed.word)
        return {(kind, name) for kind, names in by_kind.items() for name in names}
    if listed.what == "Functions":
        return set(known.functions_with(listed.word))
    return set(known.names_with(listed.word))


CODES = [rule.code for rule in registry.RULES]


@pytest.mark.parametrize("code", CODES)
def test_every_name_listed_is_known_with_that_role_and_none_is_missing(code: str) -> None:
    known = load()
    for listed in lists_of(page(code) or ""):
        found = entries(known, listed)
        unknown = sorted(name for name, entry in found.items() if entry is None)
        where = f"{code}: {listed.what} with {listed.by} `{listed.word}`"
        assert not unknown, f"{where}: the catalog has no such entry for {unknown}"
        if not listed.partial:
            missing = every(known, listed) - set(found.values())
            assert not missing, f"{where}: not listed: {sorted(map(str, missing))}"


@pytest.mark.parametrize("code", sorted(USES))
def test_the_page_lists_what_its_rule_asks_the_catalog_for(code: str) -> None:
    listed = {item.key for item in lists_of(page(code) or "")}
    absent = sorted(USES[code] - listed)
    assert not absent, f"{code}: add to `{HEADING}`: " + "; ".join(
        f"{what} with {by} `{word}`" for what, by, word in absent
    )


GOOD = """\
# CCL999: example

## What it does

Prose.

### What it knows

- Kinds with trait `condition`, for example: `threading.Condition` and
  `asyncio.Condition`.
- Functions with role `closes-fd`: `os.close`

## Why is this bad?
"""


def test_the_convention_is_read_as_documented() -> None:
    known = load()
    condition, closes = lists_of(GOOD)
    assert condition == Listed(
        "Kinds", "trait", "condition", True, ("threading.Condition", "asyncio.Condition")
    )
    assert entries(known, condition) == {
        "threading.Condition": "threading.Condition",
        "asyncio.Condition": "asyncio.Condition",
    }
    assert closes.key == ("Functions", "role", "closes-fd") and not closes.partial
    assert every(known, closes) == {"os.close"}


@pytest.mark.parametrize(
    ("bullet", "problem"),
    [
        ("- Kinds with role `lock`: `threading.Lock`", "no such list"),
        ("- Locks: `threading.Lock`", "not a list of the convention"),
        ("- Kinds with trait `lock`: threading.Lock", "outside backticks"),
        ("- Functions with role `spawn`: `asyncio.create_task()`", "not a dotted name"),
    ],
)
def test_a_list_off_the_convention_fails(bullet: str, problem: str) -> None:
    markdown = f"## What it does\n\n{HEADING}\n\n{bullet}\n"
    with pytest.raises(AssertionError, match=problem):
        lists_of(markdown)


def test_a_wrong_or_missing_name_is_found() -> None:
    known = load()
    wrong = Listed("Methods", "role", "close", False, ("asyncio.Queue.put", "os.close"))
    assert entries(known, wrong) == {"asyncio.Queue.put": None, "os.close": None}
    short = Listed("Functions", "role", "closes-fd", False, ())
    assert every(known, short) - set(entries(known, short).values()) == {"os.close"}
    builtin = Listed("Names", "role", "cancellation", True, ("BaseException",))
    assert entries(known, builtin) == {"BaseException": "builtins.BaseException"}
