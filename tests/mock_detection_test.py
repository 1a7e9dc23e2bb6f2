from __future__ import annotations

import re
from pathlib import Path

import pytest

from hooks import mock_detection
from hooks.mock_detection import analyse
from hooks.python_source import NotPython

INPUTS = Path(__file__).parent / "data" / "mock_detection"
PROJECT = frozenset({"app"})
EXPECT = re.compile(r"# expect: ([\w, -]+)$")


def expected_findings(source: str) -> set[tuple[int, str]]:
    """(line, rule) for every `# expect: RULE[, RULE]` marker in SOURCE."""
    return {
        (number, rule.strip())
        for number, line in enumerate(source.splitlines(), start=1)
        for match in [EXPECT.search(line)]
        if match
        for rule in match.group(1).split(",")
    }


def analyse_input(name: str, **options) -> mock_detection.FileReport:
    source = (INPUTS / name).read_bytes()
    return analyse(source, f"tests/{name}", project_modules=PROJECT, **options)


def allow_stripe(target: str) -> str | None:
    return "no sandbox" if target.startswith("stripe.") else None


@pytest.mark.parametrize(
    "name", sorted(path.name for path in INPUTS.glob("*.py.txt")), ids=str
)
def test_findings_are_exactly_the_marked_lines(name):
    source = (INPUTS / name).read_text()

    found = {(finding.line, finding.rule) for finding in analyse_input(name).findings}

    assert found == expected_findings(source)


def test_the_marker_parser_reads_several_rules():
    assert expected_findings(
        "x = 1\ny = 2  # expect: mock-object, monkeypatch-stub\n"
    ) == {
        (2, "mock-object"),
        (2, "monkeypatch-stub"),
    }


def test_a_fixture_finding_says_what_it_returns_and_what_to_use():
    report = analyse_input("fixtures_fabricated.py.txt")

    [user] = [finding for finding in report.findings if finding.function == "user"]

    assert user.format() == (
        "tests/fixtures_fabricated.py.txt:16: fabricated-fixture: fixture `user` "
        "returns a literal dict of placeholder values (line 18); use instead: build "
        "the user through the project's code against real resources (tmp_path, a real "
        "test database, a real server), or load it from a committed data file"
    )
    assert (user.line, user.end_line, user.evidence_line) == (16, 17, 18)
    assert user.key() == (
        "tests/fixtures_fabricated.py.txt",
        "user",
        "fabricated-fixture",
    )


def test_fixture_verdicts_name_their_evidence():
    findings = {
        finding.function: finding.what
        for finding in analyse_input("fixtures_fabricated.py.txt").findings
        if finding.rule == mock_detection.FABRICATED_FIXTURE
    }

    assert findings == {
        "user": "fixture `user` returns a literal dict of placeholder values (line 18)",
        "rows": "fixture `rows` returns a literal list of 2 placeholder records (line 23)",
        "users": "fixture `users` returns a literal list of 2 placeholder records (line 10)",
        "order": "fixture `order` returns a literal dict of placeholder values (line 34)",
        "payload": "fixture `payload` returns placeholder records parsed from a JSON "
        "string literal (line 39)",
        "client": "fixture `client` fabricates its value with a mock object (line 44)",
        "person": "fixture `person` builds its value with a fake-data library (line 49)",
        "account": "fixture `account` returns a literal dict of placeholder values "
        "(line 53)",
        "settings": "fixture `settings` returns a `types.SimpleNamespace` of literals "
        "(line 67)",
        "response": "fixture `response` returns an instance of the stand-in class "
        "`StandInResponse` (line 82)",
        "session_fixture": "fixture `session` returns a literal list of 1 placeholder "
        "record (line 87)",
        "TestInClass.item": "fixture `item` returns a literal dict of placeholder values "
        "(line 93)",
        "user_list": "fixture `user_list` returns a literal list of 2 placeholder "
        "records (line 10)",
        "registry": "fixture `registry` injects literal placeholder records with "
        "monkeypatch (line 107)",
        "origin": "fixture `origin` returns an instance of the stand-in class `Point` "
        "(line 120)",
        "patcher": "fixture `patcher` fabricates its value with a mock object "
        "(line 128)",
    }


