"""The catalog: its data loads and is consistent, and a mistake in it names where it is."""

from __future__ import annotations

from typing import Any

import pytest

from conclint.catalog import Catalog, CatalogError, load
from conclint.catalog.schema import library


def test_the_shipped_catalog_loads_and_every_kind_it_names_is_described() -> None:
    catalog = load()
    assert catalog.made_by("asyncio.LifoQueue") == "asyncio.Queue"
    assert catalog.annotated_by("asyncio.Queue") == "asyncio.Queue"
    assert "coroutine" in catalog.kinds["asyncio.Queue"].methods["get"].roles
    for kind in catalog.kinds.values():
        for method in kind.methods.values():
            assert method.returns is None or method.returns in catalog.kinds
    assert {"asyncio", "threading", "trio", "anyio"} <= catalog.concurrency_modules


def _load(*files: dict[str, Any]) -> Catalog:
    return Catalog(library(raw, f"data/{n}.toml") for n, raw in enumerate(files))


KIND = {"kinds": {"lib.Gate": {"classes": ["lib.Gate"], "traits": ["lock"]}}}

MISTAKES: list[tuple[dict[str, Any], str]] = [
    ({"kind": {}}, "data/0.toml: the file: unknown key 'kind'"),
    ({"kinds": {"lib.Gate": {"clases": []}}}, "kind lib.Gate: unknown key 'clases'"),
    ({"kinds": {"lib.Gate": {"traits": ["lok"]}}}, "kind lib.Gate traits: unknown role or trait"),
    ({"kinds": {"lib..Gate": {}}}, "'lib..Gate' is not a dotted name"),
    ({"kinds": {"lib.Gate": {"classes": "lib.Gate"}}}, "expected a list of dotted names"),
    (
        {"kinds": {"lib.Gate": {"methods": {"get": ["coroutin"]}}}},
        "kind lib.Gate method get: unknown role or trait 'coroutin'",
    ),
    (
        {"kinds": {"lib.Gate": {"methods": {"get": {"block": [0]}}}}},
        "kind lib.Gate method get block: give [position, keyword]",
    ),
    (
        {"kinds": {"lib.Gate": {"methods": {"get": {"returns": "lib.Nothing"}}}}},
        "method lib.Gate.get names kind lib.Nothing, which no data file describes",
    ),
    ({"functions": {"lib.wait": ["blockin"]}}, "function lib.wait: unknown role"),
    ({"functions": {"lib.wait": ["blocking"]}}, "function lib.wait: a blocking function names"),
    (
        {"functions": {"lib.wait": {"roles": ["blocking"]}}},
        "function lib.wait: a blocking function names its remedy",
    ),
    ({"functions": {"lib.wait": {"handoff": {"callable": "f"}}}}, "function lib.wait handoff"),
    ({"names": {"lib.Stop": ["cancelation"]}}, "[names] lib.Stop: unknown role or trait"),
    ({"library": {"concurrency": "yes"}}, "[library] concurrency: expected true or false"),
]


@pytest.mark.parametrize(("raw", "message"), MISTAKES)
def test_a_mistake_in_a_data_file_names_the_file_and_the_entry(
    raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(CatalogError, match=message.replace("[", r"\[").replace(".", r"\.")):
        _load(raw)


def test_one_name_cannot_make_two_kinds() -> None:
    other = {"kinds": {"lib.Other": {"factories": ["lib.Gate"]}}}
    with pytest.raises(CatalogError, match=r"data/1\.toml: lib\.Gate is already kind lib\.Gate"):
        _load(KIND, other)


def test_an_entry_is_described_once() -> None:
    with pytest.raises(CatalogError, match=r"data/1\.toml: kind lib\.Gate is described twice"):
        _load(KIND, KIND)
    functions = {"functions": {"lib.wait": ["paces"]}}
    with pytest.raises(CatalogError, match=r"data/1\.toml: lib\.wait is described twice"):
        _load(functions, functions)


def test_one_entry_is_enough_for_a_lock_like_class() -> None:
    catalog = _load(KIND)
    assert catalog.made_by("lib.Gate") == "lib.Gate"
    assert catalog.kinds_with("lock") == {"lib.Gate"}
