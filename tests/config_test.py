from __future__ import annotations

import dataclasses
import typing

import pytest

from hooks import config, forbid_mock_data
from hooks.errors import UserError
from tests.change_modes_test import manifest_config, pre_commit
from tests.helpers import add, write


def write_pyproject(root, text):
    (root / "pyproject.toml").write_text(text, encoding="utf-8")


def test_defaults_without_pyproject(tmp_path):
    settings = config.load(tmp_path)

    assert settings.source is None
    assert settings.test_files == ("tests/**", "test_*.py", "*_test.py", "conftest.py")
    assert settings.coverage_threshold == 87.0


def test_defaults_when_pyproject_has_no_testwarden_table(tmp_path):
    write_pyproject(tmp_path, '[project]\nname = "consumer"\n')

    settings = config.load(tmp_path)

    assert settings.source is None
    assert settings.coverage_threshold == 87.0


def test_values_from_pyproject(tmp_path):
    write_pyproject(
        tmp_path,
        "[tool.testwarden]\n"
        'test-files = ["spec/**"]\n'
        "[tool.testwarden.coverage-gate]\n"
        "fail-under = 92.5\n",
    )

    settings = config.load(tmp_path)

    assert settings.source == tmp_path / "pyproject.toml"
    assert settings.test_files == ("spec/**",)
    assert settings.coverage_threshold == 92.5
    assert settings.coverage_gate.fail_under == 92.5


def test_command_line_overrides_the_file(tmp_path):
    write_pyproject(
        tmp_path,
        '[tool.testwarden]\ntest-files = ["spec/**"]\n'
        "[tool.testwarden.coverage-gate]\nfail-under = 90\n",
    )

    settings = config.load(
        tmp_path,
        {"test-files": ["checks/**"], "coverage-gate": {"fail-under": 95}},
    )

    assert settings.test_files == ("checks/**",)
    assert settings.coverage_threshold == 95.0


def test_overrides_that_were_not_given_keep_the_file_values(tmp_path):
    write_pyproject(tmp_path, "[tool.testwarden.coverage-gate]\nfail-under = 90\n")

    settings = config.load(
        tmp_path, {"test-files": None, "coverage-gate": {"fail-under": None}}
    )

    assert settings.coverage_threshold == 90.0
    assert settings.test_files == config.DEFAULT_TEST_FILES


def test_bad_override_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="command line: 'fail-under' must be a number"):
        config.load(tmp_path, {"coverage-gate": {"fail-under": "high"}})
    with pytest.raises(UserError, match="command line: 'test-files' must be a list"):
        config.load(tmp_path, {"test-files": "tests"})
    with pytest.raises(UserError, match="unknown setting 'colour'"):
        config.load(tmp_path, {"colour": True})


def test_unknown_key_names_file_line_and_key(tmp_path):
    write_pyproject(
        tmp_path, '[project]\nname = "x"\n\n[tool.testwarden]\ntset-files = ["t"]\n'
    )

    with pytest.raises(UserError) as raised:
        config.load(tmp_path)

    assert str(raised.value) == (
        f"{tmp_path / 'pyproject.toml'}:5: [tool.testwarden] 'tset-files' is not a "
        "setting; known keys: " + ", ".join(config.SCHEMA)
    )


def test_unknown_key_in_a_hook_table(tmp_path):
    write_pyproject(tmp_path, "[tool.testwarden.coverage-gate]\nfail_under = 90\n")

    with pytest.raises(
        UserError, match=r":2: \[tool.testwarden.coverage-gate\] 'fail_under'"
    ):
        config.load(tmp_path)


def test_wrong_types_are_named(tmp_path):
    write_pyproject(tmp_path, "[tool.testwarden]\ntest-files = 'tests/**'\n")
    with pytest.raises(
        UserError,
        match=r":2: .*'test-files' must be a list of strings, got 'tests/\*\*'",
    ):
        config.load(tmp_path)

    write_pyproject(tmp_path, "[tool.testwarden.coverage-gate]\nfail-under = true\n")
    with pytest.raises(
        UserError, match="'fail-under' must be a number from 0 to 100, got True"
    ):
        config.load(tmp_path)

    write_pyproject(tmp_path, "[tool.testwarden.coverage-gate]\nfail-under = 101\n")
    with pytest.raises(UserError, match="got 101"):
        config.load(tmp_path)

    write_pyproject(tmp_path, "[tool.testwarden]\ncoverage-gate = 90\n")
    with pytest.raises(UserError, match="'coverage-gate' must be a table"):
        config.load(tmp_path)

    write_pyproject(tmp_path, "[tool]\ntestwarden = 1\n")
    with pytest.raises(UserError, match=r"\[tool.testwarden\] must be a table"):
        config.load(tmp_path)