def test_line_findings_say_what_the_line_does():
    messages = {
        finding.line: finding.what
        for finding in analyse_input("library_uses.py.txt").findings
    }

    assert messages[3] == "imports `unittest.mock`, a mock-object library"
    assert messages[5] == "imports `faker.Faker` from faker, a fake-data library"
    assert messages[13] == "`MagicMock` (unittest.mock) stands in for a real object"
    assert messages[26] == (
        "`patch(...)` replaces the project's own `app.payments.charge` with a mock"
    )
    assert messages[38] == "requests the `mocker` fixture (pytest_mock)"
    assert messages[49] == "`faker.email` (faker) fabricates data"
    assert messages[54] == "`responses.add` (responses) fakes a service"
    assert messages[3] != messages[5]


def test_dynamic_imports_say_so():
    messages = {
        finding.line: finding.what
        for finding in analyse_input("library_imports.py.txt").findings
    }

    assert messages[33] == "imports `unittest.mock` dynamically, a mock-object library"


def test_monkeypatch_findings_name_target_and_stub():
    messages = {
        finding.line: finding.what
        for finding in analyse_input("monkeypatch_stubs.py.txt").findings
    }

    assert messages[12] == (
        "`monkeypatch.setattr` replaces the project's own `app.storage.load` with "
        "a lambda returning `{'id': 1}`"
    )
    assert messages[23] == (
        "`monkeypatch.setattr` replaces the project's own `app.clock.now` with the "
        "stub `never_fails`, which only returns fixed values or raises"
    )
    assert messages[39] == (
        "`monkeypatch.setattr` replaces `os.replace` with the stub `_raise_os_error`, "
        "which only returns fixed values or raises"
    )
    assert messages[48] == (
        "`monkeypatch.setattr` replaces the project's own `app.storage.Store` with "
        "the stand-in class `StandInStore`"
    )
    assert messages[49].endswith("an instance of the stand-in class `StandInStore`")
    assert messages[101] == (
        "`monkeypatch.setattr` replaces `shutil.get_terminal_size` with the stub "
        "`_fixed_size`, which only returns fixed values or raises"
    )
    assert messages[54] == (
        "`monkeypatch.setattr` replaces `time.sleep` with a lambda returning `None`"
    )
    # functions written in the test in place of the real one
    assert messages[162] == (
        "`monkeypatch.setattr` replaces the project's own `app.storage.sign` with "
        "`sign_by_hand`, which calls nothing: it does none of the real `sign`'s work"
    )
    assert messages[163] == (
        "`monkeypatch.setattr` replaces the project's own `app.storage.read` with "
        "`fail_once`, which raises in place of the real `read` on some calls"
    )
    # a value made with a mock, through a parameter's default or an assignment
    assert messages[137] == (
        "`self.monkeypatch.setattr` patches in `value`, made with `mock.MagicMock` "
        "(line 135)"
    )
    assert messages[142] == (
        "`self.monkeypatch.setitem` patches in `value`, made with `mock.Mock` "
        "(line 141)"
    )


def test_long_lambda_bodies_are_shortened():
    source = (
        b"def test(monkeypatch):\n"
        b"    monkeypatch.setattr('x.y', lambda: {'a': 1, 'b': 2, 'c': 3, 'd': 4, 'e': 5, 'f': 6})\n"
    )

    [finding] = analyse(source, "t.py").findings

    assert finding.what.endswith(
        "a lambda returning `{'a': 1, 'b': 2, 'c': 3, 'd': 4, 'e':...`"
    )


def test_patch_targets_are_resolved_through_imports():
    targets = {
        finding.line: finding.patch_targets
        for finding in analyse_input("library_uses.py.txt").findings
    }

    assert targets[26] == ("app.payments.charge",)
    assert targets[32] == ("app.payments.charge",)
    assert targets[34] == ("os.environ",)
    assert targets[39] == ("app.payments.charge",)
    assert targets[13] == ()


def test_unresolvable_patch_targets_are_none():
    source = (
        b"from unittest.mock import patch\n"
        b"def test(thing):\n"
        b"    with patch.object(thing, 'attr'):\n"
        b"        pass\n"
        b"    with patch(target=make_target()):\n"
        b"        pass\n"
        b"    with patch.object(thing):\n"
        b"        pass\n"
        b"    with patch():\n"
        b"        pass\n"
    )

    findings = analyse(source, "t.py").findings

    assert [(finding.line, finding.patch_targets) for finding in findings] == [
        (1, ()),
        (3, (None,)),
        (5, (None,)),
        (7, (None,)),
        (9, (None,)),
    ]
    assert findings[1].what == "`patch.object(...)` replaces an attribute with a mock"


