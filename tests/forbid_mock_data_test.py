from __future__ import annotations

import json
from pathlib import Path

import pytest

from hooks import cli, forbid_mock_data
from tests.helpers import add, commit, git, stage, write

BASELINE = ".testwarden-mock-data-baseline.json"
MOCK_IMPORT = "from unittest import mock\n"
REAL_TEST = (
    "import sqlite3\n\nimport pytest\n\n\n"
    "@pytest.fixture\n"
    "def database(tmp_path):\n"
    "    connection = sqlite3.connect(tmp_path / 'test.db')\n"
    "    yield connection\n"
    "    connection.close()\n\n\n"
    "def test_query(database):\n"
    "    assert database.execute('select 1').fetchone() == (1,)\n"
)
MOCK_TEST = (
    MOCK_IMPORT + "\n\n"
    "def test_one():\n"
    "    client = mock.Mock()\n"
    "    assert client\n"
)


def run(capsys, *argv: str) -> tuple[int, str]:
    code = forbid_mock_data.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def baseline_entries() -> list[dict]:
    return json.loads(Path(BASELINE).read_text())["findings"]


def test_a_clean_change_passes_silently(repo, capsys):
    stage({"tests/test_db.py": REAL_TEST, "app/__init__.py": ""})

    assert run(capsys) == (0, "")


def test_a_mock_in_a_commit_blocks_with_the_rule_and_a_hint(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST})

    code, output = run(capsys)

    assert code == 1
    lines = output.splitlines()
    assert lines[0].startswith(
        "tests/test_client.py:1: mock-object: imports `unittest.mock`, a mock-object "
        "library; use instead: the real object"
    )
    assert lines[1].startswith(
        "tests/test_client.py:5: mock-object: `mock.Mock` (unittest.mock) stands in"
    )
    assert lines[2].startswith("forbid-mock-data: 2 finding(s) in the staged change")
    assert "To fix:" in output
    assert "testwarden baseline" in output


def test_the_spec_example_message_for_a_fabricated_fixture(repo, capsys):
    stage(
        {
            "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef user():\n"
            "    return {'name': 'Jane Doe', 'email': 'jane@example.com'}\n"
        }
    )

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0] == (
        "tests/conftest.py:4: fabricated-fixture: fixture `user` returns a literal dict "
        "of placeholder values (line 6); use instead: build the user through the "
        "project's code against real resources (tmp_path, a real test database, a real "
        "server), or load it from a committed data file"
    )


def test_only_lines_the_commit_adds_block(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST})
    commit("legacy mocks")
    write(
        "tests/test_client.py",
        MOCK_TEST.replace("assert client", "assert client is not None"),
    )
    add("tests/test_client.py")

    assert run(capsys) == (0, "")

    write("tests/test_client.py", MOCK_TEST + "    other = mock.MagicMock()\n")
    add("tests/test_client.py")

    code, output = run(capsys)
    assert code == 1
    assert output.startswith("tests/test_client.py:7: mock-object: `mock.MagicMock`")
    assert "1 finding(s)" in output


def test_an_edit_inside_a_fabricated_fixture_counts_as_adding_it(repo, capsys):
    fixture = "import pytest\n\n\n@pytest.fixture\ndef user():\n    return {'id': 1}\n"
    stage({"tests/conftest.py": fixture})
    commit()
    write("tests/conftest.py", fixture.replace("{'id': 1}", "{'id': 2}"))
    add("tests/conftest.py")

    code, output = run(capsys)

    assert code == 1
    assert output.startswith("tests/conftest.py:4: fabricated-fixture")


STUBBED_TEST = (
    "def test_env(monkeypatch):\n"
    "    monkeypatch.setattr(os, 'getcwd', lambda: '/nowhere')\n"
    "    assert os.getcwd() == '/nowhere'\n"
)
OTHER_TEST = "def test_other():\n    assert True\n"


@pytest.mark.parametrize(
    ("moved", "blocked"),
    [
        (STUBBED_TEST, []),
        (STUBBED_TEST.replace("'/nowhere')", "'/elsewhere')"), [2]),
        (STUBBED_TEST + "\n\n" + STUBBED_TEST.replace("test_env", "test_copy"), [7]),
    ],
    ids=["moved", "moved-and-edited", "moved-and-copied"],
)
def test_mock_data_moved_to_another_file_is_not_new_but_an_edit_or_a_copy_is(
    repo, capsys, moved, blocked
):
    stage({"tests/test_a.py": "import os\n\n\n" + STUBBED_TEST + "\n\n" + OTHER_TEST})
    base = commit("base")
    stage({"tests/test_a.py": OTHER_TEST, "tests/test_b.py": "import os\n\n\n" + moved})
    commit("split the tests")

    code, output = run(capsys, "--from-ref", base, "--to-ref", "HEAD")

    assert code == (1 if blocked else 0)
    found = [line for line in output.splitlines() if ": monkeypatch-stub:" in line]
    assert [int(line.split(":")[1]) - 3 for line in found] == blocked


def test_a_range_checks_what_the_branch_adds(repo, capsys):
    stage({"tests/test_db.py": REAL_TEST})
    base = commit("base")
    git("checkout", "--quiet", "-b", "feature")
    stage({"tests/test_client.py": MOCK_TEST})
    commit("feature adds a mock")

    code, output = run(capsys, "--from-ref", base, "--to-ref", "feature")

    assert code == 1
    assert f"2 finding(s) in {base[:12]}.." in output
    assert run(capsys, "--from-ref", "feature", "--to-ref", "feature") == (0, "")


def test_all_files_reports_everything_and_the_baseline_absorbs_it(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST, "tests/test_db.py": REAL_TEST})
    commit()

    code, output = run(capsys, "--all-files")
    assert code == 1
    assert "2 finding(s) in all tracked files" in output

    assert cli.main(["baseline"]) == 0
    assert capsys.readouterr().out == (
        f"wrote {BASELINE}: 2 finding(s) in 1 file(s), 2 more than before; commit it\n"
    )
    assert baseline_entries() == [
        {
            "path": "tests/test_client.py",
            "function": "<module>",
            "rule": "mock-object",
            "count": 1,
        },
        {
            "path": "tests/test_client.py",
            "function": "test_one",
            "rule": "mock-object",
            "count": 1,
        },
    ]
    add(BASELINE)

    assert run(capsys, "--all-files") == (0, "")


def test_the_baseline_is_keyed_by_function_not_line(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST})
    forbid_mock_data.baseline_main([])
    add(BASELINE)
    commit()
    capsys.readouterr()
    moved = MOCK_TEST.replace(
        "def test_one():\n", "def test_one():\n    '''Now documented.'''\n\n"
    )
    write("tests/test_client.py", "import os\n" + moved)
    add("tests/test_client.py")

    assert run(capsys) == (0, "")

    write("tests/test_client.py", moved + "    again = mock.Mock()\n")
    add("tests/test_client.py")
    code, output = run(capsys)
    assert code == 1
    assert "`mock.Mock` (unittest.mock) stands in" in output
    assert output.startswith("tests/test_client.py:9:")


