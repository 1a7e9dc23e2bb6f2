from __future__ import annotations

import pytest

from hooks import cli, protect_guardrails
from tests.change_modes_test import manifest_config, pre_commit
from tests.helpers import add, commit, committed, git, stage, write

PRE_COMMIT = """\
repos:
  - repo: https://example.org/testwarden.git
    rev: v1.2.0
    hooks:
      - id: forbid-test-deletion
      - id: coverage-gate
  - repo: local
    hooks:
      - id: lint
        name: lint
        entry: "true"
        language: system
"""


def check(capsys, *argv: str) -> tuple[int, str]:
    exit_code = protect_guardrails.main(list(argv))
    captured = capsys.readouterr()
    return exit_code, captured.out + captured.err


def exemption(guardrail: str, reason: str = "agreed in review") -> str:
    return (
        "[tool.testwarden.protect-guardrails]\n"
        f'allow = [{{ guardrail = "{guardrail}", reason = "{reason}" }}]\n'
    )


@pytest.mark.parametrize(
    ("before", "after", "guardrail"),
    [
        (
            "[tool.coverage.report]\nfail_under = 90\n",
            "[tool.coverage.report]\nfail_under = 80\n",
            "coverage.fail_under",
        ),
        (
            "[tool.testwarden.coverage-gate]\nfail-under = 95\n",
            "[tool.testwarden.coverage-gate]\nfail-under = 90\n",
            "coverage-gate.fail-under",
        ),
        (
            "[tool.testwarden.coverage-gate]\ndiff-fail-under = 95\n",
            "",
            "coverage-gate.diff-fail-under",
        ),
    ],
)
def test_a_lowered_threshold_blocks(repo, capsys, before, after, guardrail):
    committed({"pyproject.toml": before})
    stage({"pyproject.toml": after})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert f": {guardrail}: " in out
    assert "To fix:" in out and f'guardrail = "{guardrail}"' in out


def test_a_raised_threshold_passes(repo, capsys):
    committed({"pyproject.toml": "[tool.coverage.report]\nfail_under = 80\n"})
    stage({"pyproject.toml": "[tool.coverage.report]\nfail_under = 90\n"})

    assert check(capsys) == (0, "")


def test_the_finding_names_file_line_old_and_new_value(repo, capsys):
    committed(
        {"setup.cfg": "[metadata]\nname = x\n\n[coverage:report]\nfail_under = 90\n"}
    )
    stage(
        {"setup.cfg": "[metadata]\nname = x\n\n[coverage:report]\nfail_under = 85.5\n"}
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "setup.cfg:5: coverage.fail_under: 90 -> 85.5; lowers the total coverage "
        "coverage.py requires" in out
    )


def test_coverage_reads_coveragerc_first_as_coverage_does(repo, capsys):
    committed(
        {
            ".coveragerc": "[report]\nfail_under = 90\n",
            "pyproject.toml": "[tool.coverage.report]\nfail_under = 95\n",
        }
    )
    git("rm", "--quiet", ".coveragerc")

    exit_code, out = check(capsys)

    # pyproject.toml's 95 now counts: stricter, not weaker.
    assert (exit_code, out) == (0, "")


