"""`conclint catalog`: what conclint knows of the libraries, the user's entries merged in,
as text or JSON."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conclint.catalog import Catalog
from conclint.cli import EXIT_CLEAN, UsageError


def show_catalog(args: argparse.Namespace) -> int:
    """The catalog with the user's entries merged (read from the configuration as `check`
    reads it), as text (a line per entry, grouped) or JSON (the shape in the README)."""
    import json

    from conclint import registry
    from conclint.config import Settings, find_config_file, load_settings

    if args.isolated:
        settings = Settings()
    else:
        if args.config and not os.path.lexists(args.config):
            raise UsageError(f"config file not found: {args.config}")
        config_file = Path(args.config) if args.config else find_config_file(Path.cwd())
        settings = load_settings(config_file, registry.known_codes())
    known = settings.catalog()
    entries = _catalog_entries(known, _known_kind(known, args.kind), _known_role(args.role))
    if args.output_format == "json":
        print(json.dumps(entries, indent=2))
    elif any(entries.values()):
        print(_catalog_text(entries))
    else:
        print("nothing in the catalog matches", file=sys.stderr)
    return EXIT_CLEAN


def _known_kind(known: Catalog, name: str | None) -> str | None:
    if name is None:
        return None
    kind = known.kind_named(name)
    if kind is None:
        raise UsageError(
            f"unknown kind '{name}'{_hint(name, known.kinds)}; `conclint catalog` lists them"
        )
    return kind


def _known_role(role: str | None) -> str | None:
    from conclint.catalog import schema

    roles = schema.TRAITS | schema.METHOD_ROLES | schema.FUNCTION_ROLES | schema.NAME_ROLES
    if role is not None and role not in roles:
        known = ", ".join(sorted(roles))
        raise UsageError(
            f"unknown role '{role}'{_hint(role, roles)}; the roles and traits: {known}"
        )
    return role


def _hint(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _catalog_entries(known: Catalog, kind: str | None, role: str | None) -> dict[str, list[Any]]:
    """The entries `conclint catalog` prints, as JSON-ready data: with `kind`, that kind and
    the functions that unpack into it; with `role`, the entries that have it (a kind with
    it as a trait, or with methods that have it: those methods)."""
    kinds = []
    for described in sorted(known.kinds.values(), key=lambda k: k.name):
        if kind is not None and described.name != kind:
            continue
        methods = described.methods
        if role is not None and role not in described.traits:
            methods = {n: m for n, m in methods.items() if role in m.roles}
            if not methods:
                continue
        kinds.append(
            {
                "name": described.name,
                "classes": list(described.classes),
                "factories": list(described.factories),
                "annotations": list(described.annotations),
                "traits": sorted(described.traits),
                "remedy": described.remedy,
                "methods": [
                    {"name": name, "roles": sorted(methods[name].roles)} for name in sorted(methods)
                ],
            }
        )
    functions = [
        {
            "name": name,
            "roles": sorted(entry.roles),
            "remedy": entry.remedy,
            "unpacks": list(entry.unpacks),
        }
        for name, entry in sorted(known.functions.items())
        if (role is None or role in entry.roles) and (kind is None or kind in entry.unpacks)
    ]
    others = kind is None
    names = [
        {"name": name, "roles": sorted(roles)}
        for name, roles in sorted(known.names.items())
        if others and (role is None or role in roles)
    ]
    any_receiver = [
        {"name": name, "roles": sorted(method.roles)}
        for name, method in sorted(known.any_receiver.items())
        if others and (role is None or role in method.roles)
    ]
    return {"kinds": kinds, "functions": functions, "names": names, "any_receiver": any_receiver}


def _catalog_text(entries: dict[str, list[Any]]) -> str:
    """A line per kind, method, function and name, grouped under a heading, aligned."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    kinds: list[tuple[str, str]] = []
    for kind in entries["kinds"]:
        facts = [
            f"{label}: {', '.join(kind[key])}"
            for key, label in (
                ("traits", "traits"),
                ("classes", "classes"),
                ("factories", "factories"),
                ("annotations", "annotations"),
            )
            if kind[key]
        ]
        if kind["remedy"]:
            facts.append(f"remedy: {kind['remedy']}")
        kinds.append((kind["name"], "; ".join(facts)))
        kinds += [
            (f"  {kind['name']}.{method['name']}", ", ".join(method["roles"]) or "-")
            for method in kind["methods"]
        ]
    groups.append(("kinds and their methods", kinds))
    functions = []
    for function in entries["functions"]:
        facts = [", ".join(function["roles"]) or "-"]
        if function["unpacks"]:
            facts.append(f"unpacks: {', '.join(function['unpacks'])}")
        if function["remedy"]:
            facts.append(f"remedy: {function['remedy']}")
        functions.append((function["name"], "; ".join(facts)))
    groups.append(("functions", functions))
    groups.append(("names", [(e["name"], ", ".join(e["roles"])) for e in entries["names"]]))
    methods = [(f".{e['name']}", ", ".join(e["roles"]) or "-") for e in entries["any_receiver"]]
    groups.append(("methods of any object", methods))
    blocks = []
    for title, rows in groups:
        if rows:
            width = min(max(len(name) for name, _ in rows), 40)
            lines = [f"{name:<{width}}  {facts}".rstrip() for name, facts in rows]
            blocks.append("\n".join([f"{title}:", *(f"  {line}" for line in lines)]))
    return "\n\n".join(blocks)