def test_the_hook_shrinks_the_baseline_and_never_grows_it(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST})
    forbid_mock_data.baseline_main([])
    add(BASELINE)
    commit()
    capsys.readouterr()
    write("tests/test_client.py", MOCK_IMPORT)
    add("tests/test_client.py")

    code, output = run(capsys)

    assert code == 1
    assert output == (
        f"Fixing {BASELINE}: removed 1 baselined finding(s) that no longer occur "
        "(the baseline only shrinks); stage it\n"
        "forbid-mock-data: checking the staged change (no file names passed)\n"
    )
    assert baseline_entries() == [
        {
            "path": "tests/test_client.py",
            "function": "<module>",
            "rule": "mock-object",
            "count": 1,
        }
    ]
    add(BASELINE)
    assert run(capsys) == (0, "")


def test_a_baseline_with_unstaged_edits_is_left_alone(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST})
    forbid_mock_data.baseline_main([])
    add(BASELINE)
    commit()
    capsys.readouterr()
    git("rm", "--quiet", "tests/test_client.py")
    Path(BASELINE).write_text(Path(BASELINE).read_text() + "\n")

    code, output = run(capsys)

    assert code == 0
    assert (
        "2 baselined finding(s) no longer occur, but the file has unstaged edits"
        in output
    )


def test_a_range_only_notes_a_stale_baseline(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST})
    forbid_mock_data.baseline_main([])
    add(BASELINE)
    base = commit()
    capsys.readouterr()
    git("rm", "--quiet", "tests/test_client.py")
    head = commit()

    code, output = run(capsys, "--from-ref", base)

    assert code == 0
    assert output == (
        f"{BASELINE}: note: 2 baselined finding(s) no longer occur; run "
        "`forbid-mock-data --all-files` in a checkout to remove them\n"
        f"forbid-mock-data: checking {base[:12]}..{head[:12]} (--from-ref)\n"
    )


def test_all_files_drops_entries_of_files_that_are_gone(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST})
    forbid_mock_data.baseline_main([])
    git("rm", "--quiet", "--cached", "tests/test_client.py")
    add(BASELINE)
    capsys.readouterr()

    code, output = run(capsys, "--all-files")

    assert code == 1
    assert "removed 2 baselined finding(s)" in output
    assert baseline_entries() == []


def test_a_renamed_file_keeps_its_baseline(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST})
    forbid_mock_data.baseline_main([])
    add(BASELINE)
    commit()
    capsys.readouterr()
    git("mv", "tests/test_client.py", "tests/test_api_client.py")

    assert run(capsys) == (0, "")


def test_the_baseline_command_reports_what_it_cannot_read(repo, capsys):
    stage({"tests/test_broken.py": "import mock\ndef broken(:\n"})

    assert cli.main(["baseline"]) == 0

    output = capsys.readouterr().out
    assert "tests/test_broken.py:2: cannot check this test file for mock data" in output
    assert f"wrote {BASELINE}: 0 finding(s) in 0 file(s), 0 more than before" in output


def test_the_baseline_command_counts_only_growth(repo, capsys):
    stage({"tests/test_client.py": MOCK_TEST})
    forbid_mock_data.baseline_main([])
    stage({"tests/test_other.py": MOCK_IMPORT})
    capsys.readouterr()

    forbid_mock_data.baseline_main([])

    assert "3 finding(s) in 2 file(s), 1 more than before" in capsys.readouterr().out


def test_a_broken_baseline_is_a_clear_error(repo, capsys):
    stage({BASELINE: "{not json", "tests/test_db.py": REAL_TEST})

    code, output = run(capsys)

    assert code == 2
    assert output.startswith(f"testwarden: {BASELINE}: not a mock-data baseline (")
    assert output.rstrip().endswith("rewrite it with `testwarden baseline`")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[]", 'no "findings" list'),
        ('{"findings": [{"path": "x.py"}]}', "bad entry"),
        (
            '{"findings": [{"path": "a", "function": "f", "rule": "r", "count": true}]}',
            "bad entry",
        ),
    ],
)
def test_a_baseline_of_the_wrong_shape_is_a_clear_error(repo, capsys, content, problem):
    stage({BASELINE: content})

    code, output = run(capsys)

    assert code == 2
    assert problem in output


def test_duplicate_baseline_entries_add_up(repo, capsys):
    entry = {
        "path": "tests/test_client.py",
        "function": "test_one",
        "rule": "mock-object",
        "count": 1,
    }
    module = dict(entry, function="<module>")
    stage(
        {
            BASELINE: json.dumps({"findings": [module, entry, entry]}),
            "tests/test_client.py": MOCK_TEST + "    second = mock.Mock()\n",
        }
    )

    assert run(capsys) == (0, "")


def configure(table: str) -> None:
    stage({"pyproject.toml": f"[tool.testwarden.forbid-mock-data]\n{table}\n"})


def test_an_allowed_boundary_passes_and_is_listed(repo, capsys):
    configure(
        'allow-patch = [{ target = "stripe", reason = "no sandbox for payouts" }]'
    )
    stage(
        {
            "tests/test_pay.py": "from unittest.mock import patch\n\n\n"
            "def test_pay():\n"
            "    with patch('stripe.Payout.create'):\n"
            "        pass\n"
        }
    )

    code, output = run(capsys)

    assert code == 0
    assert output.splitlines() == [
        "tests/test_pay.py:1: exempt: mock-object: imports `unittest.mock.patch` from "
        "unittest.mock, a mock-object library; reason: only used to patch allowed "
        "targets (allow-patch)",
        "tests/test_pay.py:5: exempt: mock-object: `patch(...)` replaces "
        "`stripe.Payout.create` with a mock; reason: no sandbox for payouts (allow-patch)",
        "forbid-mock-data: checking the staged change (no file names passed)",
    ]


def test_a_target_no_entry_allows_still_blocks(repo, capsys):
    configure(
        "allow-patch = [\n"
        '  { target = "boto3", reason = "cloud API" },\n'
        '  { target = "stripe", reason = "payments" },\n'
        "]"
    )
    stage(
        {
            "tests/test_http.py": "from unittest.mock import patch\n\n\n"
            "def test_fetch():\n"
            "    with patch('requests.get'), patch('stripe.Charge.create'):\n"
            "        pass\n"
        }
    )

    code, output = run(capsys)

    assert code == 1
    assert "tests/test_http.py:5: exempt: mock-object:" not in output
    assert output.startswith("tests/test_http.py:1: mock-object: imports")
    assert (
        "tests/test_http.py:5: mock-object: `patch(...)` replaces `requests.get`"
        in output
    )


def test_an_allowed_target_must_not_be_the_projects_own_code(repo, capsys):
    configure('allow-patch = [{ target = "app.billing", reason = "slow" }]')
    stage({"app/billing.py": "def charge():\n    return 1\n"})

    code, output = run(capsys)

    assert code == 2
    assert "'app.billing' is the project's own code, which is never faked" in output


def test_an_allowed_target_needs_a_reason(repo, capsys):
    configure('allow-patch = [{ target = "stripe" }]')

    code, output = run(capsys)

    assert code == 2
    assert (
        "[tool.testwarden.forbid-mock-data] 'allow-patch' must be a list of" in output
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('allow-patch = "stripe"', "'allow-patch' must be a list of"),
        (
            'allow-patch = [{ target = "not a name", reason = "x" }]',
            "'allow-patch' must be",
        ),
        ('baseline = "/etc/baseline.json"', "'baseline' must be a path relative to"),
    ],
    ids=["not-a-list", "bad-target", "absolute-baseline"],
)
def test_bad_settings_name_the_key(repo, capsys, table, message):
    configure(table)

    code, output = run(capsys)

    assert code == 2
    assert message in output


