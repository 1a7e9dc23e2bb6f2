"""The hook repository as pre-commit and a reader see it.

The documentation is checked against the code: the README's hook table links
a page docs/hooks/<id>.md for every hook in the manifest, that page names each
of the hook's options (in its "Options" section) and configuration keys (in
its "Configuration" section), and every link to a local file in the README
and under docs/ resolves, #anchor included.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from hooks import cli, config

HOOK_PAGES = Path("docs") / "hooks"
# [text](target), outside code: the target up to a space or the closing parenthesis.
MARKDOWN_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
FENCED_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


@pytest.fixture(scope="module")
def manifest(project_root):
    return yaml.safe_load((project_root / ".pre-commit-hooks.yaml").read_text())


def test_pre_commit_accepts_the_manifest_and_our_own_config(project_root):
    for command in ("validate-manifest", "validate-config"):
        target = (
            ".pre-commit-hooks.yaml"
            if command == "validate-manifest"
            else ".pre-commit-config.yaml"
        )
        completed = subprocess.run(
            [sys.executable, "-m", "pre_commit", command, target],
            cwd=project_root,
            capture_output=True,
            text=True,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr


def test_every_hook_has_a_console_script_and_a_module(manifest, project_root):
    scripts = tomllib.loads((project_root / "pyproject.toml").read_text())["project"][
        "scripts"
    ]
    hook_ids = [hook["id"] for hook in manifest]

    assert sorted(hook_ids) == sorted(cli.HOOK_MODULES)
    for hook in manifest:
        assert hook["entry"] == hook["id"]
        assert scripts[hook["id"]] == f"{cli.HOOK_MODULES[hook['id']]}:main"
    assert scripts["testwarden"] == "hooks.cli:main"


def test_every_hook_declares_what_pre_commit_needs(manifest):
    for hook in manifest:
        assert hook["language"] == "python"
        assert hook["name"] == hook["name"].lower()
        assert hook["description"]
        assert hook["minimum_pre_commit_version"] == "3.2.0"
        # mutation-gate runs every changed line's tests many times: at push.
        expected = ["pre-push", "manual"] if hook["id"] == "mutation-gate" else None
        assert (
            hook["stages"] == expected if expected else "pre-commit" in hook["stages"]
        )
        assert "types" in hook or "types_or" in hook or hook.get("always_run")


def hook_page(project_root: Path, hook_id: str) -> str:
    return (project_root / HOOK_PAGES / f"{hook_id}.md").read_text()


def section(markdown: str, heading: str) -> str:
    """The text under the level-2 HEADING, up to the next level-2 heading."""
    marker = f"\n## {heading}\n"
    assert marker in markdown, f"no '## {heading}' section"
    return markdown.split(marker, 1)[1].split("\n## ", 1)[0]


def documented_options(command: str, capsys) -> set[str]:
    """The long options `testwarden COMMAND --help` lists, --help aside."""
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    help_text = capsys.readouterr().out
    return {
        word.rstrip(",")
        for word in help_text.split()
        if word.startswith("--") and word != "--help"
    }


def is_named(option: str, text: str) -> bool:
    return f"`{option}" in text or f"{option}`" in text


def page_of_table(table: str) -> str:
    """The hook whose page documents [tool.testwarden.TABLE]: the hook of that
    id, or the hook whose module reads the table as its CONFIG_TABLE."""
    if table in cli.HOOK_MODULES:
        return table
    owners = [
        hook_id
        for hook_id, module in cli.HOOK_MODULES.items()
        if getattr(importlib.import_module(module), "CONFIG_TABLE", None) == table
    ]
    assert len(owners) == 1, f"[tool.testwarden.{table}] belongs to no single hook"
    return owners[0]


def configuration_tables() -> dict[str, list[str]]:
    """[tool.testwarden] tables -> their keys, as config.SCHEMA declares them."""
    return {
        table: list(keys)
        for table, keys in config.SCHEMA.items()
        if isinstance(keys, dict)
    }


def top_level_keys() -> list[str]:
    return [
        key for key, setting in config.SCHEMA.items() if not isinstance(setting, dict)
    ]


def github_anchors(markdown: str) -> set[str]:
    """The #anchors GitHub gives the headings of MARKDOWN."""
    anchors: set[str] = set()
    for line in FENCED_BLOCK.sub("", markdown).splitlines():
        if not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        anchor, count = slug, 1
        while anchor in anchors:
            anchor, count = f"{slug}-{count}", count + 1
        anchors.add(anchor)
    return anchors


