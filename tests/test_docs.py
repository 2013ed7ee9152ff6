"""Rule pages: one per registered rule, in the fixed shape, with examples that run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conclint import registry
from conclint.config import Settings
from conclint.engine import lint_source
from conclint.pages import first_code_block, page, pages_dir, section
from conclint.rules.base import Rule

REQUIRED = ["What it does", "Why is this bad?", "Example", "Use instead"]
OPTIONAL = ["Options", "Known limitations", "References"]
RULE_IDS = [rule.code for rule in registry.RULES]


def _rule(code: str) -> type[Rule]:
    rule = registry.by_code(code)
    assert rule is not None
    return rule


@pytest.mark.parametrize("code", RULE_IDS)
def test_page_shape(code: str) -> None:
    rule = _rule(code)
    text = page(code)
    assert text is not None, f"rules/{code}.md is missing"
    assert text.splitlines()[0] == f"# {code}: {rule.name}"
    headings = [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]
    assert headings[: len(REQUIRED)] == REQUIRED
    assert all(heading in OPTIONAL for heading in headings[len(REQUIRED) :]), headings
    if rule.preview:
        assert "preview" in text.lower()


@pytest.mark.parametrize("code", RULE_IDS)
def test_page_examples_run(code: str) -> None:
    rule = _rule(code)
    text = page(code) or ""
    bad = first_code_block(section(text, "Example"))
    good = first_code_block(section(text, "Use instead"))
    assert bad and good, "both Example and Use instead need a ```python block"
    settings = Settings(preview=True)
    found = {d.code for d in lint_source(bad, "example.py", settings, rules=[rule]).diagnostics}
    assert found == {code}
    clean = lint_source(good, "example.py", settings, rules=[rule]).diagnostics
    assert clean == ()


def test_every_page_belongs_to_a_code() -> None:
    pages = {path.stem for path in pages_dir().glob("CCL*.md")}
    assert pages == set(registry.known_codes())


@pytest.mark.parametrize(("code", "name", "_"), registry.TOOL_CODES)
def test_tool_code_pages(code: str, name: str, _: str) -> None:
    text = page(code) or ""
    assert text.splitlines()[0] == f"# {code}: {name}"
    bad = first_code_block(section(text, "Example")) or ""
    good = first_code_block(section(text, "Use instead")) or ""
    from conclint.engine import DecodeError, decode_source

    def lint(example: str) -> set[str]:
        try:
            source = decode_source(example.encode())
        except DecodeError:
            return {"CCL002"}
        return {d.code for d in lint_source(source, "example.py", Settings()).diagnostics}

    assert lint(bad) == {code}
    assert lint(good) == set()


def test_options_documented_are_real_keys() -> None:
    """A rule page documents the options the rule declares, and only real keys."""
    from conclint.config import _KEYS, declared_options

    declared = declared_options()
    for rule in registry.RULES:
        options = section(page(rule.code) or "", "Options")
        documented = set(re.findall(r"^- `([a-z-]+)`", options, flags=re.MULTILINE))
        for key in documented:
            assert key in _KEYS or key in declared, f"{rule.code} documents unknown option {key}"
        for option in rule.options:
            assert option.key in documented, f"{rule.code} does not document {option.key}"


def test_readme_rule_table_is_current(root: Path) -> None:
    readme = (root / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- rules-table-start -->\n", "<!-- rules-table-end -->"
    table = readme[readme.index(start) + len(start) : readme.index(end)]
    done = subprocess.run(
        [sys.executable, "-m", "conclint", "rules", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert table == done.stdout, "refresh the README table with `conclint rules --markdown`"


def test_readme_example_output_is_what_conclint_prints(root: Path) -> None:
    readme = (root / "README.md").read_text(encoding="utf-8")
    example = section(readme, "What it finds")
    code = first_code_block(example)
    shown = example.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    assert code is not None and shown[0] == "$ conclint app.py"
    result = lint_source(code, "app.py", Settings())
    printed = [f"app.py:{d.line}:{d.col + 1}: {d.code} {d.message}" for d in result.diagnostics]
    assert printed == shown[1:]


def test_registry_is_in_code_order_with_unique_names() -> None:
    codes = [rule.code for rule in registry.RULES]
    names = [rule.name for rule in registry.RULES]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    assert not set(codes) & registry.RETIRED