def test_an_inline_allow_needs_a_reason(repo, capsys):
    stage(
        {
            "tests/test_legacy.py": "import mock  # testwarden: allow-mock\n",
            "tests/test_kept.py": "import mock  # testwarden: allow-mock reason='vendor shim'\n",
        }
    )

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[:3] == [
        "tests/test_legacy.py:1: `# testwarden: allow-mock` needs a reason: "
        'write reason="why this must be fake"',
        "tests/test_legacy.py:1: mock-object: imports `mock`, a mock-object library; "
        "use instead: the real object: run the project's code on real inputs (files in "
        "tmp_path, a real sqlite database, a real subprocess)",
        "tests/test_kept.py:1: exempt: mock-object: imports `mock`, a mock-object "
        "library; reason: vendor shim (inline allow-mock)",
    ]


def test_existing_allow_comments_are_reported_only_when_added(repo, capsys):
    legacy = (
        "import mock  # testwarden: allow-mock\n"
        "import faker  # testwarden: allow-mock reason='seed data'\n"
    )
    stage({"tests/test_legacy.py": legacy})
    commit()
    write("tests/test_legacy.py", legacy + "import os\n")
    add("tests/test_legacy.py")

    assert run(capsys) == (0, "")


def test_mock_data_files_block_when_added(repo, capsys):
    stage({"tests/mocks/users.json": "[]\n", "tests/data/users.json": "[]\n"})

    code, output = run(capsys)

    assert code == 1
    assert output.startswith(
        "tests/mocks/users.json:1: mock-data-file: a new data file in a `mocks/` "
        "directory as mock data; use instead: data captured from the real system"
    )
    commit()
    write("tests/mocks/users.json", "[1]\n")
    add("tests/mocks/users.json")
    assert run(capsys) == (0, "")


def test_the_baseline_file_is_not_mock_data_even_when_named_so(repo, capsys):
    configure('baseline = "mock-baseline.json"')
    stage({"tests/test_client.py": MOCK_TEST})
    forbid_mock_data.baseline_main([])
    add("mock-baseline.json")
    capsys.readouterr()

    assert run(capsys, "--all-files") == (0, "")


def test_bad_input_gets_a_clear_message_never_a_traceback(repo, capsys, tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    git("-C", str(inner), "init", "--quiet")
    git("-C", str(inner), "commit", "--quiet", "--allow-empty", "-m", "inner")
    git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "--quiet",
        "add",
        str(inner),
        "vendored",
    )
    stage(
        {
            "tests/test_broken.py": "import mock\n\ndef broken(:\n",
            "app/latin.py": b"import mock\nname = '\xff'\n",
            "notebooks/explore.ipynb": "{}\n",
            "app/generated.py": "import mock\n" + "x = 1\n" * 200_000,
            "app/link.py": "x = 1\n",
        }
    )
    Path("app/link.py").unlink()
    Path("app/link.py").symlink_to("latin.py")
    add("app/link.py")

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[:4] == [
        "tests/test_broken.py:3: cannot check this test file for mock data: does not "
        "parse: invalid syntax",
        "app/generated.py: note: not checked for mock data: 1200012 bytes is more than "
        "1000000, the size of generated code, not written code",
        "app/latin.py: note: not checked for mock data: cannot decode: (unicode error) "
        "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        "notebooks/explore.ipynb: note: notebooks are not checked for mock data; keep "
        "test code in .py files",
    ]


def test_a_whole_tree_is_checked_file_by_file_as_a_small_change_is(repo, capsys):
    # enough files to be analysed in worker processes
    clean = {
        f"tests/test_{number:03}.py": f"def test_{number}():\n    assert {number}\n"
        for number in range(forbid_mock_data.PARALLEL_THRESHOLD)
    }
    stage(
        {
            **clean,
            "app/client.py": "import mock\n\nclient = mock.Mock()\n",
            "app/latin.py": b"import mock\nname = '\xff'\n",
            "tests/test_broken.py": "def broken(:\n",
            "tests/test_zz_mocked.py": "from unittest import mock\n\n\n"
            "def test_one():\n    assert mock.Mock()\n",
        }
    )
    commit("a tree")

    code, output = run(capsys, "--all-files")

    assert code == 1
    lines = output.splitlines()
    assert [line.split(": ")[0] for line in lines[:7]] == [
        "tests/test_broken.py:1",
        "app/client.py:1",
        "app/client.py:3",
        "tests/test_zz_mocked.py:1",
        "tests/test_zz_mocked.py:5",
        "app/latin.py",
        "forbid-mock-data",
    ], output
    assert "cannot check this test file for mock data" in lines[0]
    assert all(": mock-object: " in line for line in lines[1:5])
    assert "note: not checked for mock data: cannot decode" in lines[5]
    assert "5 finding(s) in all tracked files" in lines[6]


def test_outside_a_repository_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))

    assert run(capsys) == (
        2,
        "testwarden: not inside a git repository; run this from a git checkout\n",
    )
    assert forbid_mock_data.baseline_main([]) == 2


def test_project_modules_follow_the_src_layout():
    assert forbid_mock_data.project_modules(
        ["src/app/__init__.py", "tool.py", "tests/test_x.py", "README.md", "src/x.py"]
    ) == {"app", "tool", "tests", "src"}


@pytest.mark.parametrize("mode", ["staged", "range", "all-files"])
def test_a_test_file_that_does_not_parse_blocks_in_every_mode(repo, capsys, mode):
    """Even with nothing in it that looks like mock data."""
    stage({"app.py": "x = 1\n"})
    base = commit()
    stage({"tests/test_broken.py": "def test_broken(:\n    assert 1\n"})
    argv = {"staged": [], "range": ["--from-ref", base], "all-files": ["--all-files"]}
    if mode != "staged":
        commit()

    code, output = run(capsys, *argv[mode])

    assert code == 1
    assert (
        "tests/test_broken.py:1: cannot check this test file for mock data: does not "
        "parse: invalid syntax\n" in output
    )


# A test that makes the file worth reading (monkeypatch) without mock data.
SETS_ENV = "\n\ndef test_env(monkeypatch):\n    monkeypatch.setenv('MODE', 'test')\n"
RESPONSE_DOUBLE = """\
class MockResponse:
    def __init__(self, status_code):
        self.status_code = status_code

    def json(self):
        return {"ok": True}

    def raise_for_status(self):
        if self.status_code >= 400:
            raise RuntimeError("bad status")
"""


def test_a_hand_written_double_blocks_and_names_the_real_alternative(repo, capsys):
    stage({"tests/test_client.py": RESPONSE_DOUBLE + SETS_ENV})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0] == (
        "tests/test_client.py:1: hand-written-double: class `MockResponse` is a "
        "hand-written double: its methods (`json`, `raise_for_status`) only raise and "
        "return canned values; use instead: a real local server the test starts "
        "(http.server in a thread) serving committed responses"
    )


