from __future__ import annotations

import json
import os

import pytest

from hooks import git as gitlayer
from hooks import import_graph
from hooks.import_graph import ImportGraph, ParsedFile, parse_imports
from tests.helpers import add, write


def graph_of(sources: dict[str, str], deleted=()) -> ImportGraph:
    return ImportGraph.build(
        {path: parse_imports(source.encode()) for path, source in sources.items()},
        deleted,
    )


def test_parse_records_every_kind_of_import():
    parsed = parse_imports(
        b"import a.b, c\n"
        b"from ..pkg import x, y\n"
        b"from . import *\n"
        b"import importlib\n"
        b"def f():\n"
        b"    importlib.import_module('plugins.one')\n"
        b"    __import__('.relative')\n"
        b"    pytest.importorskip('numpy')\n"
        b"    importlib.import_module(name)\n"
        b"    importlib.import_module()\n"
        b"pytest_plugins = ['fixtures.db', ('fixtures.web',)]\n"
        b"other = ['not.a.plugin']\n"
        b"(lambda: 0)()\n"
    )

    assert sorted(parsed.imports) == sorted(
        [
            (0, "a.b", ()),
            (0, "c", ()),
            (2, "pkg", ("x", "y")),
            (1, "", ()),
            (0, "importlib", ()),
            (0, "plugins.one", ()),
            (1, "relative", ()),
            (0, "numpy", ()),
            (0, "fixtures.db", ()),
            (0, "fixtures.web", ()),
        ]
    )
    assert parsed.dynamic_import_lines == (9, 10)
    assert parsed.syntax_error_line is None


def test_imports_nested_in_any_statement_are_found():
    parsed = parse_imports(
        b"class C:\n"
        b"    def method(self):\n"
        b"        import in_method\n"
        b"try:\n"
        b"    import in_try\n"
        b"except ImportError:\n"
        b"    import in_handler\n"
        b"finally:\n"
        b"    import in_finally\n"
        b"with open('x') as f:\n"
        b"    import in_with\n"
        b"for x in y:\n"
        b"    if x:\n"
        b"        import in_if\n"
        b"    else:\n"
        b"        import in_else\n"
        b"match value:\n"
        b"    case 1:\n"
        b"        import in_case\n"
    )

    assert sorted(module for _, module, _ in parsed.imports) == [
        "in_case",
        "in_else",
        "in_finally",
        "in_handler",
        "in_if",
        "in_method",
        "in_try",
        "in_with",
    ]


def test_parse_error_is_recorded_with_its_line():
    assert parse_imports(b"import os\n\ndef f(:\n").syntax_error_line == 3
    assert parse_imports(b"x = 1\0\n").syntax_error_line == 1


@pytest.mark.parametrize(
    ("path", "packages", "names"),
    [
        ("pkg/mod.py", {"pkg"}, ["pkg.mod"]),
        ("pkg/__init__.py", {"pkg"}, ["pkg"]),
        (
            "src/pkg/sub/mod.py",
            {"src/pkg", "src/pkg/sub"},
            ["pkg.sub.mod", "src.pkg.sub.mod"],
        ),
        ("tests/test_a.py", set(), ["test_a", "tests.test_a"]),
        ("src/ns/mod.py", set(), ["mod", "src.ns.mod", "ns.mod"]),
        ("setup.py", set(), ["setup"]),
        ("__init__.py", {""}, []),
    ],
)
def test_module_names_follow_pytest_and_the_usual_layouts(path, packages, names):
    assert import_graph.module_names(path, packages) == names


def test_flat_layout_direct_transitive_and_reexported_imports():
    graph = graph_of(
        {
            "pkg/__init__.py": "from pkg.core import run\n",
            "pkg/core.py": "from . import util\n",
            "pkg/util.py": "import os\n",
            "pkg/other.py": "",
            "tests/test_core.py": "from pkg import core\n",
            "tests/test_top.py": "import pkg\n",
            "tests/test_other.py": "from pkg.other import thing\n",
        }
    )

    reached = graph.importers_of(["pkg/util.py"])

    assert set(reached) == {
        "pkg/core.py",
        "pkg/__init__.py",
        "tests/test_core.py",
        "tests/test_top.py",
        "tests/test_other.py",  # importing pkg.other runs pkg/__init__ first
    }
    assert reached["tests/test_top.py"] == "pkg/util.py"
    assert graph.importers_of(["pkg/other.py"]) == {
        "tests/test_other.py": "pkg/other.py"
    }


