"""The rule pages `rules/CCLnnn.md`: packaged as `conclint/pages`, or `rules/` in a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGED = Path(__file__).parent / "pages"
_CHECKOUT = Path(__file__).parent.parent / "rules"


def pages_dir() -> Path:
    return _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


@cache
def page(code: str) -> str | None:
    """The markdown page of a rule, or None when it has none."""
    path = pages_dir() / f"{code.upper()}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def section(markdown: str, title: str) -> str:
    """The text under `## title` up to the next `## ` heading ('' when absent)."""
    lines = markdown.splitlines()
    heading = f"## {title}"
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        return ""
    body: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        body.append(line)
    return "\n".join(body).strip()


def first_code_block(markdown: str) -> str | None:
    """The first fenced ```python block of a markdown text."""
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith("```py"):
            block: list[str] = []
            for inner in lines[index + 1 :]:
                if inner.strip().startswith("```"):
                    return "\n".join(block) + "\n"
                block.append(inner)
    return None