def test_a_spy_that_records_calls_is_a_double_and_observing_is_the_alternative(
    repo, capsys
):
    spy = (
        "from app.queue import Queue\n\n\n"
        "def test_ack(monkeypatch):\n"
        "    acked = []\n\n"
        "    class AckingQueue(Queue):\n"
        "        was_closed = False\n\n"
        "        def ack(self, tag):\n"
        "            acked.append(tag)\n\n"
        "        def close(self):\n"
        "            self.was_closed = True\n\n"
        "    monkeypatch.setenv('MODE', 'test')\n"
    )
    stage({"tests/test_queue.py": spy, "app/queue.py": "class Queue:\n    pass\n"})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0] == (
        "tests/test_queue.py:7: hand-written-double: class `AckingQueue` is a "
        "hand-written double: its methods (`ack`, `close`) only record their calls; "
        "use instead: a subclass of the real class that calls super() and observes, "
        "or the real object's own state after the call"
    )


@pytest.mark.parametrize(
    "definition",
    [
        pytest.param(
            "class Transport(BaseTransport):\n"
            "    events = []\n\n"
            "    def close(self):\n"
            "        self.events.append('close')\n"
            "        super().close()\n",
            id="a subclass that observes and delegates",
        ),
        pytest.param(
            "class Reader(typing.Protocol):\n"
            "    def read(self):\n"
            "        raise NotImplementedError\n",
            id="a Protocol",
        ),
        pytest.param(
            "class Refused(ConnectionError):\n"
            "    def reason(self):\n"
            "        raise ValueError('refused')\n",
            id="an exception",
        ),
        pytest.param(
            "class Conn:\n"
            "    @property\n"
            "    def encoding(self):\n"
            "        return 'utf-8'\n",
            id="only properties",
        ),
        pytest.param(
            "class Resource(BaseResource):\n    def setup(self):\n        pass\n",
            id="a subclass filling a hook with pass",
        ),
        pytest.param(
            "class MyType(UserDefinedType):\n"
            "    def get_col_spec(self):\n"
            "        return 'BAR'\n",
            id="a subclass filling a hook with a literal",
        ),
        pytest.param(
            "class Money:\n    def __str__(self):\n        return '1 EUR'\n",
            id="a value object with only dunders",
        ),
        pytest.param(
            "class Node(Entity):\n"
            "    def append(self, node):\n"
            "        self.children.append(node)\n",
            id="a method filling state the class does not declare",
        ),
        pytest.param(
            "class Config:\n    def __init__(self, path):\n        self.path = path\n",
            id="only __init__",
        ),
        pytest.param(
            "class TestResolver:\n    def resolve(self):\n        return None\n",
            id="a test class",
        ),
        pytest.param(
            "def test_slots():\n"
            "    class Plain:\n"
            "        def method(self):\n"
            "            return 'method'\n\n"
            "    Slotted = attr.s(slots=True)(Plain)\n"
            "    assert Slotted().method() == 'method'\n",
            id="a class decorated by hand, the subject of its test (attrs)",
        ),
    ],
)
def test_classes_that_are_not_doubles_pass(repo, capsys, definition):
    source = "import typing\n\n\n" + definition + SETS_ENV
    stage({"tests/test_shapes.py": source})

    assert run(capsys) == (0, "")


def test_a_class_holding_a_mock_is_a_mock_object_not_a_double(repo, capsys):
    source = (
        "from unittest.mock import Mock\n\n\n"
        "class Pool:\n"
        "    def __init__(self):\n"
        "        self.instance = Mock()\n\n"
        "    def producer(self):\n"
        "        return self.instance\n"
    )
    stage({"tests/test_pool.py": source})

    code, output = run(capsys)

    assert code == 1
    rules = [line.split(": ")[1] for line in output.splitlines() if ": " in line]
    assert "hand-written-double" not in rules
    assert "tests/test_pool.py:6: mock-object: `Mock`" in output


def test_a_double_shaped_class_outside_test_code_is_not_judged(repo, capsys):
    stage({"app/responses.py": RESPONSE_DOUBLE + SETS_ENV})

    assert run(capsys) == (0, "")


def test_mock_transport_handlers_are_doubles_and_a_same_named_variable_is_not(
    repo, capsys
):
    source = (
        "import httpx\n\n\n"
        "def hello(request):\n"
        "    return httpx.Response(200, text=request.url.path)\n\n\n"
        "class App:\n"
        "    def __call__(self, request):\n"
        "        return httpx.Response(401)\n\n\n"
        "class Recorder(httpx.BaseTransport):\n"
        "    def __init__(self, name):\n"
        "        self.name = name\n\n\n"
        "def test_auth():\n"
        "    app = App()\n"
        "    assert httpx.Client(transport=httpx.MockTransport(app)).get('/')\n\n\n"
        "def test_hello():\n"
        "    app = Recorder('other')\n"
        "    assert httpx.Client(transport=httpx.MockTransport(hello)).get('/')\n"
    )
    stage({"tests/test_http.py": source})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[:2] == [
        "tests/test_http.py:4: hand-written-double: function `hello` answers requests "
        "with canned responses in place of a server (a MockTransport handler); use "
        "instead: a real local server the test starts (the app under test in a "
        "thread, or http.server) serving committed responses, reached through a "
        "real transport",
        "tests/test_http.py:8: hand-written-double: class `App` answers requests with "
        "canned responses in place of a server (a MockTransport handler); use "
        "instead: a real local server the test starts (the app under test in a "
        "thread, or http.server) serving committed responses, reached through a "
        "real transport",
    ]
    assert "Recorder" not in output


def test_a_lambda_handing_back_the_tests_own_value_or_a_hand_advanced_clock_is_a_stub(
    repo, capsys
):
    source = (
        "import time\n\n"
        "from app import package\n\n\n"
        "def test_read(monkeypatch):\n"
        "    read_data = 'Name: demo'\n"
        "    monkeypatch.setattr(package.Wheel, 'read', lambda _: read_data)\n\n\n"
        "def test_timeout(monkeypatch):\n"
        "    clock = [0.0]\n"
        "    monkeypatch.setattr(time, 'monotonic', lambda: clock[0])\n"
        "    clock[0] += 5\n\n\n"
        "def test_real(monkeypatch):\n"
        "    monkeypatch.setattr(package, 'load', lambda path: package.parse(path))\n"
    )
    stage({"tests/test_package.py": source, "app/package.py": ""})

    code, output = run(capsys)

    assert code == 1
    found = [line.split("; use instead")[0] for line in output.splitlines()[:2]]
    assert found == [
        "tests/test_package.py:8: monkeypatch-stub: `monkeypatch.setattr` replaces "
        "the project's own `app.package.Wheel.read` with a lambda returning "
        "`read_data`",
        "tests/test_package.py:13: monkeypatch-stub: `monkeypatch.setattr` replaces "
        "`time.monotonic` with a lambda returning `clock[0]`",
    ]
    assert ":17:" not in output


def test_a_stand_in_put_into_sys_modules_is_a_double(repo, capsys):
    source = (
        "import sys\nimport types\n\n\n"
        "def test_gevent(monkeypatch):\n"
        "    sys.modules['gevent'] = types.ModuleType('gevent')\n"
        "    monkeypatch.setitem(sys.modules, 'eventlet', types.ModuleType('e'))\n"
        "    monkeypatch.delitem(sys.modules, 'greenlet')\n"
    )
    stage({"tests/test_green.py": source})

    code, output = run(capsys)

    assert code == 1
    found = [line.split("; use instead")[0] for line in output.splitlines()[:3]]
    assert found == [
        "tests/test_green.py:6: hand-written-double: puts a stand-in for `gevent` "
        "into `sys.modules`",
        "tests/test_green.py:7: hand-written-double: puts a stand-in for `eventlet` "
        "into `sys.modules`",
        f"forbid-mock-data: 2 finding(s) in the staged change ({forbid_mock_data.GUIDELINE})",
    ]