def broken_links(document: Path, project_root: Path) -> list[str]:
    """Links in DOCUMENT to a local file (or a heading in one) that is not there."""
    text = CODE_SPAN.sub("", FENCED_BLOCK.sub("", document.read_text()))
    broken = []
    for target in MARKDOWN_LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        where = f"{document.relative_to(project_root)}: ({target})"
        if not linked.is_relative_to(project_root.resolve()) or not linked.exists():
            broken.append(f"{where}: no such file")
        elif anchor and linked.suffix == ".md":
            if anchor not in github_anchors(linked.read_text()):
                broken.append(f"{where}: no heading #{anchor} in {linked.name}")
    return broken


def documents(project_root: Path) -> list[Path]:
    return [project_root / "README.md", *sorted((project_root / "docs").rglob("*.md"))]


def test_every_hook_has_a_page_linked_from_the_readme_and_the_index(
    manifest, project_root
):
    readme = (project_root / "README.md").read_text()
    index = (project_root / "docs" / "index.md").read_text()
    hook_ids = sorted(hook["id"] for hook in manifest)
    pages = sorted(page.stem for page in (project_root / HOOK_PAGES).glob("*.md"))

    assert pages == hook_ids, "one page per hook of the manifest, no other"
    for hook_id in hook_ids:
        page = hook_page(project_root, hook_id)
        assert page.startswith(f"# `{hook_id}`\n"), hook_id
        assert (
            f"id: {hook_id}\n" in page
        ), f"{hook_id}: the .pre-commit-config.yaml line"
        assert f"| [`{hook_id}`](docs/hooks/{hook_id}.md) |" in readme, hook_id
        assert f"(hooks/{hook_id}.md)" in index, hook_id


@pytest.mark.parametrize("hook_id", sorted(cli.HOOK_MODULES))
def test_every_hook_page_has_the_sections_a_reader_looks_for(hook_id, project_root):
    page = hook_page(project_root, hook_id)

    for heading in ("What it checks", "Options", "Messages and how to fix"):
        assert section(page, heading).strip(), f"{hook_id}: {heading}"
    assert "\n## Exemptions\n" in page, hook_id
    assert re.search(r"\n## [^\n]*\b[Mm]odes\b", page), f"{hook_id}: a section on modes"


@pytest.mark.parametrize("hook_id", sorted(cli.HOOK_MODULES))
def test_every_option_of_every_hook_is_on_its_page(hook_id, project_root, capsys):
    options = documented_options(hook_id, capsys)
    documented = section(hook_page(project_root, hook_id), "Options")

    assert options, hook_id
    for option in options:
        assert is_named(option, documented), f"{hook_id} {option}"


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_option_of_every_command_is_in_the_readme(command, project_root, capsys):
    options = documented_options(command, capsys)
    readme = (project_root / "README.md").read_text()

    for option in options:
        assert is_named(option, readme), f"testwarden {command} {option}"


@pytest.mark.parametrize("table", sorted(configuration_tables()))
def test_every_configuration_key_is_on_its_hook_page(table, project_root):
    hook_id = page_of_table(table)
    documented = section(hook_page(project_root, hook_id), "Configuration")

    assert f"[tool.testwarden.{table}]" in documented, f"{hook_id}: {table}"
    for key in configuration_tables()[table]:
        rows = (f"| `{key}` |", f"| `{table}.{key}` |")
        assert any(row in documented for row in rows), f"{hook_id}: {table}.{key}"


def test_the_readme_configuration_overview_names_every_key_and_links_every_table(
    project_root,
):
    overview = section((project_root / "README.md").read_text(), "Configuration")

    for key in top_level_keys():
        assert f"| `{key}` |" in overview, key
    for table in configuration_tables():
        row = next(
            (line for line in overview.splitlines() if line.startswith(f"| `{table}.")),
            "",
        )
        assert f"(docs/hooks/{page_of_table(table)}.md#" in row, table


def test_the_readme_states_the_coverage_gate_pyproject_enforces(project_root):
    pyproject = tomllib.loads((project_root / "pyproject.toml").read_text())
    fail_under = pyproject["tool"]["coverage"]["report"]["fail_under"]
    developing = section(
        (project_root / "README.md").read_text(), "Developing testwarden"
    )

    assert f"**{fail_under}%**" in developing
    assert f"`fail_under = {fail_under}`" in developing
    assert set(re.findall(r"\*\*(\d+)%\*\*", developing)) == {str(fail_under)}


def test_every_local_link_in_the_docs_resolves(project_root):
    broken = [
        problem
        for document in documents(project_root)
        for problem in broken_links(document, project_root)
    ]

    assert not broken, "\n".join(broken)


def test_ci_runs_the_test_command_from_the_readme(project_root):
    readme = (project_root / "README.md").read_text()
    ci_script = (project_root / ".ci" / "run").read_text()

    block = readme.split("<!-- test-command -->\n```sh\n", 1)[1].split("```", 1)[0]
    assert block.strip().count("\n") == 0, "the test command is one line"
    assert "<!-- test-command -->" in ci_script
