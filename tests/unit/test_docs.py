"""The README and docs/ say what the code does: the README's recipe is a valid recipe, and every
`cnn-tui COMMAND --option` they write is a command and an option the command line takes.

Lines that say "(coming)" name work not merged yet and are skipped."""

from __future__ import annotations

import argparse
import re

import pytest

from cnn_tui.cli import build_parser
from cnn_tui.recipes.loader import load_recipe
from tests.conftest import ROOT

PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"": parser, **sub.choices}


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def command_lines() -> list[tuple[str, str]]:
    """(page, text) for every command line written in a page: code blocks' lines and inline code."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S)
        lines = re.findall(r"`([^`\n]+)`", text)
        for block in blocks:
            command = ""
            for line in block.splitlines():
                if line.startswith("cnn-tui"):
                    command = " ".join(line.split()[:2])
                    lines.append(line)
                elif command and re.match(r"\s+--", line):  # an option listed under its command
                    lines.append(f"{command} {line.strip()}")
        coming = {line for line in text.splitlines() if "(coming)" in line}
        for line in lines:
            if line.lstrip().startswith("cnn-tui") and not any(line in c for c in coming):
                found.append((page.name, line.split(" #")[0].strip()))  # a shell comment is not the command
    return found


@pytest.mark.timeout(60)
def test_the_readme_recipe_is_a_recipe(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (recipe_text,) = re.findall(r"^```yaml\n(.*?)^```", readme, re.M | re.S)
    assert len(recipe_text.strip().splitlines()) <= 10, "the README promises a recipe in ten lines"
    path = tmp_path / "my_first_cnn.yaml"
    path.write_text(recipe_text, encoding="utf-8")
    recipe, _ = load_recipe(path)
    assert recipe.name == "my_first_cnn" and recipe.kind == "scratch"


@pytest.mark.timeout(60)
def test_every_command_and_option_written_in_the_docs_exists():
    commands = subcommands()
    wrong = []
    for page, line in command_lines():
        words = line.replace("[", " ").replace("]", " ").replace("(", " ").replace(")", " ").split()[1:]
        named = words[0] if words and not words[0].startswith("-") else ""
        names = [n for n in named.split("|") if n.isalpha() or "-" in n] if named else [""]
        for name in names:
            if name not in commands:
                if name.islower() and not name.endswith((".yaml", "/")) and "_" not in name:
                    wrong.append(f"{page}: `{line}`: no command {name!r}")
                continue
            allowed = options(commands[name]) | options(commands[""])
            for word in words:
                flag = word.split("=")[0].rstrip(",;.:")
                if re.fullmatch(r"--[a-z][a-z0-9-]*", flag) and flag not in allowed:
                    wrong.append(f"{page}: `{line}`: {name or 'cnn-tui'} has no option {flag}")
    assert not wrong, "\n".join(wrong)
