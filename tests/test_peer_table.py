"""The README's table for users coming from ruff, flake8-async and pylint: every peer check
is there, every conclint code it names exists, and the rule pages name the peer checks the
table gives them, and no others."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from conclint import registry
from conclint.pages import page
from tests.conftest import ROOT

START, END = "<!-- peer-table-start -->", "<!-- peer-table-end -->"
NOT_LOOKED_FOR = "not a bug conclint looks for: "
_CODE = re.compile(r"^CCL\d{3}$")
_TICKED = re.compile(r"`([^`]+)`")
# Peer codes a page may name: ruff's and flake8-async's (`ASYNC105`, `RUF006`, `PLW2101`).
_PEER_CODE = re.compile(r"\b(?:ASYNC\d{3}|RUF\d{3}|PL[CERW]\d{4})\b")

# The peers' concurrency checks (their documentation: flake8-async's rules, ruff's ASYNC and
# RUF006, pylint's checks of threads, locks and async code). The table must hold them all.
FLAKE8_ASYNC = {
    *(f"ASYNC{n}" for n in (100, 101, 102, 103, 104, 105, 106, 109, 110, 111, 112, 113, 114)),
    *(f"ASYNC{n}" for n in (115, 116, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128)),
    *(f"ASYNC{n}" for n in (200, 210, 211, 212, 220, 221, 222, 230, 231, 232, 240, 250, 251)),
    *(f"ASYNC{n}" for n in (300, 400, 401, 900, 910, 911, 912, 913)),
}
RUFF = {
    *(f"ASYNC{n}" for n in (100, 105, 109, 110, 115, 116, 119, 210, 212, 220, 221, 222, 230)),
    *(f"ASYNC{n}" for n in (240, 250, 251)),
    "RUF006",
    "PLW2101",
    "PLW1509",
    "PLE1142",
    "PLE1700",
}
PYLINT = {
    "bad-thread-instantiation",
    "useless-with-lock",
    "subprocess-popen-preexec-fn",
    "await-outside-async",
    "yield-inside-async-function",
    "not-async-context-manager",
    "async-context-manager-with-regular-with",
}


@dataclass(frozen=True)
class Row:
    names: tuple[str, ...]  # the check's code and other names (`W2101`, `useless-with-lock`)
    tools: str
    conclint: str | None  # the rule's code, or None for a bug conclint does not look for
    reason: str


def parse(readme: str) -> list[Row]:
    if START not in readme or END not in readme:
        raise ValueError("the README has no peer table")
    lines = readme[readme.index(START) + len(START) : readme.index(END)].strip().splitlines()
    rows = []
    for line in lines[2:]:  # after the header and the separator
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4:
            raise ValueError(f"a row has {len(cells)} cells: {line}")
        checks, tools, _, target = cells
        if _CODE.match(target):
            rows.append(Row(tuple(_TICKED.findall(checks)), tools, target, ""))
        elif target.startswith(NOT_LOOKED_FOR) and target[len(NOT_LOOKED_FOR) :].strip():
            rows.append(Row(tuple(_TICKED.findall(checks)), tools, None, target))
        else:
            raise ValueError(f"name a CCL code or say why it is {NOT_LOOKED_FOR!r}: {line}")
    return rows


@cache
def rows() -> tuple[Row, ...]:
    return tuple(parse((ROOT / "README.md").read_text(encoding="utf-8")))


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def names_on(text: str) -> set[str]:
    """The peer checks a page names: codes by their shape, pylint's names by the table's."""
    known = {name for row in rows() for name in row.names}
    return set(_PEER_CODE.findall(text)) | {name for name in known if _mentions(text, name)}


def test_the_table_holds_every_peer_check_once() -> None:
    named = [name for row in rows() for name in row.names]
    assert len(named) == len(set(named)), "a peer check is in two rows"
    missing = sorted((FLAKE8_ASYNC | RUFF | PYLINT) - set(named))
    assert not missing, f"add to the README's peer table: {missing}"
    assert all(row.names for row in rows())


def test_tools_say_which_peer_has_the_check() -> None:
    for row in rows():
        code = row.names[0]
        if code in FLAKE8_ASYNC:
            assert "flake8-async" in row.tools, row
            assert ("ruff" in row.tools) == (code in RUFF), row
        elif code in PYLINT:
            assert "pylint" in row.tools, row


@pytest.mark.parametrize("code", sorted({row.conclint for row in rows() if row.conclint}))
def test_every_conclint_code_of_the_table_is_a_rule_with_a_page(code: str) -> None:
    assert registry.by_code(code) is not None, f"{code} is in the peer table but not a rule"
    assert page(code) is not None, f"rules/{code}.md is missing"


@pytest.mark.parametrize(
    "row", [row for row in rows() if row.conclint], ids=lambda row: row.names[0]
)
def test_each_page_names_the_peer_checks_the_table_gives_it(row: Row) -> None:
    assert row.conclint is not None
    text = page(row.conclint) or ""
    assert any(_mentions(text, name) for name in row.names), (
        f"rules/{row.conclint}.md should name {' or '.join(row.names)}"
    )


@pytest.mark.parametrize("code", [rule.code for rule in registry.RULES])
def test_a_page_names_only_the_peer_checks_the_table_gives_it(code: str) -> None:
    given = {row.names: row.conclint for row in rows()}
    for name in sorted(names_on(page(code) or "")):
        targets = [target for names, target in given.items() if name in names]
        assert targets, f"rules/{code}.md names {name}, which the README's peer table lacks"
        assert targets == [code], f"rules/{code}.md names {name}; the table gives it {targets}"


def test_the_parser_reads_the_table_as_documented() -> None:
    table = (
        f"{START}\n| peer check | tool | what it reports | conclint |\n|---|---|---|---|\n"
        "| `ASYNC105` | ruff, flake8-async | a call | CCL102 |\n"
        f"| `W1509` (`x-y`) | pylint | a call | {NOT_LOOKED_FOR}a style |\n{END}"
    )
    assert parse(table) == [
        Row(("ASYNC105",), "ruff, flake8-async", "CCL102", ""),
        Row(("W1509", "x-y"), "pylint", None, f"{NOT_LOOKED_FOR}a style"),
    ]
    with pytest.raises(ValueError, match="why"):
        parse(table.replace("CCL102", "see CCL102"))
    with pytest.raises(ValueError, match="why"):
        parse(table.replace(f"{NOT_LOOKED_FOR}a style", NOT_LOOKED_FOR))
    assert names_on("See ASYNC913 and RUF006; not ASYNC91.") == {"ASYNC913", "RUF006"}
    assert names_on("pylint's useless-with-lock") == {"useless-with-lock"}
    assert not _mentions("my-useless-with-lock-2", "useless-with-lock")


def test_the_readme_is_where_the_table_is_read(root: Path) -> None:
    assert (root / "README.md").read_text(encoding="utf-8").count(START) == 1


_NOQA_CODE = re.compile(r"^(?:ASYNC\d{3}|RUF\d{3}|PL[CERW]\d{4})$")


@pytest.mark.parametrize("rule", registry.RULES, ids=lambda rule: rule.code)
def test_a_rule_takes_the_noqa_codes_of_its_peer_checks(rule: type[registry.Rule]) -> None:
    """`Rule.peers`, which a noqa comment may name for the rule, are the table's codes of
    ruff's and flake8-async's checks for that rule, all of them and no others."""
    table = {name for row in rows() if row.conclint == rule.code for name in row.names}
    assert set(rule.peers) == {name for name in table if _NOQA_CODE.match(name)}
