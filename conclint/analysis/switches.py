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
  (or `None if not p else X`), or `p` itself (`self.log_file = log_file`, whose blocking
  calls wait behind `if self.log_file:`), and that the class assigns nowhere else;
- `arguments`: a call's literal arguments as one mark of `ClassFacts.made` (how each call
  assigned to an attribute made it): how many positional arguments it passes, which of
  them are literally false, the keywords it passes, which of those are literally false.

`is_off` answers for the model (`ProjectTypes.switched_off`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from conclint.analysis.signature import KEYWORD, Signature, signature

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
    return mark(
        [_false(arg) for arg in call.args],
        [(keyword.arg, _false(keyword.value)) for keyword in call.keywords if keyword.arg],
    )


def mark(positional: Sequence[bool], keywords: Sequence[tuple[str, bool]]) -> str:
    """The mark of a call's arguments (`arguments`), from whether each positional one is
    literally false and each keyword's name and whether it is: any tree's reading."""
    return _SEPARATOR.join(
        (
            ARGUMENTS,
            str(len(positional)),
            _LIST.join(str(i) for i, false in enumerate(positional) if false),
            _LIST.join(name for name, _ in keywords),
            _LIST.join(name for name, false in keywords if false),
        )
    )


def switched(
    init: ast.FunctionDef | ast.AsyncFunctionDef, value: ast.expr | None, rebound: Iterable[str]
) -> tuple[str, ...]:
    """The switch of an attribute `__init__` gives `value`: (parameter, position, "off"
    or ""); empty when `value` is neither `X if p else None` nor `p` itself (`self.log_file
    = log_file`, false when the argument is) on a parameter `p` that `__init__` does not
    rebind (`rebound`)."""
    test: ast.Name | None = None
    if isinstance(value, ast.Name):
        test = value
    elif isinstance(value, ast.IfExp):
        test = _switching_test(value)
    if test is None or test.id in rebound:
        return ()
    return switch_of(init, test.id, signature(init, True, False))


def switch_of(
    function: ast.FunctionDef | ast.AsyncFunctionDef, parameter: str, found: Signature
) -> tuple[str, ...]:
    """The switch (parameter, position, "off" or "") that `parameter` of `function`, whose
    signature is `found`, is; empty when it is no parameter a call can name."""
    position = found.where(parameter)
    if position is None:
        return ()
    return (parameter, position, OFF if _false(_default(function, parameter)) else "")


def _switching_test(value: ast.IfExp) -> ast.Name | None:
    """`p` of `X if p else None` or `None if not p else X`."""
    test, kept = value.test, value.body
    if _is_none(value.body):  # `None if not p else X`
        if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)):
            return None
        test, kept = test.operand, value.orelse
    elif not _is_none(value.orelse):
        return None
    if not isinstance(test, ast.Name) or _is_none(kept):
        return None
    return test


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
