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
  them are literally false, the keywords it passes, which of those are literally false,
  then which positional arguments and keywords are literally true.

`is_off` answers for the model (`ProjectTypes.switched_off`); `is_on` for a helper whose
blocking call comes after `if p: return ...` (the call passes `p` literally true).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from conclint.analysis.signature import KEYWORD, Signature, signature

# Marks a call's arguments in `made`: `args:2:1:use_lock.timeout:use_lock:0:`.
ARGUMENTS = "args"
_SEPARATOR = ":"
_LIST = "."
_FIELDS = 7
OFF = "off"
ON = "on"
# Prefixes a guard's switch when the call waits behind the parameter being false.
NEEDS_FALSE = "!"


def truth(expr: ast.expr | None) -> bool | None:
    """The truth of a literal (`False`, `None`, `0`, `""`: false; `True`, `1`, `"x"`:
    true); None for anything else."""
    if isinstance(expr, ast.Constant) and not isinstance(expr.value, bytes):
        return bool(expr.value)
    return None


def arguments(call: ast.Call) -> str | None:
    """The mark of `call`'s literal arguments; None when it unpacks any (`*a`, `**kw`)."""
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(
        keyword.arg is None for keyword in call.keywords
    ):
        return None
    return mark(
        [truth(arg) for arg in call.args],
        [(keyword.arg, truth(keyword.value)) for keyword in call.keywords if keyword.arg],
    )


def mark(positional: Sequence[bool | None], keywords: Sequence[tuple[str, bool | None]]) -> str:
    """The mark of a call's arguments (`arguments`), from the `truth` of each positional
    one and each keyword's name and the truth of its value: any tree's reading."""
    return _SEPARATOR.join(
        (
            ARGUMENTS,
            str(len(positional)),
            _LIST.join(str(i) for i, known in enumerate(positional) if known is False),
            _LIST.join(name for name, _ in keywords),
            _LIST.join(name for name, known in keywords if known is False),
            _LIST.join(str(i) for i, known in enumerate(positional) if known),
            _LIST.join(name for name, known in keywords if known),
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
    """The switch (parameter, position, "off" or "on" when its default is literally false
    or true, else "") that `parameter` of `function`, whose signature is `found`, is; empty
    when it is no parameter a call can name."""
    position = found.where(parameter)
    if position is None:
        return ()
    default = truth(_default(function, parameter))
    return (parameter, position, "" if default is None else ON if default else OFF)


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
    return bool(found) and all(_set(switch, mark, False) for mark in found)


def is_on(switch: tuple[str, ...], marks: Iterable[str]) -> bool:
    """Every call of `marks` turns the switch on: passes it, or leaves it to its default,
    literally true."""
    found = list(marks)
    return bool(found) and all(_set(switch, mark, True) for mark in found)


def _set(switch: tuple[str, ...], mark: str, value: bool) -> bool:
    """The call of `mark` passes the switch's parameter literally `value`, or leaves it
    out where its default literally is."""
    parts = mark.split(_SEPARATOR)
    if len(parts) != _FIELDS or parts[0] != ARGUMENTS or len(switch) != 3:
        return False
    param, position, default = switch
    passed, given = int(parts[1]), parts[3].split(_LIST)
    positions, keywords = (parts[5], parts[6]) if value else (parts[2], parts[4])
    if param in keywords.split(_LIST):
        return True
    if position != KEYWORD and position in positions.split(_LIST):
        return True
    left_out = param not in given and (position == KEYWORD or int(position) >= passed)
    return left_out and default == (ON if value else OFF)