def test_a_fixture_that_builds_a_double_is_fabricated_by_it(repo, capsys):
    source = (
        "import pytest\n\n\n"
        "@pytest.fixture\n"
        "def keyring():\n"
        "    class FailKeyring:\n"
        "        def get_password(self, system, user):\n"
        "            raise RuntimeError('fail!')\n\n"
        "    return FailKeyring()\n"
    )
    stage({"tests/conftest.py": source})

    code, output = run(capsys)

    assert code == 1
    found = [line.split("; use instead")[0] for line in output.splitlines()[:2]]
    assert found == [
        "tests/conftest.py:4: fabricated-fixture: fixture `keyring` stands in for "
        "real code with a hand-written double (line 6)",
        "tests/conftest.py:6: hand-written-double: class `FailKeyring` is a "
        "hand-written double: its methods (`get_password`) only raise",
    ]


def test_code_patched_by_plain_assignment_is_a_stub_unless_it_hands_back_a_fixture(
    repo, capsys
):
    source = (
        "import pytest\n\n"
        "from app import worker\n\n\n"
        "def noop(*args, **kwargs):\n"
        "    pass\n\n\n"
        "@pytest.fixture\n"
        "def repository(tmp_path):\n"
        "    return worker.Repository(tmp_path)\n\n\n"
        "@pytest.fixture\n"
        "def sleepless():\n"
        "    old_sleep, worker.sleep = worker.sleep, noop\n"
        "    yield\n"
        "    worker.sleep = old_sleep\n\n\n"
        "@pytest.fixture\n"
        "def settings(repository):\n"
        "    settings = worker.Settings()\n"
        "    settings.create_repository = lambda: repository\n"
        "    return settings\n\n\n"
        "class TestWorker:\n"
        "    def setup_method(self):\n"
        "        self.handler = lambda event: None\n"
    )
    stage({"tests/test_worker.py": source, "app/worker.py": ""})

    code, output = run(capsys)

    assert code == 1
    found = [line.split("; use instead")[0] for line in output.splitlines()[:3]]
    assert found == [
        "tests/test_worker.py:6: hand-written-double: function `noop` stands in for "
        "`worker.sleep`: the test patches it in at line 17",
        "tests/test_worker.py:15: fabricated-fixture: fixture `sleepless` patches code "
        "with a stub returning literals (line 17)",
        "tests/test_worker.py:17: monkeypatch-stub: `worker.sleep = ...` replaces code "
        "with the stub `noop`, which only returns fixed values or raises",
    ]
    assert "forbid-mock-data: 3 finding(s)" in output


def test_a_set_up_handing_literal_records_to_the_code_is_fabricated(repo, capsys):
    source = (
        "import pytest\n\n"
        "from app import auth, urls\n\n\n"
        "@pytest.fixture\n"
        "def workdir(tmp_path):\n"
        "    return tmp_path\n\n\n"
        "class TestAuth:\n"
        "    def setUp(self):\n"
        "        self.token = {'access_token': 'abc123', 'expires_in': 3600}\n"
        "        self.expected = {'host': 'localhost', 'port': 5672}\n\n"
        "    def test_header(self):\n"
        "        assert auth.header(token=self.token) == 'Bearer abc123'\n\n"
        "    def test_parse(self):\n"
        "        assert urls.parse('amqp://localhost:5672') == self.expected\n"
    )
    stage({"tests/test_auth.py": source, "app/auth.py": "", "app/urls.py": ""})

    code, output = run(capsys)

    assert code == 1
    found = [line.split("; use instead")[0] for line in output.splitlines()[:1]]
    assert found == [
        "tests/test_auth.py:12: fabricated-fixture: fixture `setUp` sets `self.token` "
        "to a literal dict of placeholder values (line 13)",
    ]
    assert "forbid-mock-data: 1 finding(s)" in output


