"""Attributes a constructor argument switches on: `self._lock = threading.Lock() if
use_lock else None` in `__init__`. An instance made with that argument literally false
(`Registry(use_lock=False)`, or left out where its default is false) holds None there,
so the calls its methods make on that attribute (behind `if self._lock is not None:`)
never run. Sync and async twins of a class share such a helper: only the sync twin turns
the lock on.

Index pass (Python's `ast`):
- `ClassFacts.switches`: attribute -> (parameter, its position among the positional
  parameters after the receiver or "*" when keyword only, "off" when its default is
  literally false or "" otherwise), for an attribute `__init__` gives `X if p else None`
  (or `None if not p else X`) and that the class assigns nowhere else;
- `arguments`: a call's literal arguments as one mark of `ClassFacts.made` (how each call
  assigned to an attribute made it): how many positional arguments it passes, which of
  them are literally false, the keywords it passes, which of those are literally false.

`is_off` answers for the model (`ProjectTypes.switched_off`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from conclint.analysis.signature import KEYWORD, signature

# Marks a call's arguments in `made`: `args:2:1:use_lock.timeout:use_lock`.
ARGUMENTS = "args"
_SEPARATOR = ":"
_LIST = "."
OFF = "off"


def _false(expr: ast.expr | None) -> bool:
    """Literally false: `False`, `None`, `0`, `""`."""
    return isinstance(expr, ast.Constant) and not expr.value


def arguments(call: ast.Call) -> str | None:
    """The mark of `call`'s literal arguments; None when it unpacks any (`*a`, `**kw`)."""
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(
        keyword.arg is None for keyword in call.keywords
    ):
        return None
    false_positions = [str(i) for i, arg in enumerate(call.args) if _false(arg)]
    given = [keyword.arg for keyword in call.keywords if keyword.arg is not None]
    false_keywords = [
        keyword.arg
        for keyword in call.keywords
        if keyword.arg is not None and _false(keyword.value)
    ]
    return _SEPARATOR.join(
        (
            ARGUMENTS,
            str(len(call.args)),
            _LIST.join(false_positions),
            _LIST.join(given),
            _LIST.join(false_keywords),
        )
    )


def switched(
    init: ast.FunctionDef | ast.AsyncFunctionDef, value: ast.expr | None, rebound: Iterable[str]
) -> tuple[str, ...]:
    """The switch of an attribute `__init__` gives `value`: (parameter, position, "off"
    or ""); empty when `value` is no `X if p else None` on a parameter `p` that `__init__`
    does not rebind (`rebound`)."""
    if not isinstance(value, ast.IfExp):
        return ()
    test, kept = value.test, value.body
    if _is_none(value.body):  # `None if not p else X`
        if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)):
            return ()
        test, kept = test.operand, value.orelse
    elif not _is_none(value.orelse):
        return ()
    if not isinstance(test, ast.Name) or _is_none(kept) or test.id in rebound:
        return ()
    position = signature(init, True, False).where(test.id)
    if position is None:
        return ()
    return (test.id, position, OFF if _false(_default(init, test.id)) else "")


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _default(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> ast.expr | None:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    pairs = [
        *zip(positional, defaults, strict=True),
        *zip(args.kwonlyargs, args.kw_defaults, strict=True),
    ]
    return next((default for param, default in pairs if param.arg == name), None)


def is_off(switch: tuple[str, ...], marks: Iterable[str]) -> bool:
    """Every call of `marks` (one per call that made the instance) leaves the switch off."""
    found = list(marks)
    return bool(found) and all(_off(switch, mark) for mark in found)


def _off(switch: tuple[str, ...], mark: str) -> bool:
    parts = mark.split(_SEPARATOR)
    if len(parts) != 5 or parts[0] != ARGUMENTS or len(switch) != 3:
        return False
    param, position, default = switch
    passed, false_positions, given, false_keywords = (
        int(parts[1]),
        parts[2].split(_LIST),
        parts[3].split(_LIST),
        parts[4].split(_LIST),
    )
    if param in false_keywords or (position != KEYWORD and position in false_positions):
        return True
    left_out = param not in given and (position == KEYWORD or int(position) >= passed)
    return left_out and default == OFF