def test_unparsable_toml_names_the_line(tmp_path):
    write_pyproject(tmp_path, '[project]\nname = "x"\nversion = \n')

    with pytest.raises(UserError, match=r"pyproject.toml:3: invalid TOML: "):
        config.load(tmp_path)


def test_unparsable_toml_without_a_line(tmp_path):
    write_pyproject(tmp_path, "[tool.testwarden]\ntest-files = [\n")

    with pytest.raises(
        UserError, match=r"pyproject.toml: invalid TOML: .*end of document"
    ):
        config.load(tmp_path)


def test_pyproject_that_is_not_utf8(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.testwarden]\n# caf\xe9\n")

    with pytest.raises(UserError, match="not UTF-8"):
        config.load(tmp_path)


@pytest.mark.parametrize(
    ("path", "is_test"),
    [
        ("tests/test_a.py", True),
        ("tests/data/input.json", True),
        ("pkg/tests/helpers.py", True),
        ("src/test_module.py", True),
        ("module_test.py", True),
        ("conftest.py", True),
        ("docs/conftest.py", True),
        ("src/pkg/module.py", False),
        ("testsuite/a.py", False),
        ("pkg/latest_tests.py", False),
        ("src/mytest_x.py", False),
    ],
)
def test_default_test_file_patterns(tmp_path, path, is_test):
    assert config.load(tmp_path).is_test_file(path) is is_test


def test_anchored_and_double_star_patterns(tmp_path):
    settings = config.load(
        tmp_path, {"test-files": ["/spec/**/check_?.py", "fixtures/*.txt"]}
    )

    assert settings.is_test_file("spec/check_a.py")
    assert settings.is_test_file("spec/deep/er/check_b.py")
    assert not settings.is_test_file("pkg/spec/check_a.py")
    assert not settings.is_test_file("spec/check_ab.py")
    assert settings.is_test_file("a/fixtures/x.txt")
    assert not settings.is_test_file("fixtures/sub/x.txt")
    assert not settings.is_test_file("fixtures/x.txt.bak")


def test_key_set_where_no_line_can_be_found(tmp_path):
    write_pyproject(tmp_path, "[tool]\ntestwarden = { tset-files = 1 }\n")

    with pytest.raises(UserError) as raised:
        config.load(tmp_path)

    assert str(raised.value).startswith(
        f"{tmp_path / 'pyproject.toml'}: [tool.testwarden] 'tset-files' is not a setting"
    )


def test_hook_tables_check_their_types(tmp_path):
    write_pyproject(tmp_path, "[tool.testwarden.tox-changed-tests]\nenv = ''\n")
    with pytest.raises(UserError, match="'env' must be a non-empty string, got ''"):
        config.load(tmp_path)

    write_pyproject(tmp_path, "[tool.testwarden.forbid-test-deletion]\nallow = 'all'\n")
    with pytest.raises(UserError, match="'allow' must be a list of"):
        config.load(tmp_path)

    write_pyproject(
        tmp_path,
        "[tool.testwarden.forbid-skipped-tests]\n"
        "allow = [{ test = 'tests/test_a.py', reason = '  ' }]\n",
    )
    with pytest.raises(UserError, match="each with a reason"):
        config.load(tmp_path)


def test_exemptions_are_read_with_their_reasons(tmp_path):
    write_pyproject(
        tmp_path,
        "[tool.testwarden.forbid-test-deletion]\n"
        "allow = [{ test = ' tests/test_a.py::test_x ', reason = 'feature removed' }]\n",
    )

    [exemption] = config.load(tmp_path).forbid_test_deletion.allow

    assert (exemption.test, exemption.reason) == (
        "tests/test_a.py::test_x",
        "feature removed",
    )