def test_command_line_thresholds_lowered_or_removed_block(repo, capsys):
    committed(
        {
            "tox.ini": "[testenv]\ncommands = pytest --cov --cov-fail-under=90\n",
            ".github/workflows/ci.yml": "run: diff-cover coverage.xml --fail-under 80\n",
            "Makefile": "cov:\n\tcoverage report --fail-under=70\n",
        }
    )
    stage(
        {
            "tox.ini": "[testenv]\ncommands = pytest --cov --cov-fail-under=60\n",
            ".github/workflows/ci.yml": "run: diff-cover coverage.xml\n",
            "Makefile": "cov:\n\tcoverage report --fail-under=75\n",
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tox.ini:2: pytest.--cov-fail-under: 90 -> 60" in out
    assert ".github/workflows/ci.yml:1: diff-cover.--fail-under: 80 -> (removed)" in out
    assert "coverage.--fail-under" not in out


def test_removing_a_testwarden_hook_blocks_and_adding_one_passes(repo, capsys):
    committed({".pre-commit-config.yaml": PRE_COMMIT})
    stage(
        {
            ".pre-commit-config.yaml": PRE_COMMIT.replace(
                "      - id: coverage-gate\n", ""
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        ".pre-commit-config.yaml:6: pre-commit.coverage-gate.removed: "
        "https://example.org/testwarden.git v1.2.0 -> (removed); the hook no longer runs"
    ) in out
    assert "lint" not in out

    git("reset", "--quiet", "--hard")
    stage(
        {
            ".pre-commit-config.yaml": PRE_COMMIT.replace(
                "      - id: coverage-gate\n",
                "      - id: coverage-gate\n      - id: protect-guardrails\n",
            )
        }
    )
    assert check(capsys) == (0, "")


def test_deleting_the_pre_commit_config_removes_every_hook(repo, capsys):
    committed({".pre-commit-config.yaml": PRE_COMMIT})
    git("rm", "--quiet", ".pre-commit-config.yaml")

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "pre-commit.forbid-test-deletion.removed" in out
    assert "pre-commit.coverage-gate.removed" in out


@pytest.mark.parametrize(
    ("override", "guardrail", "shown"),
    [
        ("        files: ^src/\n", "files", "(all files) -> ^src/"),
        ("        exclude: ^legacy/\n", "exclude", "^$ -> ^legacy/"),
        (
            "        stages: [manual]\n",
            "stages",
            "manual, pre-commit, pre-push -> manual",
        ),
        (
            '        entry: "true"\n',
            "runs",
            "-> https://example.org/testwarden.git entry: true",
        ),
    ],
)
def test_narrowing_a_hook_blocks(repo, capsys, override, guardrail, shown):
    committed({".pre-commit-config.yaml": PRE_COMMIT})
    narrowed = PRE_COMMIT.replace(
        "      - id: coverage-gate\n", "      - id: coverage-gate\n" + override
    )
    stage({".pre-commit-config.yaml": narrowed})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert f".pre-commit-config.yaml:6: pre-commit.coverage-gate.{guardrail}: " in out
    assert shown in out


def test_widening_a_hook_passes(repo, capsys):
    narrowed = PRE_COMMIT.replace(
        "      - id: coverage-gate\n",
        "      - id: coverage-gate\n        files: ^src/\n        stages: [pre-push]\n",
    )
    committed({".pre-commit-config.yaml": narrowed})
    stage({".pre-commit-config.yaml": PRE_COMMIT})

    assert check(capsys) == (0, "")


def test_naming_a_hooks_own_manifest_stages_weakens_nothing(repo, capsys):
    # mutation-gate's manifest runs it at pre-push and manual only.
    listed = PRE_COMMIT.replace(
        "      - id: coverage-gate\n",
        "      - id: coverage-gate\n      - id: mutation-gate\n",
    )
    committed({".pre-commit-config.yaml": listed})
    stage(
        {
            ".pre-commit-config.yaml": listed.replace(
                "      - id: mutation-gate\n",
                "      - id: mutation-gate\n        stages: [pre-push]\n",
            )
        }
    )

    assert check(capsys) == (0, "")


def test_a_global_exclude_blocks(repo, capsys):
    committed({".pre-commit-config.yaml": PRE_COMMIT})
    stage({".pre-commit-config.yaml": "exclude: ^src/\n" + PRE_COMMIT})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert ".pre-commit-config.yaml:1: pre-commit.exclude: ^$ -> ^src/" in out


@pytest.mark.parametrize(
    ("new_rev", "blocked"), [("v1.1.9", True), ("v1.3.0", False), ("abc1234", False)]
)
def test_an_older_rev_blocks(repo, capsys, new_rev, blocked):
    committed({".pre-commit-config.yaml": PRE_COMMIT})
    stage({".pre-commit-config.yaml": PRE_COMMIT.replace("v1.2.0", new_rev)})

    exit_code, out = check(capsys)

    assert exit_code == int(blocked)
    assert ("pre-commit.coverage-gate.rev: v1.2.0 -> v1.1.9" in out) == blocked


def test_coverage_gate_args_lower_its_threshold(repo, capsys):
    committed(
        {
            "pyproject.toml": "[tool.testwarden.coverage-gate]\nfail-under = 90\n",
            ".pre-commit-config.yaml": PRE_COMMIT,
        }
    )
    stage(
        {
            ".pre-commit-config.yaml": PRE_COMMIT.replace(
                "      - id: coverage-gate\n",
                "      - id: coverage-gate\n        args: [--fail-under, '50']\n",
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert ".pre-commit-config.yaml:6: coverage-gate.fail-under: 90 -> 50" in out


@pytest.mark.parametrize(
    ("table", "before", "after", "finding"),
    [
        (
            "mutation-gate",
            "fail-under = 80",
            "fail-under = 60",
            "pyproject.toml:2: mutation-gate.fail-under: 80 -> 60; lowers the "
            "mutation score mutation-gate requires",
        ),
        (
            "tox-changed-tests",
            "stress-new = 5",
            "stress-new = 0",
            "pyproject.toml:2: tox-changed-tests.stress-new: 5 -> 0; runs new and "
            "changed tests fewer times in changing orders (0: never)",
        ),
    ],
)
def test_lowering_mutation_gate_or_stress_new_is_weakening(
    repo, capsys, table, before, after, finding
):
    committed({"pyproject.toml": f"[tool.testwarden.{table}]\n{before}\n"})
    stage({"pyproject.toml": f"[tool.testwarden.{table}]\n{after}\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert finding in out


def test_stress_new_in_args_lowers_it_and_a_word_there_is_named(repo, capsys):
    hooks = "      - id: tox-changed-tests\n"
    config = PRE_COMMIT.replace("      - id: coverage-gate\n", hooks)
    committed({".pre-commit-config.yaml": config})
    stage(
        {
            ".pre-commit-config.yaml": config.replace(
                hooks, hooks + "        args: [--stress-new=2]\n"
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert ".pre-commit-config.yaml:6: tox-changed-tests.stress-new: 5 -> 2" in out

    stage(
        {
            ".pre-commit-config.yaml": config.replace(
                hooks, hooks + "        args: [--stress-new, many]\n"
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code != 0
    assert (
        ".pre-commit-config.yaml: tox-changed-tests args: --stress-new 'many' is "
        "not a number"
    ) in out


@pytest.mark.parametrize(
    ("addopts", "guardrail"),
    [
        ("-ra --ignore=tests/slow", "pytest.addopts.--ignore"),
        ("-ra --deselect tests/test_a.py::test_x", "pytest.addopts.--deselect"),
        ("-ra -k 'not flaky'", "pytest.addopts.-k"),
        ("-ra -pno:randomly", "pytest.addopts.-p"),
    ],
)
def test_addopts_that_hide_tests_block(repo, capsys, addopts, guardrail):
    committed({"pytest.ini": "[pytest]\naddopts = -ra -p no:cacheprovider\n"})
    stage({"pytest.ini": f"[pytest]\naddopts = {addopts} -p no:cacheprovider\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert f"pytest.ini:2: {guardrail}: " in out
    assert "keeps tests from being collected or run" in out


def test_an_m_filter_blocks_only_on_markers_tests_carried_before(repo, capsys):
    """click 777a89e232: `-m 'not stress'` beside the stress tests it adds
    hides no test that ran; the same filter on a marker tests had blocks."""
    slow_test = "import pytest\n\n\n@pytest.mark.slow\ndef test_big():\n    pass\n"
    committed({"pytest.ini": "[pytest]\naddopts = -ra\n", "tests/test_a.py": slow_test})
    stress_test = slow_test.replace("slow", "stress").replace("big", "race")
    stage(
        {
            "pytest.ini": "[pytest]\naddopts = -ra -m 'not stress'\n",
            "tests/test_stress.py": stress_test,
        }
    )

    assert check(capsys) == (0, "")

    stage({"pytest.ini": "[pytest]\naddopts = -ra -m 'not stress and not slow'\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "pytest.ini:2: pytest.addopts.-m: (none) -> not stress and not slow" in out


def test_addopts_that_hide_nothing_pass(repo, capsys):
    committed({"tox.ini": "[pytest]\naddopts = -ra --ignore=build\n"})
    stage({"tox.ini": "[pytest]\naddopts = -ra -x -p pytest_cov\n"})

    assert check(capsys) == (0, "")


def test_testpaths_and_norecursedirs(repo, capsys):
    committed(
        {
            "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests', 'integration']\n",
            "integration/test_flow.py": "def test_flow():\n    pass\n",
        }
    )
    stage(
        {
            "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n"
            "norecursedirs = ['.*', 'tests/slow']\n"
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "pyproject.toml:2: pytest.testpaths: tests, integration -> tests; drops integration"
        in out
    )
    assert "pyproject.toml:3: pytest.norecursedirs: " in out
    assert "adds tests/slow: keeps pytest out of more directories" in out


def test_dropping_a_testpath_that_moved_away_hides_nothing(repo, capsys):
    committed(
        {
            "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['pkg', 'tests']\n",
            "pkg/__init__.py": "",
            "tests/test_pkg.py": "def test_pkg():\n    pass\n",
        }
    )
    git("mv", "pkg", "src")
    stage({"pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n"})

    assert check(capsys) == (0, "")


def test_setting_testpaths_for_the_first_time_narrows_collection(repo, capsys):
    committed({"setup.cfg": "[tool:pytest]\naddopts = -ra\n"})
    stage({"setup.cfg": "[tool:pytest]\naddopts = -ra\ntestpaths = tests/unit\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "setup.cfg:3: pytest.testpaths: (unset: every directory) -> tests/unit" in out
    )


def test_new_omit_and_exclusions_block(repo, capsys):
    committed(
        {
            ".coveragerc": "[run]\nbranch = true\n[report]\nexclude_also =\n    if TYPE_CHECKING:\n"
        }
    )
    stage(
        {
            ".coveragerc": "[run]\nbranch = true\nomit = src/legacy/*\n[report]\n"
            "exclude_also =\n    if TYPE_CHECKING:\n    def __repr__\n"
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert ".coveragerc:3: coverage.run.omit: (none) -> src/legacy/*" in out
    assert "coverage.exclude_also: " in out and "adds def __repr__" in out


def test_an_added_pragma_blocks_and_an_existing_one_does_not(repo, capsys):
    committed(
        {
            "pyproject.toml": "[tool.coverage.report]\nexclude_also = ['# nocov', 'raise NotImplementedError']\n",
            "src/app.py": "def old():  # pragma: no cover\n    return 1\n",
        }
    )
    stage(
        {
            "src/app.py": "def old():  # pragma: no cover\n    return 1\n\n\n"
            "def new():  # PRAGMA: NO COVER\n    return 2\n\n\n"
            "def other():  # nocov\n    raise NotImplementedError\n"
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "src/app.py:5: pragma.no-cover:src/app.py: (none) -> 'def new():  # PRAGMA: NO COVER'"
        in out
    )
    assert "src/app.py:9: pragma.no-cover:src/app.py" in out
    assert "src/app.py:1:" not in out and "src/app.py:10:" not in out


def test_reasonless_inline_suppressions_block(repo, capsys):
    committed({"tests/test_a.py": "def test_a():\n    pass\n"})
    stage(
        {
            "tests/test_a.py": "from unittest import mock  # testwarden: allow-mock\n"
            'import os  # testwarden: allow-mock reason="the clock"\n'
            "def test_a():\n    pass  # testwarden: allow-skip reason=''\n"
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tests/test_a.py:1: inline.allow-mock:tests/test_a.py" in out
    assert "tests/test_a.py:4: inline.allow-skip:tests/test_a.py" in out
    assert "tests/test_a.py:2:" not in out


def test_new_exemptions_of_other_hooks_are_listed_for_the_reviewer(repo, capsys):
    committed({"pyproject.toml": "[project]\nname = 'x'\n"})
    stage(
        {
            "pyproject.toml": "[project]\nname = 'x'\n\n"
            "[tool.testwarden.forbid-test-deletion]\n"
            "allow = [{ test = 'tests/test_a.py', reason = 'gone' }]\n\n"
            "[tool.testwarden.mock-data]\n"
            "allow-patch = [{ target = 'stripe.Charge', reason = 'payments' }]\n"
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 0
    assert (
        "new exemption, for the reviewer: pyproject.toml:5: forbid-test-deletion.allow: "
        "(none) -> tests/test_a.py" in out
    )
    assert (
        "new exemption, for the reviewer: pyproject.toml:8: mock-data.allow-patch: "
        "(none) -> stripe.Charge" in out
    )


def test_forbid_weakened_tests_exemptions_are_guarded_like_the_others(repo, capsys):
    committed({"pyproject.toml": "[project]\nname = 'x'\n", "tests/test_a.py": ""})
    stage(
        {
            "pyproject.toml": "[project]\nname = 'x'\n\n"
            "[tool.testwarden.forbid-weakened-tests]\n"
            "allow = [{ test = 'tests/test_a.py::test_a', reason = 'smoke test' }]\n",
            "tests/test_a.py": "def test_a():  # testwarden: allow-weaken\n    pass\n",
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "new exemption, for the reviewer: pyproject.toml:5: forbid-weakened-tests.allow: "
        "(none) -> tests/test_a.py::test_a" in out
    )
    assert "tests/test_a.py:1: inline.allow-weaken:tests/test_a.py: (none) -> " in out
    assert "switches off forbid-weakened-tests findings without a reason" in out


def baseline(*counts: int) -> str:
    entries = ",".join(
        f'{{"path": "tests/test_{n}.py", "function": "test_x", "rule": "mock-import", "count": {count}}}'
        for n, count in enumerate(counts)
    )
    return f'{{"findings": [{entries}]}}\n'


def test_a_grown_mock_data_baseline_blocks_and_a_shrunk_one_passes(repo, capsys):
    committed({".testwarden-mock-data-baseline.json": baseline(2, 1)})
    stage({".testwarden-mock-data-baseline.json": baseline(1, 1)})
    assert check(capsys) == (0, "")

    stage({".testwarden-mock-data-baseline.json": baseline(2, 2)})
    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        ".testwarden-mock-data-baseline.json: mock-data.baseline: "
        "3 entries -> 4 entries; adds tests/test_1.py:test_x:mock-import" in out
    )


def test_an_exemption_with_a_reason_passes_and_is_listed(repo, capsys):
    committed({"pyproject.toml": "[tool.coverage.report]\nfail_under = 90\n"})
    stage(
        {
            "pyproject.toml": "[tool.coverage.report]\nfail_under = 80\n\n"
            + exemption("coverage.fail_under", "vendored parser moved in")
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 0
    assert (
        "accepted by exemption: pyproject.toml:2: coverage.fail_under: 90 -> 80; "
        "lowers the total coverage coverage.py requires; reason: vendored parser moved in"
    ) in out
    assert "1 weakening(s) accepted by exemptions" in out


def test_an_exemption_without_a_reason_cannot_run(repo, capsys):
    committed({"pyproject.toml": "[tool.coverage.report]\nfail_under = 90\n"})
    stage(
        {
            "pyproject.toml": "[tool.coverage.report]\nfail_under = 80\n"
            "[tool.testwarden.protect-guardrails]\n"
            "allow = [{ guardrail = 'coverage.fail_under' }]\n"
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 2
    assert (
        "pyproject.toml:4: [tool.testwarden.protect-guardrails] 'allow' must be" in out
    )
    assert len(out.strip().splitlines()) == 1


def test_an_exemption_accepts_only_the_change_that_adds_it(repo, capsys):
    committed(
        {
            "pyproject.toml": "[tool.coverage.report]\nfail_under = 90\n"
            + exemption("coverage.fail_under")
        }
    )
    stage(
        {
            "pyproject.toml": "[tool.coverage.report]\nfail_under = 70\n"
            + exemption("coverage.fail_under")
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "the exemption for coverage.fail_under predates this change" in out


def test_loosening_the_rules_in_the_same_commit_does_not_help(repo, capsys):
    """The base side says what is a guardrail: the change cannot redefine it."""
    committed(
        {
            "pyproject.toml": "[tool.coverage.report]\nexclude_also = ['# skipcov']\n",
            "src/app.py": "def f():\n    return 1\n",
        }
    )
    stage(
        {
            "pyproject.toml": "[tool.coverage.report]\nexclude_also = []\n",
            "src/app.py": "def f():  # skipcov\n    return 1\n",
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "src/app.py:1: pragma.no-cover:src/app.py" in out


def test_a_range_with_the_exemption_in_another_commit_passes(repo, capsys):
    base = committed({"pyproject.toml": "[tool.coverage.report]\nfail_under = 90\n"})
    committed(
        {
            "pyproject.toml": "[tool.coverage.report]\nfail_under = 90\n"
            + exemption("coverage.fail_under")
        },
        "exemption",
    )
    committed(
        {
            "pyproject.toml": "[tool.coverage.report]\nfail_under = 80\n"
            + exemption("coverage.fail_under")
        },
        "lower",
    )

    exit_code, out = check(capsys, "--from-ref", base, "--to-ref", "HEAD")

    assert exit_code == 0
    assert "accepted by exemption" in out


def test_the_first_commit_weakens_nothing(repo, capsys):
    stage({"pyproject.toml": "[tool.coverage.report]\nfail_under = 10\n"})

    assert check(capsys) == (0, "")


def test_all_files_only_checks_that_the_settings_read(repo, capsys):
    committed({"pyproject.toml": "[tool.coverage.report]\nfail_under = 10\n"})

    exit_code, out = check(capsys, "--all-files")

    assert exit_code == 0
    assert "--all-files has no before side" in out


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        ("pyproject.toml", "[tool.coverage\n", "pyproject.toml:1: invalid TOML"),
        ("tox.ini", "no section\n", "tox.ini: invalid ini file"),
        (".pre-commit-config.yaml", "repos: 3\n", "pre-commit cannot load it"),
        (".pre-commit-config.yaml", "repos: [", "pre-commit cannot load it"),
        ("setup.cfg", b"\xff\xfe", "setup.cfg: not UTF-8"),
        (".testwarden-mock-data-baseline.json", "[]", "not a mock-data baseline"),
        ("pytest.ini", "[pytest]\naddopts = -k 'x\n", "pytest.ini: [pytest] addopts:"),
    ],
)
def test_an_unreadable_guardrail_file_after_the_change_cannot_run(
    repo, capsys, path, text, message
):
    commit()
    write(path, text)
    add(path)

    exit_code, out = check(capsys)

    assert exit_code == 2
    assert message in out
    assert len(out.strip().splitlines()) == 1


def test_an_unreadable_file_before_the_change_is_read_as_unset(repo, capsys):
    committed({"pyproject.toml": "[tool.coverage\n"})
    stage({"pyproject.toml": "[tool.coverage.report]\nfail_under = 90\n"})

    exit_code, out = check(capsys)

    assert exit_code == 0
    assert "note: before the change" in out and "invalid TOML" in out


def test_the_hook_runs_through_the_testwarden_command(repo, capsys):
    committed({"pyproject.toml": "[tool.coverage.report]\nfail_under = 90\n"})
    stage({"pyproject.toml": "[tool.coverage.report]\nfail_under = 50\n"})

    assert cli.main(["protect-guardrails"]) == 1
    assert "coverage.fail_under: 90 -> 50" in capsys.readouterr().out


def test_allow_comments_in_strings_prose_or_broken_files_are_not_suppressions(
    repo, capsys
):
    committed({"src/app.py": "x = 1\n"})
    stage(
        {
            "src/app.py": "x = 1\nhelp = '# testwarden: allow-mock'\n"
            "# see `# testwarden: allow-skip` in the docs\n"
            'y = 2  # noqa  # testwarden: allow-mock reason="the network"\n',
            "src/plain.py": "z = 3\n",
            "src/broken.py": "def f(:\n    s = '''  # testwarden: allow-mock\n",
        }
    )

    assert check(capsys) == (0, "")


def test_an_invalid_exclusion_regex_is_ignored_like_coverage_refuses_it(repo, capsys):
    committed(
        {
            "pyproject.toml": "[tool.coverage.report]\nexclude_also = ['# (unclosed']\n",
            "src/app.py": "x = 1\n",
        }
    )
    stage({"src/app.py": "x = 1\ny = 2  # (unclosed\n"})

    assert check(capsys) == (0, "")


def test_renaming_a_command_file_away_removes_its_threshold(repo, capsys):
    committed({"tox.ini": "[testenv]\ncommands = pytest --cov-fail-under=90\n"})
    git("mv", "tox.ini", "tox.ini.disabled")

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tox.ini:2: pytest.--cov-fail-under: 90 -> (removed)" in out


def test_a_non_numeric_coverage_gate_threshold_argument_cannot_run(repo, capsys):
    committed({".pre-commit-config.yaml": PRE_COMMIT})
    stage(
        {
            ".pre-commit-config.yaml": PRE_COMMIT.replace(
                "      - id: coverage-gate\n",
                "      - id: coverage-gate\n        args: [--diff-fail-under=high]\n",
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 2
    assert "coverage-gate args: --diff-fail-under 'high' is not a number" in out


ATTRS_PYTEST = """\
[tool.pytest]
addopts = ["-ra", "--strict-markers"]
testpaths = ["tests", "conftest.py"]
xfail_strict = true
"""


@pytest.mark.parametrize(
    ("after", "shown"),
    [
        (
            ATTRS_PYTEST.replace('"tests", "conftest.py"', '"tests"'),
            "pyproject.toml:3: pytest.testpaths: tests, conftest.py -> tests; "
            "drops conftest.py: collects tests from fewer places",
        ),
        (
            ATTRS_PYTEST.replace(
                '"--strict-markers"',
                '"--strict-markers", "--deselect", "tests/a.py::t"',
            ),
            "pyproject.toml:2: pytest.addopts.--deselect: (none) -> tests/a.py::t; "
            "adds tests/a.py::t: keeps tests from being collected or run",
        ),
    ],
    ids=["testpaths", "deselect"],
)
def test_pytest_9_native_table_hides_tests_like_ini_options(repo, capsys, after, shown):
    committed({"pyproject.toml": ATTRS_PYTEST, "conftest.py": "", "tests/a.py": ""})
    stage({"pyproject.toml": after})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert shown in out


def test_pytest_9_native_table_widened_passes(repo, capsys):
    committed({"pyproject.toml": ATTRS_PYTEST, "conftest.py": ""})
    stage(
        {
            "pyproject.toml": ATTRS_PYTEST.replace(
                '"tests",', '"tests", "docs",'
            ).replace('"-ra", ', "")
        }
    )

    assert check(capsys) == (0, "")


def test_pytest_toml_comes_first_as_in_pytest_9(repo, capsys):
    committed(
        {
            "pytest.toml": '[pytest]\ntestpaths = ["tests", "docs"]\n',
            "pytest.ini": "[pytest]\ntestpaths = tests docs\n",
            "docs/test_doc.py": "",
        }
    )
    stage({"pytest.ini": "[pytest]\ntestpaths = tests\n"})
    assert check(capsys) == (0, "")

    stage({"pytest.toml": '[pytest]\ntestpaths = ["tests"]\n'})
    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "pytest.toml:2: pytest.testpaths: tests, docs -> tests; drops docs" in out


HTTPX_COVERAGE_SCRIPT = """\
#!/bin/sh -e

export PREFIX=""
if [ -d 'venv' ] ; then
    export PREFIX="venv/bin/"
fi

set -x

${PREFIX}coverage report --show-missing --skip-covered --fail-under=100
"""


def test_a_threshold_in_a_shell_script_without_extension_is_read_by_its_shebang(
    repo, capsys
):
    committed({"scripts/coverage": HTTPX_COVERAGE_SCRIPT})
    stage({"scripts/coverage": HTTPX_COVERAGE_SCRIPT.replace("=100", "=95")})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "scripts/coverage:10: coverage.--fail-under: 100 -> 95; "
        "lowers the coverage `coverage report` requires" in out
    )


def test_a_raised_script_threshold_or_a_text_file_without_shebang_passes(repo, capsys):
    notes = HTTPX_COVERAGE_SCRIPT.replace("#!/bin/sh -e", "Release notes")
    committed({"scripts/coverage": HTTPX_COVERAGE_SCRIPT, "NOTES": notes})
    stage(
        {
            "scripts/coverage": HTTPX_COVERAGE_SCRIPT,
            "NOTES": notes.replace("=100", "=50"),
        }
    )

    assert check(capsys) == (0, "")


TOX_INI = """\
[tox]
env_list = py, lint

[testenv]
deps = pytest
commands =
    python -m pytest {posargs:tests}  # the suite
    coverage report --fail-under=90

[testenv:lint]
commands = ruff check --ignore E501 src
"""
TOX_TOML = """\
env_list = ["py"]

[env_run_base]
commands = [["pytest", "--cov-fail-under", "90", { replace = "posargs", extend = true }]]
"""
PYPROJECT_TOX = """\
[tool.tox]
env_list = ["py"]

[tool.tox.env_run_base]
commands = [
  ["coverage", "run", "-m", "pytest"],
  ["coverage", "report", "--fail-under=90"],
]
"""
LEGACY_TOX = '''\
[tool.tox]
legacy_tox_ini = """
[testenv]
commands = pytest
"""
'''
SETUP_CFG_TOX = "[tox:tox]\nenv_list = py\n\n[testenv]\ncommands = pytest tests\n"


@pytest.mark.parametrize(
    ("path", "before", "after", "shown"),
    [
        (
            "tox.ini",
            TOX_INI,
            TOX_INI.replace("{posargs", "--deselect tests/a.py::t {posargs"),
            "tox.ini:7: tox.commands.--deselect: (none) -> tests/a.py::t; "
            "adds tests/a.py::t: keeps tests from being collected or run",
        ),
        (
            "tox.ini",
            TOX_INI,
            TOX_INI.replace("tests}  #", "tests} -m 'not slow'  #"),
            "tox.ini:7: tox.commands.-m: (none) -> not slow; adds not slow",
        ),
        (
            "tox.ini",
            TOX_INI,
            TOX_INI.replace("--fail-under=90", "--fail-under=85"),
            "tox.ini:8: coverage.--fail-under: 90 -> 85; "
            "lowers the coverage `coverage report` requires",
        ),
        (
            "tox.toml",
            TOX_TOML,
            TOX_TOML.replace('"pytest",', '"pytest", "-k", "not network",'),
            "tox.toml:4: tox.commands.-k: (none) -> not network; adds not network",
        ),
        (
            "tox.toml",
            TOX_TOML,
            TOX_TOML.replace('"90"', '"80"'),
            "tox.toml:4: pytest.--cov-fail-under: 90 -> 80; "
            "lowers the coverage pytest-cov requires",
        ),
        (
            "pyproject.toml",
            PYPROJECT_TOX,
            PYPROJECT_TOX.replace('"pytest"]', '"pytest", "--ignore=tests/e2e"]'),
            "pyproject.toml:5: tox.commands.--ignore: (none) -> tests/e2e; adds tests/e2e",
        ),
        (
            "pyproject.toml",
            PYPROJECT_TOX,
            PYPROJECT_TOX.replace('"--fail-under=90"', '"--fail-under", "70"'),
            "pyproject.toml:7: coverage.--fail-under: 90 -> 70",
        ),
        (
            "pyproject.toml",
            LEGACY_TOX,
            LEGACY_TOX.replace("= pytest", "= pytest --deselect=t.py::x"),
            "pyproject.toml:4: tox.commands.--deselect: (none) -> t.py::x",
        ),
        (
            "setup.cfg",
            SETUP_CFG_TOX,
            SETUP_CFG_TOX.replace("tests", "tests -k fast"),
            "setup.cfg:5: tox.commands.-k: (none) -> fast; adds fast",
        ),
    ],
    ids=[
        "tox.ini-deselect",
        "tox.ini-factor-marker",
        "tox.ini-coverage-report",
        "tox.toml-k",
        "tox.toml-cov-fail-under",
        "tool.tox-ignore",
        "tool.tox-coverage-report",
        "legacy_tox_ini-deselect",
        "setup.cfg-k",
    ],
)
def test_tox_commands_that_hide_tests_or_lower_thresholds_block(
    repo, capsys, path, before, after, shown
):
    committed({path: before})
    stage({path: after})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert shown in out


@pytest.mark.parametrize(
    ("path", "before", "after"),
    [
        ("tox.ini", TOX_INI, TOX_INI.replace("{posargs", "-x --cov {posargs")),
        ("tox.ini", TOX_INI, TOX_INI.replace("E501", "E501 --ignore W")),
        ("tox.ini", TOX_INI.replace("tests}", "tests} -k fast"), TOX_INI),
        ("tox.toml", TOX_TOML, TOX_TOML.replace('"90"', '"95"')),
        ("pyproject.toml", PYPROJECT_TOX, PYPROJECT_TOX.replace('"run", ', "")),
        (
            "setup.cfg",
            SETUP_CFG_TOX.replace("[tox:tox]", "[metadata]"),
            "[metadata]\n" "\n\n[testenv]\ncommands = pytest -k fast\n",
        ),
        # A command added beside the suite's runs more, hides nothing (attrs
        # 6879ffd11d: `mypy: pytest -k test_mypy`).
        (
            "tox.ini",
            TOX_INI,
            TOX_INI.replace(
                "    coverage", "    py312: pytest -m 'not slow'\n    coverage"
            ),
        ),
    ],
    ids=[
        "more-options",
        "not-pytest",
        "filter-removed",
        "threshold-raised",
        "coverage-run-dropped",
        "setup.cfg-without-tox",
        "added-factor-command",
    ],
)
def test_tox_commands_that_hide_nothing_pass(repo, capsys, path, before, after):
    committed({path: before})
    stage({path: after})

    assert check(capsys) == (0, "")


def test_a_new_value_of_a_filter_tox_had_blocks_alone(repo, capsys):
    committed({"tox.ini": "[testenv]\ncommands = pytest -k a\n"})
    stage({"tox.ini": "[testenv]\ncommands =\n    pytest -k a\n    pytest -k b\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tox.ini:4: tox.commands.-k: a -> a, b; adds b: keeps tests" in out
    assert "adds a" not in out


def test_a_new_tox_environment_that_runs_a_subset_hides_nothing(repo, capsys):
    """click's stress env (777a89e232): a new env runs `pytest -m stress`; no
    test any run ran before stops running. The same filter in an environment
    that existed blocks."""
    base = "[testenv]\ncommands = pytest {posargs}\n"
    committed({"tox.ini": base})
    stage({"tox.ini": base + "\n[testenv:stress]\ncommands = pytest -m stress\n"})

    assert check(capsys) == (0, "")

    commit("a stress env")
    stage(
        {"tox.ini": base + "\n[testenv:stress]\ncommands = pytest -m stress -k fast\n"}
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tox.ini:5: tox.commands.-k: (none) -> fast; adds fast" in out


MOCKED_TEST = """\
from unittest import mock


def test_client():
    client = mock.Mock()
    assert client
"""
OTHER_MOCKED_TEST = MOCKED_TEST.replace("test_client", "test_server")
BASELINE_FILE = ".testwarden-mock-data-baseline.json"


def test_the_documented_adoption_passes_every_guard_and_a_grown_baseline_blocks(
    repo, capsys
):
    base = committed({"tests/test_client.py": MOCKED_TEST, "pyproject.toml": ""})
    # README: run `testwarden baseline` once and commit the file it writes.
    assert cli.main(["baseline"]) == 0
    add(BASELINE_FILE)
    assert cli.main(["protect-guardrails"]) == 0
    assert cli.main(["forbid-mock-data"]) == 0
    out = capsys.readouterr().out
    assert (
        f"{BASELINE_FILE}: adopted: the new mock-data baseline records 2 finding(s) "
        "the code before the change already has; from now on it may only shrink"
    ) in out
    commit("adopt testwarden")
    assert cli.main(["check", "--from-ref", base]) == 0
    assert cli.main(["forbid-mock-data", "--all-files"]) == 0
    capsys.readouterr()

    write("tests/test_server.py", OTHER_MOCKED_TEST)
    add(".")
    assert cli.main(["baseline"]) == 0
    add(BASELINE_FILE)
    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        f"{BASELINE_FILE}: mock-data.baseline: 2 entries -> 4 entries; adds "
        "2 entries: lets forbid-mock-data accept more existing mock data"
    ) in out


def test_an_adopted_baseline_cannot_cover_mock_data_the_same_change_adds(repo, capsys):
    base = committed({"tests/test_client.py": MOCKED_TEST})
    write("t/s.py", MOCKED_TEST.replace("test_client", "test_s"))
    add(".")
    assert cli.main(["baseline"]) == 0
    add(BASELINE_FILE)
    commit("adopt, and more mocks")
    capsys.readouterr()

    exit_code, out = check(capsys, "--from-ref", base, "--to-ref", "HEAD")

    assert exit_code == 1
    assert (
        f"{BASELINE_FILE}: mock-data.baseline: (no baseline) -> 4 entries; adds "
        "t/s.py:<module>:mock-object, t/s.py:test_s:mock-object, mock data the "
        "code before the change does not have: "
        "lets forbid-mock-data accept more existing mock data"
    ) in out
    assert "adopted" not in out


COMPAT_BEFORE = (
    "import os\nimport platform\nimport sys\nfrom typing import TYPE_CHECKING\n"
)


@pytest.mark.parametrize(
    ("added", "line", "why"),
    [
        (
            "if sys.version_info >= (3, 11):  # pragma: no cover\n"
            "    from typing import Self\n"
            "else:  # pragma: no cover\n"
            "    from typing_extensions import Self\n",
            7,
            "a branch on sys.version_info",
        ),
        (
            "if sys.version_info[:2] < (3, 11):\n"
            "    from typing_extensions import Self  # pragma: no cover\n",
            6,
            "a branch on sys.version_info",
        ),
        (
            "try:\n"
            "    import multipart  # pragma: no cover\n"
            "except ImportError:  # pragma: no cover\n"
            "    multipart = None\n",
            6,
            "an import guarded by `except ImportError`",
        ),
        (
            "try:\n"
            "    import tomllib\n"
            "except (ImportError, ModuleNotFoundError):\n"
            "    import tomli as tomllib  # pragma: no cover\n",
            8,
            "an `except ImportError` fallback",
        ),
        (
            "if TYPE_CHECKING:  # pragma: no cover\n    from x import Y\n",
            5,
            "a branch on TYPE_CHECKING",
        ),
        (
            "if sys.platform.startswith('win'):  # pragma: no cover\n"
            "    import msvcrt\n",
            5,
            "a branch on sys.platform",
        ),
        (
            "if not os.name == 'nt':\n    pass\nelse:  # pragma: no cover\n"
            "    import nt\n",
            7,
            "a branch on os.name",
        ),
        (
            "if platform.system() == 'Windows' or sys.platform == 'cygwin':\n"
            "    SEP = ';'  # pragma: no cover\n",
            6,
            "a branch on platform.system",
        ),
        # attrs' _compat.py (7373d88f9b): a flag the module binds to a version test.
        (
            "PY_3_13_PLUS = sys.version_info[:2] >= (3, 13)\n"
            "PY_3_14_PLUS = not PY_3_13_PLUS or sys.version_info[:2] >= (3, 14)\n"
            "if PY_3_14_PLUS:  # pragma: no cover\n"
            "    import annotationlib\n",
            7,
            "a branch on sys.version_info",
        ),
    ],
    ids=[
        "version-branches",
        "version-guarded-import",
        "import-and-fallback",
        "fallback-body",
        "type-checking",
        "platform",
        "os-name-else",
        "platform-system",
        "module-level-version-flag",
    ],
)
def test_a_pragma_on_code_only_another_interpreter_runs_passes_with_a_note(
    repo, capsys, added, line, why
):
    committed({"src/compat.py": COMPAT_BEFORE})
    stage({"src/compat.py": COMPAT_BEFORE + added})

    exit_code, out = check(capsys)

    assert exit_code == 0
    text = (COMPAT_BEFORE + added).splitlines()[line - 1].strip()
    assert (
        f"src/compat.py:{line}: note: pragma.no-cover:src/compat.py: {text!r} is on "
        f"{why}, code the test interpreter cannot run; not blocked"
    ) in out


PRAGMA_BEFORE = (
    "def connect(context):\n"
    "    if FLAG:  # pragma: no cover\n"
    "        try:\n"
    "            context.auth = True\n"
    "        except AttributeError:  # pragma: no cover\n"
    "            pass\n"
)


@pytest.mark.parametrize(
    ("after", "blocked"),
    [
        (
            "def connect(context):\n"
            "    try:\n"
            "        context.auth = True\n"
            "    except AttributeError:  # pragma: no cover\n"
            "        pass\n",
            [],
        ),
        (
            "def connect(context):\n"
            "    try:\n"
            "        context.auth = True\n"
            "    except AttributeError:  # pragma: no cover\n"
            "        pass\n"
            "    try:\n"
            "        context.strict = True\n"
            "    except AttributeError:  # pragma: no cover\n"
            "        pass\n",
            [8],
        ),
        (
            "def connect(context):\n"
            "    try:\n"
            "        context.auth = True\n"
            "    except (AttributeError, TypeError):  # pragma: no cover\n"
            "        pass\n",
            [4],
        ),
    ],
    ids=["re-indented", "re-indented-and-copied", "edited"],
)
def test_a_pragma_line_the_file_had_before_is_not_new_but_a_copy_or_an_edit_is(
    repo, capsys, after, blocked
):
    committed({"src/app.py": PRAGMA_BEFORE})
    stage({"src/app.py": after})

    exit_code, out = check(capsys)

    assert exit_code == (1 if blocked else 0)
    found = [line for line in out.splitlines() if ": pragma.no-cover:" in line]
    assert [int(line.split(":")[1]) for line in found] == blocked


@pytest.mark.parametrize(
    ("added", "line"),
    [
        ("from typing_extensions import Self  # pragma: no cover\n", 5),
        ("if DEBUG:  # pragma: no cover\n    import pdb\n", 5),
        (
            "DEBUG = os.environ.get('DEBUG') == '1'\n"
            "if DEBUG:  # pragma: no cover\n    import pdb\n",
            6,
        ),
        (
            "if sys.version_info >= (3, 11) and DEBUG:  # pragma: no cover\n    pass\n",
            5,
        ),
        ("if sys.platform == PLATFORM:  # pragma: no cover\n    pass\n", 5),
        (
            "try:\n    import json\nexcept ValueError:  # pragma: no cover\n    pass\n",
            7,
        ),
        (
            "try:\n    value = int('3')  # pragma: no cover\n"
            "except ImportError:\n    value = 0\n",
            6,
        ),
        ("try:\n    import json\nexcept:  # pragma: no cover\n    pass\n", 7),
        ("if sys.version_info >= (3, 11):  # pragma: no cover\n    def f(:\n", 5),
    ],
    ids=[
        "unguarded-import",
        "runtime-flag",
        "module-level-runtime-flag",
        "version-and-flag",
        "platform-against-a-name",
        "other-exception",
        "non-import-in-try",
        "bare-except",
        "does-not-parse",
    ],
)
def test_a_pragma_on_code_the_test_run_could_execute_still_blocks(
    repo, capsys, added, line
):
    committed({"src/compat.py": COMPAT_BEFORE})
    stage({"src/compat.py": COMPAT_BEFORE + added})

    exit_code, out = check(capsys)

    assert exit_code == 1
    text = (COMPAT_BEFORE + added).splitlines()[line - 1].strip()
    assert (
        f"src/compat.py:{line}: pragma.no-cover:src/compat.py: (none) -> {text!r}; "
        "excludes an added line from coverage"
    ) in out
    assert "not blocked" not in out


def test_switching_stress_new_off_is_refused_through_pre_commit(
    repo, project_root, tmp_path
):
    home = tmp_path / "pre-commit-home"
    committed(
        {
            ".pre-commit-config.yaml": manifest_config(
                project_root, ["protect-guardrails"]
            ),
            "pyproject.toml": "[tool.testwarden.tox-changed-tests]\nstress-new = 5\n",
        }
    )
    lowered = "[tool.testwarden.tox-changed-tests]\nstress-new = 0\n"
    finding = "pyproject.toml:2: tox-changed-tests.stress-new: 5 -> 0"
    stage({"pyproject.toml": lowered})

    staged = pre_commit(project_root, home, "run", "protect-guardrails")
    commit("stress-new off, past the hooks")
    pushed = pre_commit(
        project_root,
        home,
        "run",
        "protect-guardrails",
        "--from-ref",
        "HEAD~1",
        "--to-ref",
        "HEAD",
    )

    assert staged.returncode == 1, staged.stdout
    assert finding in staged.stdout, staged.stdout
    assert pushed.returncode == 1, pushed.stdout
    assert finding in pushed.stdout, pushed.stdout
