"""CCL107: a thread made with its function in the reserved `group` place, or with none."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from conclint.analysis import catalog
from conclint.analysis.scopes import dotted_name
from conclint.catalog import top_modules
from conclint.rules.base import Rule

_TAILS = frozenset(catalog.words(catalog.GROUP_FIRST))


class ThreadBadInstantiation(Rule):
    code = "CCL107"
    name = "thread-bad-instantiation"
    summary = "A thread is given its function as the reserved first argument, or no function"
    message = "`{call}` {problem}; {fix}"
    needles = catalog.words(catalog.GROUP_FIRST)
    imports = top_modules(catalog.GROUP_FIRST)
    tags = ("threading",)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        tail = func.attr.value if isinstance(func, cst.Attribute) else None
        if tail is not None and tail not in _TAILS:
            return
        spec = catalog.GROUP_FIRST.get(self.context.qualname(func) or "")
        if spec is None or any(arg.star == "*" for arg in node.args):
            return  # `*args` hides which argument lands where
        keywords = self._keywords(node.args)
        if keywords is None:
            return
        position, keyword, _ = spec
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        shown = dotted_name(func) or "Thread"
        if positional and not _is_none(positional[0]):
            first = dotted_name(positional[0]) or "..."
            self.report(
                node,
                call=f"{shown}({first}, ...)" if len(node.args) > 1 else f"{shown}({first})",
                problem=(
                    f"passes `{first}` as `group`, the reserved first parameter, which must be "
                    "None: the constructor raises"
                ),
                fix=f"pass it as `{keyword}={first}`" if keyword else "pass None first",
            )
        elif len(positional) <= position and keyword not in keywords:
            self.report(
                node,
                call=f"{shown}(...)" if node.args else f"{shown}()",
                problem=f"is given no `{keyword}`: it runs nothing when started",
                fix=f"pass `{keyword}=...`, or subclass it and override `run()`",
            )

    def _keywords(self, args: Sequence[cst.Arg]) -> set[str] | None:
        """The keywords given, `**options` included when the module spells the dict out;
        None when some `**` mapping is not known."""
        found = {arg.keyword.value for arg in args if arg.keyword is not None}
        for arg in args:
            if arg.star == "**":
                keys = self._dict_keys(arg.value)
                if keys is None:
                    return None
                found |= keys
        return found

    def _dict_keys(self, mapping: cst.BaseExpression) -> set[str] | None:
        """The keys of `{"a": ...}`, or of the dict literal a name is bound to once."""
        if isinstance(mapping, cst.Name):
            values = self.context.bindings.values_of(mapping, self.context.chain)
            mapping = values[0] if len(values) == 1 and values[0] is not None else mapping
        if not isinstance(mapping, cst.Dict):
            return None
        keys: set[str] = set()
        for element in mapping.elements:
            key = element.key if isinstance(element, cst.DictElement) else None
            if not isinstance(key, cst.SimpleString):
                return None
            keys.add(str(key.evaluated_value))
        return keys


def _is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"
