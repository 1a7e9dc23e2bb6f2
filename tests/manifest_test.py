"""The hook repository as pre-commit and a reader see it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from hooks import cli, config


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


def documentation(project_root: Path) -> str:
    """The README and the reference pages under docs/."""
    pages = sorted((project_root / "docs").glob("**/*.md"))
    return "\n".join(path.read_text() for path in [project_root / "README.md", *pages])


def test_every_hook_id_is_documented_in_the_readme(manifest, project_root):
    readme = documentation(project_root)

    for hook in manifest:
        assert f"### `{hook['id']}`" in readme, hook["id"]
        assert f"id: {hook['id']}" in readme, hook["id"]


def test_ci_runs_the_test_command_from_the_readme(project_root):
    readme = (project_root / "README.md").read_text()
    ci_script = (project_root / ".ci" / "run").read_text()

    block = readme.split("<!-- test-command -->\n```sh\n", 1)[1].split("```", 1)[0]
    assert block.strip().count("\n") == 0, "the test command is one line"
    assert "<!-- test-command -->" in ci_script


@pytest.mark.parametrize("hook_id", sorted(cli.HOOK_MODULES))
def test_every_option_of_every_hook_is_documented(hook_id, project_root, capsys):
    readme = documentation(project_root)
    with pytest.raises(SystemExit):
        cli.main([hook_id, "--help"])
    help_text = capsys.readouterr().out

    options = {
        word.rstrip(",")
        for word in help_text.split()
        if word.startswith("--") and word != "--help"
    }

    assert options, help_text
    for option in options:
        assert f"`{option}" in readme or f"{option}`" in readme, f"{hook_id} {option}"


def test_every_configuration_key_is_documented(project_root):
    readme = documentation(project_root)

    for key, setting in config.SCHEMA.items():
        assert f"`{key}" in readme or f"[tool.testwarden.{key}]" in readme, key
        if isinstance(setting, dict):
            for sub_key in setting:
                documented = (
                    f"`{sub_key}`" in readme
                    or f"`{key}.{sub_key}`" in readme
                    or f"\n{sub_key} = " in readme
                )
                assert documented, f"{key}.{sub_key}"