def test_setting_data_or_a_mocks_attribute_by_assignment_is_not_a_hand_patch(
    repo, capsys
):
    source = (
        "from unittest import mock\n\n"
        "from app import models\n\n\n"
        "class Child:\n"
        "    name = 'x'\n\n\n"
        "def test_parent():\n"
        "    parent = models.Parent()\n"
        "    parent.child = Child()\n"
        "    dialect = mock.Mock()\n"
        "    dialect.is_disconnect = lambda *args: True\n"
    )
    stage({"tests/test_models.py": source, "app/models.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert "mock-object" in output
    assert "monkeypatch-stub" not in output


def test_a_factory_of_a_double_is_a_stub_and_raising_through_a_helper_is_raising(
    repo, capsys
):
    source = (
        "from app import auth\n\n\n"
        "def _raise_home_key_error():\n"
        "    try:\n"
        "        raise KeyError('HOME')\n"
        "    except KeyError:\n"
        "        raise KeyError('uid not found')\n\n\n"
        "class MockResponse:\n"
        "    def json(self):\n"
        "        return {'audience': 'fake-aud'}\n\n\n"
        "def test_token(monkeypatch):\n"
        "    class FailKeyring:\n"
        "        @staticmethod\n"
        "        def get_password(system, username):\n"
        "            _raise_home_key_error()\n\n"
        "    def make_session():\n"
        "        return MockResponse()\n\n"
        "    monkeypatch.setattr(auth, 'keyring', FailKeyring)\n"
        "    monkeypatch.setattr(auth, 'make_session', make_session)\n"
    )
    stage({"tests/test_auth.py": source, "app/auth.py": ""})

    code, output = run(capsys)

    assert code == 1
    found = [
        line.split(" is a hand")[0].split(" with ")[0]
        for line in output.splitlines()[:4]
    ]
    assert found == [
        "tests/test_auth.py:11: hand-written-double: class `MockResponse`",
        "tests/test_auth.py:17: hand-written-double: class `FailKeyring`",
        "tests/test_auth.py:25: monkeypatch-stub: `monkeypatch.setattr` replaces the "
        "project's own `app.auth.keyring`",
        "tests/test_auth.py:26: monkeypatch-stub: `monkeypatch.setattr` replaces the "
        "project's own `app.auth.make_session`",
    ]


def test_what_a_test_takes_from_the_projects_module_of_doubles_is_a_double(
    repo, capsys
):
    source = (
        "from unittest.mock import Mock\n\n"
        "from t.mocks import Transport\n\n\n"
        "class test_Connection:\n"
        "    def setup_method(self):\n"
        "        self.conn = Connection(transport=Transport)\n\n"
        "    def pool(self):\n"
        "        channel = Mock()\n"
        "        return Pool(Transport, channel)\n"
    )
    stage(
        {
            "t/unit/test_connection.py": source,
            "t/mocks.py": "class Transport:\n    pass\n",
            "app/transport.py": "class Transport:\n    pass\n",
            "tests/test_app.py": "from app.transport import Transport\n\n\n"
            "def test_transport(monkeypatch):\n"
            "    assert Transport()\n",
        }
    )

    code, output = run(capsys)

    assert code == 1
    doubles = [line for line in output.splitlines() if "hand-written-double" in line]
    assert [line.split("; use instead")[0] for line in doubles] == [
        "t/unit/test_connection.py:3: hand-written-double: imports `t.mocks.Transport` "
        "from t.mocks, the project's module of hand-written doubles",
        "t/unit/test_connection.py:8: hand-written-double: `Transport` (t.mocks) is a "
        "hand-written double",
    ]
    assert "tests/test_app.py" not in output


def test_a_fixture_holding_another_fixtures_mock_is_a_mock_object_too(repo, capsys):
    source = (
        "from unittest import mock\n\n"
        "import pytest\n\n"
        "from app.settings import Settings\n\n\n"
        "@pytest.fixture\n"
        "def repository():\n"
        "    return mock.Mock()\n\n\n"
        "@pytest.fixture\n"
        "def settings(repository):\n"
        "    settings = Settings()\n"
        "    settings.create_repository = lambda: repository\n"
        "    return settings\n\n\n"
        "@pytest.fixture\n"
        "def workdir(repository, tmp_path):\n"
        "    return tmp_path\n"
    )
    stage({"tests/conftest.py": source, "app/settings.py": ""})

    code, output = run(capsys)

    assert code == 1
    fixtures = [line for line in output.splitlines() if "fabricated-fixture" in line]
    assert [line.split("; use instead")[0] for line in fixtures] == [
        "tests/conftest.py:8: fabricated-fixture: fixture `repository` fabricates its "
        "value with a mock object (line 10)",
        "tests/conftest.py:13: fabricated-fixture: fixture `settings` fabricates its "
        "value with a mock object through fixture `repository` (line 16)",
    ]


def test_a_stub_returning_a_literals_own_method_call_is_a_stub(repo, capsys):
    source = (
        "from app import auth\n\n\n"
        "def test_nonce(monkeypatch):\n"
        "    def fixed_nonce(count, nonce):\n"
        "        return 'f2/wE4q74E6zIJ'.encode()\n\n"
        "    def real_nonce(count, nonce):\n"
        "        return auth.make_nonce(count).encode()\n\n"
        "    monkeypatch.setattr(auth, 'client_nonce', fixed_nonce)\n"
        "    monkeypatch.setattr(auth, 'server_nonce', real_nonce)\n"
    )
    stage({"tests/test_nonce.py": source, "app/auth.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0].split("; use instead")[0] == (
        "tests/test_nonce.py:11: monkeypatch-stub: `monkeypatch.setattr` replaces the "
        "project's own `app.auth.client_nonce` with the stub `fixed_nonce`, which "
        "only returns fixed values or raises"
    )
    assert "server_nonce" not in output


KEYRING_TEST = """\
from app import auth


def test_keyring(monkeypatch):
    class MockKeyring:
        @staticmethod
        def get_credential(system, user):
            return auth.Credential("real_user", f"{user}@{system} pa55word")

        @staticmethod
        def get_password(system, user):
            credential = MockKeyring.get_credential(system, user)
            if user != credential.username:
                raise RuntimeError("unexpected username")
            return credential.password

    monkeypatch.setattr(auth, "keyring", MockKeyring)
"""


def test_a_double_building_project_records_from_its_arguments_is_a_double(repo, capsys):
    stage({"tests/test_auth.py": KEYRING_TEST, "app/auth.py": "keyring = None\n"})

    code, output = run(capsys)

    assert code == 1
    assert (
        "tests/test_auth.py:5: hand-written-double: class `MockKeyring` is a "
        "hand-written double: its methods (`get_credential`, `get_password`) only "
        "return canned values" in output
    )
    assert "tests/test_auth.py:17: monkeypatch-stub:" in output


def test_a_class_asking_the_project_for_its_values_is_not_a_double(repo, capsys):
    real = KEYRING_TEST.replace(
        'auth.Credential("real_user", f"{user}@{system} pa55word")',
        "auth.lookup(system, user)",
    )
    stage({"tests/test_auth.py": real, "app/auth.py": "keyring = None\n"})

    assert run(capsys) == (0, "")


SLEEPLESS_CONFTEST = """\
import pytest


def noop(*args, **kwargs):
    pass


@pytest.fixture
def sleepless(request):
    module = request.node.get_closest_marker("patched_module").args[0]
    old_sleep, module.sleep = module.sleep, noop
    yield
    module.sleep = old_sleep
"""


def test_the_stub_a_fixture_patches_in_is_a_double_where_it_is_defined(repo, capsys):
    stage({"tests/conftest.py": SLEEPLESS_CONFTEST})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0].startswith(
        "tests/conftest.py:4: hand-written-double: function `noop` stands in for "
        "`module.sleep`: the test patches it in at line 11; use instead: the real "
        "`sleep`"
    )


def test_a_function_the_file_never_patches_in_is_not_a_double(repo, capsys):
    stage({"tests/conftest.py": SLEEPLESS_CONFTEST.replace(", noop", ", 0.01")})

    assert run(capsys) == (0, "")


DELIVERED_STATE_TEST = """\
from app.queue import QoS


def test_restore(monkeypatch):
    qos = QoS()

    class State(dict):
        restored = False

    qos._delivered = State({1: 1})
    monkeypatch.setenv("MODE", "test")
    qos.restore_unacked_once()
"""


def test_an_instance_of_literal_data_assigned_onto_the_code_is_a_double(repo, capsys):
    stage(
        {
            "tests/test_qos.py": DELIVERED_STATE_TEST,
            "app/queue.py": "class QoS:\n    pass\n",
        }
    )

    code, output = run(capsys)

    assert code == 1
    assert "tests/test_qos.py:7: hand-written-double: class `State` stands in for " in (
        output
    )
    assert (
        "tests/test_qos.py:10: monkeypatch-stub: `qos._delivered = ...` replaces code "
        "with an instance of the stand-in class `State`" in output
    )


def test_an_empty_instance_the_test_stores_is_not_a_double(repo, capsys):
    stored = DELIVERED_STATE_TEST.replace("State({1: 1})", "State()")
    stage({"tests/test_qos.py": stored, "app/queue.py": "class QoS:\n    pass\n"})

    assert run(capsys) == (0, "")


FAKE_DATE_TEST = """\
import pytest

from app import humanize


class FakeDate:
    def __init__(self, year, month, day):
        self.year, self.month, self.day = year, month, day

    def __str__(self):
        return f"{self.year}-{self.month}-{self.day}"


OVERFLOW = FakeDate(120390192341, 2, 2)


@pytest.mark.parametrize("value", [OVERFLOW])
def test_naturalday(value):
    assert humanize.naturalday(value) == str(value)
"""


def test_an_attribute_bag_of_a_dates_attributes_and_its_instances_are_doubles(
    repo, capsys
):
    stage({"tests/test_time.py": FAKE_DATE_TEST + SETS_ENV, "app/humanize.py": ""})

    code, output = run(capsys)

    assert code == 1
    found = [line.split("; use instead")[0] for line in output.splitlines()[:2]]
    assert found == [
        "tests/test_time.py:6: hand-written-double: class `FakeDate` is a "
        "hand-written double: a bag of the attributes of `datetime.date` (`day`, "
        "`month`, `year`), a stand-in for one",
        "tests/test_time.py:14: hand-written-double: `OVERFLOW` is an instance of "
        "the hand-written double `FakeDate` (line 6)",
    ]
    assert "use instead: a real `datetime.date`" in output


def test_a_value_object_of_other_attributes_is_test_input(repo, capsys):
    value_object = FAKE_DATE_TEST.replace(
        "self.year, self.month, self.day = year, month, day",
        "self.value1, self.value2, self.value3 = year, month, day",
    ).replace('f"{self.year}-{self.month}-{self.day}"', 'f"({self.value1})"')
    stage({"tests/test_time.py": value_object + SETS_ENV, "app/humanize.py": ""})

    assert run(capsys) == (0, "")


TOKEN_SET_UP_TEST = """\
import time

import pytest

from app import auth

fake_time = time.time()


@pytest.fixture
def workdir(tmp_path):
    return tmp_path


class TestSession:
    def setUp(self):
        self.token = {
            "token_type": "Bearer",
            "access_token": "asdfoiw37850234lkjsdfsdf",
            "refresh_token": "sldvafkjw34509s8dfsdf",
            "expires_at": fake_time + 3600,
        }

    def test_refresh(self):
        assert auth.refresh(token=self.token)
"""


def test_a_literal_token_with_one_expiry_computed_is_literal_records(repo, capsys):
    stage({"tests/test_session.py": TOKEN_SET_UP_TEST, "app/auth.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0].split("; use instead")[0] == (
        "tests/test_session.py:16: fabricated-fixture: fixture `setUp` sets "
        "`self.token` to a literal dict of placeholder values (line 17)"
    )


def test_settings_around_one_computed_value_are_configuration(repo, capsys):
    settings = TOKEN_SET_UP_TEST.replace(
        '            "refresh_token": "sldvafkjw34509s8dfsdf",\n', ""
    ).replace('            "token_type": "Bearer",\n', "")
    stage({"tests/test_session.py": settings, "app/auth.py": ""})

    assert run(capsys) == (0, "")


RECORD_HELPER_TEST = """\
from collections import namedtuple

import pytest

from app import templates


def make_users():
    User = namedtuple("User", "name,is_active")
    return [
        User("john", True),
        User("jane", True),
    ]


@pytest.fixture
def env():
    return templates.Environment()


def test_select(env):
    assert env.render(users=make_users()) == "john|jane"
"""


def test_a_helper_handing_tests_literal_named_tuples_is_literal_records(repo, capsys):
    stage({"tests/test_filters.py": RECORD_HELPER_TEST, "app/templates.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0] == (
        "tests/test_filters.py:8: fabricated-fixture: helper `make_users` hands a "
        "literal list of 2 placeholder records (line 10) to the tests it is given "
        "to; use instead: objects the project's own code builds, or records loaded "
        "from a committed data file (tests/data/...)"
    )


def test_named_tuples_a_test_only_compares_with_are_expected_values(repo, capsys):
    compared = RECORD_HELPER_TEST.replace(
        'env.render(users=make_users()) == "john|jane"',
        "env.users() == make_users()",
    )
    stage({"tests/test_filters.py": compared, "app/templates.py": ""})

    assert run(capsys) == (0, "")


HAND_CLOCK_TEST = """\
from app import connection


def test_retries_stop_at_the_timeout(monkeypatch):
    conn = connection.Connection()
    clock = [0]
    establish = conn.establish

    def connect():
        clock[0] += 2
        return establish()

    monkeypatch.setattr(conn, "establish", connect)
    monkeypatch.setattr("app.connection.time", lambda: clock[0])
    conn.autoretry()
"""


def test_a_wrapper_advancing_a_hand_made_clock_is_a_stub(repo, capsys):
    stage({"tests/test_retry.py": HAND_CLOCK_TEST, "app/connection.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0] == (
        "tests/test_retry.py:13: monkeypatch-stub: `monkeypatch.setattr` replaces "
        "`conn.establish` with `connect`, which advances `clock` by hand before the "
        "real `establish` (a clock a lambda patched in reads); use instead: the real "
        "clock (time.monotonic) driven through the code's own injection point (a "
        "timeout or clock argument it takes)"
    )


def test_a_wrapper_counting_calls_and_delegating_observes(repo, capsys):
    counting = HAND_CLOCK_TEST.replace("clock = [0]", "attempts = [0]").replace(
        "clock[0] += 2", "attempts[0] += 1"
    )
    stage({"tests/test_retry.py": counting, "app/connection.py": ""})

    code, output = run(capsys)

    assert "`conn.establish`" not in output
    assert "app.connection.time" in output


FILE_METHOD_TEST = """\
from app import package


def test_metadata_is_flattened(monkeypatch):
    metadata = open("tests/fixtures/everything.metadata")
    monkeypatch.setattr(package.Wheel, "read", metadata.read)
    assert package.PackageFile.from_filename("tests/fixtures/app.whl").metadata
"""


def test_a_method_of_a_file_the_test_opened_patched_in_is_a_stub(repo, capsys):
    stage({"tests/test_package.py": FILE_METHOD_TEST, "app/package.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0].split("; use instead")[0] == (
        "tests/test_package.py:6: monkeypatch-stub: `monkeypatch.setattr` replaces "
        "the project's own `app.package.Wheel.read` with `metadata.read`, a method "
        "of a file the test opened: the file's content in place of the real code's "
        "work"
    )


def test_a_method_of_a_real_object_of_the_project_patched_in_passes(repo, capsys):
    real = FILE_METHOD_TEST.replace(
        'open("tests/fixtures/everything.metadata")',
        'package.Wheel("tests/fixtures/other.whl")',
    )
    stage({"tests/test_package.py": real, "app/package.py": ""})

    assert run(capsys) == (0, "")


CONSUMER_TEST = """\
from app import messaging


class MockConsumer:
    consumers = set()

    def __init__(self, channel, queues=None, callbacks=None):
        self.channel = channel
        self.callbacks = callbacks

    def __enter__(self):
        self.consumers.add(self)
        return self

    def __exit__(self, *exc_info):
        self.consumers.discard(self)


def test_itermessages(monkeypatch):
    conn = messaging.Connection()
    conn.Consumer = MockConsumer
    monkeypatch.setenv("MODE", "test")
    assert list(messaging.itermessages(conn, "q", limit=1))
"""


def test_a_context_manager_registering_itself_patched_in_is_a_double(repo, capsys):
    stage({"tests/test_common.py": CONSUMER_TEST, "app/messaging.py": ""})

    code, output = run(capsys)

    assert code == 1
    found = [line.split("; use instead")[0] for line in output.splitlines()[:2]]
    assert found == [
        "tests/test_common.py:4: hand-written-double: class `MockConsumer` stands in "
        "for `conn.Consumer`: the test patches it in at line 21",
        "tests/test_common.py:21: monkeypatch-stub: `conn.Consumer = ...` replaces "
        "code with the stand-in class `MockConsumer`",
    ]


def test_a_context_manager_handed_to_the_code_as_its_subject_passes(repo, capsys):
    subject = CONSUMER_TEST.replace("    conn.Consumer = MockConsumer\n", "").replace(
        'messaging.itermessages(conn, "q", limit=1)',
        "messaging.proxy(MockConsumer(conn))",
    )
    stage({"tests/test_common.py": subject, "app/messaging.py": ""})

    assert run(capsys) == (0, "")


CONNECTION_TEST = """\
from app import messaging


class test_itermessages:
    class MockConnection:
        callbacks = []
        should_time_out = False

        def drain_events(self, **kwargs):
            if self.should_time_out:
                raise TimeoutError()
            for callback in self.callbacks:
                callback("body", "message")

    def test_default(self, monkeypatch):
        monkeypatch.setenv("MODE", "test")
        assert next(messaging.itermessages(self.MockConnection(), "q"))
"""


def test_a_class_handing_canned_messages_to_its_callbacks_is_a_double(repo, capsys):
    stage({"tests/test_common.py": CONNECTION_TEST, "app/messaging.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0] == (
        "tests/test_common.py:5: hand-written-double: class `MockConnection` is a "
        "hand-written double: its methods (`drain_events`) only hand canned values "
        "to the callbacks they hold; use instead: a real connection: a broker the "
        "test starts, or the messaging library's own in-memory transport"
    )


def test_a_class_handing_its_callbacks_what_the_project_makes_passes(repo, capsys):
    real = CONNECTION_TEST.replace(
        'callback("body", "message")', "callback(messaging.receive())"
    )
    stage({"tests/test_common.py": real, "app/messaging.py": ""})

    assert run(capsys) == (0, "")


CACHING_LOADER_TEST = """\
from app import loaders


class TestLoaders:
    def test_caching(self, monkeypatch):
        changed = False

        class TestLoader(loaders.BaseLoader):
            def get_source(self, environment, template):
                return "foo", None, lambda: not changed

        monkeypatch.setenv("MODE", "test")
        env = loaders.Environment(loader=TestLoader())
        assert env.get_template("a") is env.get_template("a")
"""


def test_a_subclass_answering_through_a_flag_the_test_sets_is_a_double(repo, capsys):
    stage({"tests/test_loader.py": CACHING_LOADER_TEST, "app/loaders.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert output.splitlines()[0] == (
        "tests/test_loader.py:8: hand-written-double: class `TestLoader` is a "
        "hand-written double: its methods (`get_source`) only return canned values "
        "(through a closure over the test's `changed`, set by hand); use instead: "
        "the project's own loader over files the test writes in tmp_path"
    )


def test_a_subclass_answering_through_a_closure_that_works_passes(repo, capsys):
    working = CACHING_LOADER_TEST.replace(
        "lambda: not changed", "lambda: loaders.uptodate(template)"
    )
    stage({"tests/test_loader.py": working, "app/loaders.py": ""})

    assert run(capsys) == (0, "")


def test_a_test_named_class_a_test_defines_is_judged_by_what_it_does(repo, capsys):
    source = (
        "def test_resolve(monkeypatch):\n"
        "    class TestResolver:\n"
        "        def resolve(self, name):\n"
        "            return '127.0.0.1'\n\n"
        "    monkeypatch.setenv('MODE', 'test')\n"
    )
    stage({"tests/test_dns.py": source})

    code, output = run(capsys)

    assert code == 1
    assert output.startswith(
        "tests/test_dns.py:2: hand-written-double: class `TestResolver` is a "
        "hand-written double: its methods (`resolve`) only return canned values"
    )


GEVENT_ERROR_TEST = """\
from unittest.mock import patch

from app.common import ignore_errors


def test_ignore_errors_catches_the_gevent_error():
    class _ConcurrentObjectUseError(Exception):
        pass

    with patch(
        "app.common.get_gevent_error", return_value=_ConcurrentObjectUseError
    ):
        with ignore_errors():
            raise _ConcurrentObjectUseError()
"""


def test_a_class_a_mock_patch_hands_out_is_a_stand_in_where_it_is_defined(repo, capsys):
    stage({"tests/test_common.py": GEVENT_ERROR_TEST, "app/common.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert (
        "tests/test_common.py:7: hand-written-double: class "
        "`_ConcurrentObjectUseError` stands in for `app.common.get_gevent_error()`: "
        "the test patches it in at line 10; use instead: the real "
        "`get_gevent_error()`: install what it needs as a test dependency"
    ) in output


def test_a_class_the_test_only_raises_beside_a_patch_is_not_a_stand_in(repo, capsys):
    raised = GEVENT_ERROR_TEST.replace(
        "return_value=_ConcurrentObjectUseError", "return_value=None"
    )
    stage({"tests/test_common.py": raised, "app/common.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert "mock-object" in output
    assert "hand-written-double" not in output


SEND_HELPER_TEST = """\
import unittest
from unittest import mock

from app.session import OAuth1Session


class OAuth1SessionTest(unittest.TestCase):
    def fake_body(self, body, status_code=200):
        def fake_send(request, **kwargs):
            response = mock.MagicMock()
            response.text = body
            return response

        return fake_send

    def test_fetch_token_invalid_response(self):
        auth = OAuth1Session("foo")
        auth.send = self.fake_body("not valid urlencoded response!")
        with self.assertRaises(ValueError):
            auth.fetch_request_token("https://example.com/token")
"""


def test_assigning_what_a_mock_making_method_returns_is_a_mock_object(repo, capsys):
    stage({"tests/test_session.py": SEND_HELPER_TEST, "app/session.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert (
        "tests/test_session.py:18: mock-object: `auth.send = ...` patches in what "
        "`self.fake_body` makes with a mock; use instead: the real object"
    ) in output


def test_assigning_what_a_method_without_mocks_returns_is_not_a_mock(repo, capsys):
    real = SEND_HELPER_TEST.replace(
        "response = mock.MagicMock()", "response = request.session.send(request)"
    )
    stage({"tests/test_session.py": real, "app/session.py": ""})

    code, output = run(capsys)

    assert "`auth.send = ...`" not in output


def test_a_decorated_class_a_mock_patch_hands_out_is_the_subject_not_a_stand_in(
    repo, capsys
):
    source = (
        "import pickle\n"
        "from unittest import mock\n\n"
        "import attr\n\n\n"
        "def test_unpickle_after_attribute_removed():\n"
        "    pickled = pickle.dumps(A(1, 2))\n\n"
        "    @attr.s(slots=True)\n"
        "    class NEW_A:\n"
        "        x = attr.ib()\n\n"
        "    with mock.patch(f'{__name__}.A', NEW_A):\n"
        "        assert pickle.loads(pickled).x == 1\n"
    )
    stage({"tests/test_slots.py": source})

    code, output = run(capsys)

    assert code == 1
    assert "mock-object" in output
    assert "hand-written-double" not in output


def test_an_instance_of_the_tests_own_model_set_as_a_relationship_is_data(repo, capsys):
    source = (
        "from app.orm import relationship\n\n\n"
        "def test_proxy(monkeypatch):\n"
        "    class Child:\n"
        "        def __init__(self, foo):\n"
        "            self.foo = foo\n\n"
        "    class Parent:\n"
        "        children = relationship(Child)\n\n"
        "    p1 = Parent()\n"
        "    p1.child = Child(foo='x')\n"
        "    monkeypatch.setenv('MODE', 'test')\n"
    )
    stage({"tests/test_proxy.py": source, "app/orm.py": ""})

    assert run(capsys) == (0, "")


def test_a_working_subclass_a_mock_patch_hands_out_is_judged_at_the_patch(repo, capsys):
    source = (
        "from unittest.mock import patch\n\n"
        "from app import default\n\n\n"
        "def test_fetch_strategy(engine):\n"
        "    class ExcCtx(default.DefaultExecutionContext):\n"
        "        def post_exec(self):\n"
        "            self.strategy = default.BufferedStrategy(self.cursor)\n\n"
        "    with patch.object(engine.dialect, 'execution_ctx_cls', ExcCtx):\n"
        "        engine.execute('select 1')\n"
    )
    stage({"tests/test_results.py": source, "app/default.py": ""})

    code, output = run(capsys)

    assert code == 1
    assert "mock-object" in output
    assert "hand-written-double" not in output