def test_allowed_patch_targets_exempt_the_patch_its_import_and_its_fixture():
    source = (INPUTS / "allow_comments.py.txt").read_bytes().replace(
        b"testwarden: allow-mock", b"a comment"
    ) + (
        b"\n\nimport pytest\n\n"
        b"@pytest.fixture\n"
        b"def charge(mocker):\n"
        b"    with mocker.patch('stripe.Charge.create') as created:\n"
        b"        yield created\n"
    )

    report = analyse(source, "t.py", allowed_target=allow_stripe)

    assert report.findings == []
    assert {item.reason for item in report.exempt} == {
        "no sandbox (allow-patch)",
        "only used to patch allowed targets (allow-patch)",
    }
    assert {item.finding.rule for item in report.exempt} == {
        "mock-object",
        "fabricated-fixture",
    }


def test_one_unallowed_use_keeps_the_import_blocked():
    source = (
        b"from unittest.mock import Mock, patch\n"
        b"def test():\n"
        b"    with patch('stripe.Charge.create', new=Mock()):\n"
        b"        pass\n"
        b"    assert Mock()\n"
    )

    report = analyse(source, "t.py", allowed_target=allow_stripe)

    assert [(finding.line, finding.rule) for finding in report.findings] == [
        (1, "mock-object"),
        (5, "mock-object"),
    ]
    assert [item.finding.line for item in report.exempt] == [3]


def test_the_projects_own_code_is_never_an_allowed_target():
    source = (
        b"from unittest.mock import patch\n"
        b"from . import billing\n"
        b"def test(monkeypatch):\n"
        b"    with patch('app.billing.charge'):\n"
        b"        pass\n"
        b"    monkeypatch.setattr(billing, 'charge', lambda: 1)\n"
    )

    report = analyse(
        source, "t.py", project_modules=PROJECT, allowed_target=lambda target: "why"
    )

    assert [finding.line for finding in report.findings] == [1, 4, 6]
    assert report.findings[2].patch_targets == (".billing.charge",)
    assert report.exempt == []


def test_inline_allow_needs_a_reason():
    report = analyse_input("allow_comments.py.txt")

    assert report.reasonless_allow_lines == [11, 16]
    assert [(item.finding.line, item.reason) for item in report.exempt] == [
        (2, "the payment provider has no sandbox (inline allow-mock)"),
        (6, "no sandbox (inline allow-mock)"),
    ]


def test_single_quoted_reasons_and_other_comments_on_the_line():
    source = (
        b"import mock  # noqa: F401  # testwarden: allow-mock reason='legacy shim'\n"
        b"import faker  # testwarden: allow-mock because\n"
    )

    report = analyse(source, "t.py")

    assert [item.reason for item in report.exempt] == [
        "legacy shim (inline allow-mock)"
    ]
    assert report.reasonless_allow_lines == [2]


def test_a_plugin_fixture_the_file_defines_itself_is_not_the_plugin():
    source = (
        b"import pytest\n"
        b"@pytest.fixture\n"
        b"def mocker(tmp_path):\n"
        b"    return tmp_path\n"
        b"def test(mocker):\n"
        b"    assert mocker.exists()\n"
    )

    assert analyse(source, "t.py").findings == []


def test_a_fixture_that_only_requests_a_plugin_fixture_is_fabricated():
    source = b"import pytest\n@pytest.fixture\ndef client(httpx_mock):\n    return 1\n"

    findings = analyse(source, "t.py").findings

    assert [(finding.line, finding.rule) for finding in findings] == [
        (2, "fabricated-fixture"),
        (3, "mocked-service"),
    ]
    assert findings[0].instead == mock_detection.LIBRARIES["pytest_httpx"].instead


def test_the_projects_own_module_named_like_a_library_is_not_the_library():
    source = b"import responses\nresponses.render()\n"

    assert (
        analyse(source, "t.py", project_modules=frozenset({"responses"})).findings == []
    )
    assert len(analyse(source, "t.py").findings) == 2


