from __future__ import annotations

import pytest

from hooks import config
from hooks.errors import UserError


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
    assert settings.hook("coverage-gate")["fail-under"] == 92.5


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

    [exemption] = config.load(tmp_path).hook("forbid-test-deletion")["allow"]

    assert (exemption.test, exemption.reason) == (
        "tests/test_a.py::test_x",
        "feature removed",
    )
