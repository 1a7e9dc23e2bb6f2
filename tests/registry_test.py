"""The registry of hooks is the one list: the manifest and the console scripts agree with it."""

from __future__ import annotations

import importlib
import tomllib

import pytest
import yaml

from hooks import cli, registry


@pytest.fixture(scope="module")
def manifest(project_root) -> list[dict]:
    return yaml.safe_load((project_root / ".pre-commit-hooks.yaml").read_text())


@pytest.fixture(scope="module")
def scripts(project_root) -> dict[str, str]:
    pyproject = tomllib.loads((project_root / "pyproject.toml").read_text())
    return pyproject["project"]["scripts"]


def test_the_manifest_lists_the_registered_hooks_in_order(manifest):
    assert [hook["id"] for hook in manifest] == [hook.id for hook in registry.HOOKS]


@pytest.mark.parametrize("hook", registry.HOOKS, ids=lambda hook: hook.id)
def test_each_manifest_entry_agrees_with_the_registry(hook, manifest):
    [entry] = [entry for entry in manifest if entry["id"] == hook.id]

    assert entry["entry"] == hook.script
    assert entry["name"] == hook.name
    assert tuple(entry["stages"]) == hook.stages


def test_the_console_scripts_are_the_registered_hooks_and_testwarden(scripts):
    assert scripts == {
        "testwarden": "hooks.cli:main",
        **{hook.script: hook.entry_point for hook in registry.HOOKS},
    }


@pytest.mark.parametrize("hook", registry.HOOKS, ids=lambda hook: hook.id)
def test_each_module_has_what_its_kind_needs(hook):
    module = importlib.import_module(hook.module)

    assert callable(module.main)
    assert callable(getattr(module, "check", None)) == hook.guard


def test_testwarden_runs_every_registered_hook_by_its_id(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])

    # argparse wraps the epilog anywhere, even inside a hook id: compare
    # without whitespace.
    assert "hooks:" + ",".join(hook.id for hook in registry.HOOKS) in (
        "".join(capsys.readouterr().out.split())
    )
    assert cli.HOOK_MODULES == {hook.id: hook.module for hook in registry.HOOKS}