def test_helpers_are_followed_only_a_few_calls_deep():
    source = (
        b"import pytest\n"
        b"def a():\n    return b()\n"
        b"def b():\n    return c()\n"
        b"def c():\n    return d()\n"
        b"def d():\n    return {'deep': 1}\n"
        b"@pytest.fixture\ndef shallow():\n    return c()\n"
        b"@pytest.fixture\ndef deep():\n    return a()\n"
    )

    findings = analyse(source, "t.py").findings

    assert [finding.function for finding in findings] == ["shallow"]


def test_recursive_helpers_and_self_assignments_terminate():
    source = (
        b"import pytest\n"
        b"def loop():\n    return loop()\n"
        b"@pytest.fixture\ndef value():\n    value = value\n    return loop()\n"
        b"@pytest.fixture\nasync def awaited():\n    return await loop()\n"
    )

    assert analyse(source, "t.py").findings == []


def test_files_without_evidence_are_not_even_parsed():
    assert not mock_detection.may_contain_mock_data(b"def broken(:\n")
    assert analyse(b"def broken(:\n", "t.py") == mock_detection.FileReport()
    assert mock_detection.may_contain_mock_data(b"from unittest import mock\n")
    assert mock_detection.may_contain_mock_data(b"x = __import__('faker')\n")


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        (b"import mock\n\ndef broken(:\n", 3, "does not parse: invalid syntax"),
        (b"import mock\nx = '\xff\xfe'\n", None, "cannot decode"),
        (
            b"# -*- coding: latin-1 -*-\nimport mock\nx = '\xff'\nif:\n",
            4,
            "does not parse",
        ),
        (b"import mock\x00\n", None, "does not parse"),
    ],
    ids=["syntax", "not-utf-8", "declared-encoding", "null-byte"],
)
def test_bad_input_is_a_clear_error(source, line, reason):
    with pytest.raises(NotPython) as raised:
        analyse(source, "t.py")

    assert raised.value.line == line
    assert raised.value.reason.startswith(reason)


def test_a_declared_encoding_is_honoured():
    source = "# -*- coding: latin-1 -*-\nimport mock\nname = 'café'\n".encode("latin-1")

    assert [finding.line for finding in analyse(source, "t.py").findings] == [2]


def test_code_too_deep_for_the_parser_is_a_clear_error():
    source = b"import mock\nx = " + b"1 + " * 200_000 + b"1\n"

    with pytest.raises(NotPython, match="does not parse: maximum recursion depth"):
        analyse(source, "t.py")


def test_deeply_nested_generated_code_is_a_clear_error():
    source = b"import mock\nx = " + b"(" * 300_000 + b")" * 300_000 + b"\n"

    with pytest.raises(NotPython, match="does not parse"):
        analyse(source, "t.py")


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("tests/data/mock_users.json", "named"),
        ("tests/fake_response.yaml", "named"),
        ("tests/dummy-orders.csv", "named"),
        ("tests/mocks/users.json", "in a `mocks/` directory"),
        ("web/src/__mocks__/api.js", "in a `__mocks__/` directory"),
        ("tests/Fakes/payload.xml", "in a `Fakes/` directory"),
    ],
)
def test_data_files_named_or_placed_as_mock_data(path, where):
    finding = mock_detection.mock_data_file(path)

    assert finding is not None
    assert (finding.rule, finding.line, finding.function) == (
        "mock-data-file",
        1,
        "<file>",
    )
    assert finding.what == f"a new data file {where} as mock data"


@pytest.mark.parametrize(
    "path",
    [
        "tests/data/users.json",
        "tests/mocks/helpers.py",
        "tests/fake_site_packages.py",
        "docs/mockups/screen.png",
        "tests/data/mockingbird.txt",
        "tests/mock_detection/README.md",
    ],
)
def test_other_files_are_not_mock_data_files(path):
    assert mock_detection.mock_data_file(path) is None


def test_library_of_takes_the_longest_prefix():
    assert mock_detection.library_of("unittest.mock.patch")[0] == "unittest.mock"
    assert mock_detection.library_of("unittest.TestCase") is None
    assert mock_detection.library_of("requests_mock.Mocker")[1].rule == "mocked-service"


def test_is_added_counts_the_span_and_the_evidence_line():
    [finding] = [
        item
        for item in analyse_input("fixtures_fabricated.py.txt").findings
        if item.function == "user"
    ]

    assert finding.is_added({16})
    assert finding.is_added({18})
    assert not finding.is_added({15, 19})