def test_src_layout_relative_imports_and_test_helpers():
    graph = graph_of(
        {
            "src/app/__init__.py": "",
            "src/app/models.py": "from .db import connect\n",
            "src/app/db.py": "",
            "src/app/api/__init__.py": "",
            "src/app/api/views.py": "from ..models import Model\nfrom .... import beyond_the_top\n",
            "tests/helpers.py": "from app.api import views\n",
            "tests/test_views.py": "import helpers\n",
            "tests/test_unrelated.py": "import json\n",
        }
    )

    assert set(graph.importers_of(["src/app/db.py"])) == {
        "src/app/models.py",
        "src/app/api/views.py",
        "tests/helpers.py",
        "tests/test_views.py",
    }


def test_deleted_module_is_still_found_by_name():
    graph = graph_of(
        {"pkg/__init__.py": "", "tests/test_gone.py": "from pkg.gone import f\n"},
        deleted=["pkg/gone.py"],
    )

    assert graph.importers_of(["pkg/gone.py"]) == {"tests/test_gone.py": "pkg/gone.py"}


def test_unfollowable_imports_name_file_and_line():
    graph = graph_of(
        {
            "loader.py": "import importlib\nimportlib.import_module(name)\n",
            "broken.py": "def f(:\n",
            "fine.py": "import loader\n",
            "__init__.py": "",
        }
    )

    assert graph.unfollowable_imports() == {
        "loader.py": "loader.py:2: imports a computed module name",
        "broken.py": "broken.py:1: does not parse",
    }


def test_parse_tree_caches_by_blob_and_survives_a_broken_cache(repo):
    write("a.py", "import b\n")
    write("b.py", "")
    write("notes.txt", "not python")
    add(".")
    blobs = gitlayer.tracked_blobs()
    cache_file = import_graph._cache_file()

    first = import_graph.parse_tree(blobs)

    assert first == {"a.py": ParsedFile(((0, "b", ()),)), "b.py": ParsedFile()}
    stored = json.loads(cache_file.read_text())
    assert set(stored["files"]) == {blobs["a.py"], blobs["b.py"]}

    stored["files"][blobs["a.py"]] = [[[0, "from_cache", []]], [], None]
    cache_file.write_text(json.dumps(stored))
    assert import_graph.parse_tree(blobs)["a.py"].imports == ((0, "from_cache", ()),)

    for broken in ("not json", json.dumps({"format": 0, "files": {}})):
        cache_file.write_text(broken)
        assert import_graph.parse_tree(blobs) == first


def test_unwritable_cache_is_skipped(repo, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("TESTWARDEN_CACHE_DIR", str(blocker / "cache"))
    write("a.py", "import os\n")
    add(".")

    assert import_graph.parse_tree(gitlayer.tracked_blobs()) == {
        "a.py": ParsedFile(((0, "os", ()),))
    }


def test_tracked_blobs_of_a_revision_skip_symlinks(repo):
    write("a.py", "x = 1\n")
    os.symlink("a.py", "link.py")
    add(".")
    gitlayer.run("commit", "--quiet", "--no-verify", "-m", "c")

    assert set(gitlayer.tracked_blobs("HEAD")) == {"a.py"}
    assert gitlayer.tracked_blobs("HEAD") == gitlayer.tracked_blobs()


def test_a_whole_tree_is_parsed_in_worker_processes(repo):
    count = import_graph.PARALLEL_PARSE_THRESHOLD
    for number in range(count):
        write(f"pkg/module_{number}.py", f"import pkg.module_{(number + 1) % count}\n")
    add(".")

    parsed = import_graph.parse_tree(gitlayer.tracked_blobs())

    assert len(parsed) == count
    assert parsed["pkg/module_7.py"].imports == ((0, "pkg.module_8", ()),)