def test_schema_and_settings_dataclasses_agree():
    """Each key is one attribute: its name in snake_case, its converter's type,
    its default; an attribute that is no key is only Config's own bookkeeping."""

    def check(settings_class: type, schema: dict) -> None:
        attributes = {item.name: item for item in dataclasses.fields(settings_class)}
        types = typing.get_type_hints(settings_class)
        keys = {key.replace("-", "_"): key for key in schema}
        bookkeeping = {"source", "explicit", "_test_file_pattern"}
        extra = bookkeeping if settings_class is config.Config else set()
        assert set(attributes) == set(keys) | extra, settings_class
        for name, key in keys.items():
            assert "_" not in key, key
            setting = schema[key]
            if isinstance(setting, dict):
                check(types[name], setting)
                assert getattr(settings_class(), name) == types[name]()
            else:
                converted = typing.get_type_hints(setting.convert)["return"]
                assert converted == types[name], key
                assert attributes[name].default == setting.default, key
                assert setting.help, key

    check(config.Config, config.SCHEMA)


def test_every_table_is_read_as_attributes_of_its_own_dataclass(tmp_path):
    write_pyproject(
        tmp_path,
        "[tool.testwarden.coverage-gate]\n"
        'fail-under = 90\ndiff-fail-under = 95\nenv = "cov"\nrunner = "hatch run tox"\n'
        "[tool.testwarden.tox-changed-tests]\n"
        'env = "py"\nrun-all-on = ["data/**"]\nignore = ["*.txt"]\n'
        "record-test-map = true\n"
        "[tool.testwarden.forbid-skipped-tests]\n"
        "allow = [{ test = 'tests/test_a.py', reason = 'flaky upstream' }]\n"
        "[tool.testwarden.forbid-mock-data]\n"
        "allow-patch = [{ target = 'stripe', reason = 'payments' }]\n"
        'baseline = "ci/baseline.json"\n'
        "[tool.testwarden.protect-guardrails]\n"
        "allow = [{ guardrail = 'coverage.fail_under', reason = 'agreed' }]\n",
    )

    settings = config.load(tmp_path)

    assert settings.coverage_gate == config.CoverageGateSettings(
        fail_under=90.0, diff_fail_under=95.0, env="cov", runner="hatch run tox"
    )
    assert settings.tox_changed_tests == config.ToxChangedTestsSettings(
        env="py",
        runner=None,
        run_all_on=("data/**",),
        ignore=("*.txt",),
        record_test_map=True,
    )
    assert settings.forbid_test_deletion.allow == ()
    assert settings.forbid_skipped_tests.allow == (
        config.Exemption("tests/test_a.py", "flaky upstream"),
    )
    assert settings.forbid_mock_data == config.ForbidMockDataSettings(
        allow_patch=(config.AllowedPatch("stripe", "payments"),),
        baseline="ci/baseline.json",
    )
    assert settings.protect_guardrails.allow == (
        config.GuardrailExemption("coverage.fail_under", "agreed"),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.coverage_gate.fail_under = 10  # type: ignore[misc]


def test_a_command_line_override_of_no_setting_is_named(tmp_path):
    with pytest.raises(
        UserError, match="unknown setting 'coverage-gate': 'fail_under'"
    ):
        config.load(tmp_path, {"coverage-gate": {"fail_under": 90}})


# forbid-mock-data's table, [tool.testwarden.mock-data] before it was named
# after its hook.

OLD_TABLE_NOTE = (
    ":{line}: note: [tool.testwarden.mock-data] is now named "
    "[tool.testwarden.forbid-mock-data], after its hook; rename the table "
    "(the old name still works)\n"
)


def test_the_forbid_mock_data_table_is_named_after_its_hook(tmp_path, capsys):
    write_pyproject(
        tmp_path, '[tool.testwarden.forbid-mock-data]\nbaseline = "ci/baseline.json"\n'
    )

    assert config.load(tmp_path).forbid_mock_data.baseline == "ci/baseline.json"
    assert capsys.readouterr().err == ""


def test_the_old_mock_data_table_is_read_with_a_note(tmp_path, capsys):
    write_pyproject(
        tmp_path,
        '[project]\nname = "x"\n\n[tool.testwarden.mock-data]\n'
        'baseline = "ci/baseline.json"\n',
    )

    settings = config.load(tmp_path)

    assert settings.forbid_mock_data.baseline == "ci/baseline.json"
    assert capsys.readouterr().err == str(tmp_path / "pyproject.toml") + (
        OLD_TABLE_NOTE.format(line=4)
    )


def test_the_old_table_set_inline_is_read_with_its_line(tmp_path, capsys):
    write_pyproject(
        tmp_path,
        '[tool.testwarden]\ntest-files = ["t/**"]\nmock-data = { baseline = "b.json" }\n',
    )

    assert config.load(tmp_path).forbid_mock_data.baseline == "b.json"
    assert capsys.readouterr().err.endswith(OLD_TABLE_NOTE.format(line=3))


def test_errors_in_the_old_table_name_the_old_table(tmp_path):
    write_pyproject(tmp_path, "[tool.testwarden.mock-data]\nbaseline = '/abs.json'\n")

    with pytest.raises(UserError) as raised:
        config.load(tmp_path)

    assert str(raised.value) == (
        f"{tmp_path / 'pyproject.toml'}:2: [tool.testwarden.mock-data] 'baseline' "
        "must be a path relative to the repository root, got '/abs.json'"
    )

    write_pyproject(tmp_path, "[tool.testwarden]\nmock-data = 1\n")
    with pytest.raises(UserError, match=r":2: \[tool.testwarden\] 'mock-data' must be"):
        config.load(tmp_path)


def test_the_old_and_the_new_table_together_are_an_error(tmp_path):
    write_pyproject(
        tmp_path,
        "[tool.testwarden.forbid-mock-data]\nbaseline = 'a.json'\n\n"
        "[tool.testwarden.mock-data]\nbaseline = 'b.json'\n",
    )

    with pytest.raises(UserError) as raised:
        config.load(tmp_path)

    assert str(raised.value) == (
        f"{tmp_path / 'pyproject.toml'}:4: [tool.testwarden.mock-data] and "
        "[tool.testwarden.forbid-mock-data] are both set, one table under its old "
        "and new name; move the settings into [tool.testwarden.forbid-mock-data] "
        "and delete [tool.testwarden.mock-data]"
    )


def test_the_old_name_is_no_key_inside_a_hook_table(tmp_path):
    write_pyproject(tmp_path, "[tool.testwarden.coverage-gate]\nmock-data = 1\n")

    with pytest.raises(
        UserError, match=r":2: \[tool.testwarden.coverage-gate\] 'mock-data' is not"
    ):
        config.load(tmp_path)


OLD_TABLE = (
    "[tool.testwarden.mock-data]\n"
    "allow-patch = [{ target = 'stripe', reason = 'no sandbox for payouts' }]\n"
)
PATCHING_TEST = (
    "from unittest.mock import patch\n\n\n"
    "def test_pay():\n"
    "    with patch('stripe.Payout.create'):\n"
    "        pass\n"
)


def test_forbid_mock_data_still_reads_the_old_table_with_the_note(repo, capsys):
    write("pyproject.toml", OLD_TABLE)
    write("tests/test_pay.py", PATCHING_TEST)
    add(".")

    exit_code = forbid_mock_data.main([])

    captured = capsys.readouterr()
    assert exit_code == 0, captured.out
    assert "no sandbox for payouts (allow-patch)" in captured.out
    assert captured.err.splitlines() == [
        str(repo / "pyproject.toml") + OLD_TABLE_NOTE.format(line=1).rstrip(),
        "forbid-mock-data: checking the staged change (no file names passed)",
    ]


def test_the_old_table_works_through_pre_commit_with_the_note(
    repo, project_root, tmp_path
):
    write(
        ".pre-commit-config.yaml", manifest_config(project_root, ["forbid-mock-data"])
    )
    write("pyproject.toml", OLD_TABLE)
    write("tests/test_pay.py", PATCHING_TEST)
    add(".")

    ran = pre_commit(
        project_root,
        tmp_path / "pre-commit-home",
        "run",
        "--verbose",
        "forbid-mock-data",
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Passed" in ran.stdout
    assert "no sandbox for payouts (allow-patch)" in ran.stdout
    assert "pyproject.toml" + OLD_TABLE_NOTE.format(line=1) in ran.stdout
