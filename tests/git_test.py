from __future__ import annotations

import argparse
import os
import re

import pytest

from hooks import forbid_test_deletion
from hooks import git as gitlayer
from tests.helpers import add, commit, git, write


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    gitlayer.add_change_set_arguments(parser)
    return parser.parse_args(argv)


def by_path(change_set: gitlayer.ChangeSet) -> dict[str, gitlayer.FileChange]:
    return {change.path: change for change in change_set.changes}


def test_first_commit_is_staged_against_the_empty_tree(repo):
    write("a.py", "x = 1\n")
    add("a.py")
    write("a.py", "x = 'unstaged edit'\n")

    change_set = gitlayer.change_set_from_arguments(parse())

    assert change_set.mode == gitlayer.STAGED
    assert change_set.before_rev == gitlayer.empty_tree()
    [change] = change_set.changes
    assert (change.status, change.path, change.old_path) == ("added", "a.py", None)
    assert change_set.read_after(change_set.changes) == {"a.py": b"x = 1\n"}
    assert change_set.read_before(change_set.changes) == {}
    assert change_set.describe() == "the staged change"


def test_staged_change_reports_each_status_with_content_from_git(repo):
    write("kept.py", "kept = 1\n")
    write("gone.py", "gone = 1\n")
    write("old_name.py", "".join(f"line_{n} = {n}\n" for n in range(20)))
    add(".")
    commit("base")
    write("kept.py", "kept = 2\n")
    git("rm", "--quiet", "gone.py")
    git("mv", "old_name.py", "new_name.py")
    write("new.py", "new = 1\n")
    add(".")
    write("kept.py", "kept = 'not staged'\n")

    change_set = gitlayer.staged_changes()
    changes = by_path(change_set)

    assert {path: change.status for path, change in changes.items()} == {
        "kept.py": "modified",
        "gone.py": "deleted",
        "new_name.py": "renamed",
        "new.py": "added",
    }
    assert changes["new_name.py"].old_path == "old_name.py"
    assert changes["gone.py"].new_blob is None
    before = change_set.read_before(change_set.changes)
    after = change_set.read_after(change_set.changes)
    assert before["kept.py"] == b"kept = 1\n"
    assert after["kept.py"] == b"kept = 2\n"
    assert before["gone.py"] == b"gone = 1\n"
    assert "gone.py" not in after
    assert before["old_name.py"] == after["new_name.py"]
    assert change_set.before_rev == git("rev-parse", "HEAD").strip()


def test_odd_paths_survive_the_round_trip(repo):
    names = ["with space.py", "ünïcode.py", "new\nline.py", "-leading-dash.py"]
    for name in names:
        write(name, f"# {name!r}\n")
    add(*names)

    change_set = gitlayer.staged_changes()

    assert sorted(change.path for change in change_set.changes) == sorted(names)
    contents = change_set.read_after(change_set.changes)
    assert contents["new\nline.py"] == b"# 'new\\nline.py'\n"
    assert sorted(gitlayer.tracked_files()) == sorted(names)


def range_repository() -> dict[str, str]:
    """main: base -> main_only; feature (from base): feature_one -> feature_two."""
    write("shared.py", "shared = 1\n")
    add("shared.py")
    base = commit("base")
    git("checkout", "--quiet", "-b", "feature")
    write("feature.py", "feature = 1\n")
    add("feature.py")
    commit("feature one")
    write("shared.py", "shared = 2\n")
    add("shared.py")
    feature = commit("feature two")
    git("checkout", "--quiet", "main")
    write("main_only.py", "main_only = 1\n")
    add("main_only.py")
    main = commit("main only")
    return {"base": base, "feature": feature, "main": main}


def test_range_from_pre_commit_environment_uses_the_merge_base(repo, monkeypatch):
    commits = range_repository()
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "main")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "feature")

    change_set = gitlayer.change_set_from_arguments(parse())

    assert change_set.mode == gitlayer.RANGE
    assert (change_set.before_rev, change_set.after_rev) == (
        commits["base"],
        commits["feature"],
    )
    assert sorted(by_path(change_set)) == ["feature.py", "shared.py"]
    assert change_set.read_after(change_set.changes)["shared.py"] == b"shared = 2\n"
    assert change_set.read_before(change_set.changes)["shared.py"] == b"shared = 1\n"
    assert change_set.describe() == f"{commits['base'][:12]}..{commits['feature'][:12]}"


def test_command_line_range_wins_over_the_environment(repo, monkeypatch):
    commits = range_repository()
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "main")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "feature")

    change_set = gitlayer.change_set_from_arguments(
        parse("--from-ref", commits["base"], "--to-ref", "main")
    )

    assert sorted(by_path(change_set)) == ["main_only.py"]


def test_range_to_ref_defaults_to_head(repo):
    commits = range_repository()
    git("checkout", "--quiet", "feature")

    change_set = gitlayer.change_set_from_arguments(parse("--from-ref", "main"))

    assert change_set.after_rev == commits["feature"]


def test_all_files_lists_every_tracked_file_as_added(repo):
    range_repository()
    write("staged_only.py", "staged = 1\n")
    add("staged_only.py")

    change_set = gitlayer.change_set_from_arguments(parse("--all-files"))

    assert change_set.mode == gitlayer.ALL_FILES
    assert change_set.describe() == "all tracked files"
    assert {change.status for change in change_set.changes} == {"added"}
    assert sorted(by_path(change_set)) == [
        "main_only.py",
        "shared.py",
        "staged_only.py",
    ]


def test_unknown_revision_is_a_one_line_error(repo):
    range_repository()

    with pytest.raises(gitlayer.GitError, match="cannot find the revision 'nope'"):
        gitlayer.range_changes("nope", "HEAD")


def test_the_shallow_clone_hint_is_a_command_git_accepts(repo, monkeypatch, capsys):
    """CI checks out one commit; the range's base is then missing, and the
    hint must be a command that fetches it."""
    commits = range_repository()
    git("checkout", "--quiet", "feature")
    clone = repo.parent / "shallow"
    git("clone", "--quiet", "--depth=1", "--branch=feature", repo.as_uri(), str(clone))
    monkeypatch.chdir(clone)

    assert forbid_test_deletion.main(["--from-ref", commits["base"]]) == 2

    error = capsys.readouterr().err
    [hint] = re.findall(r"`git (fetch[^`]*)`", error)
    git(*hint.split())
    assert forbid_test_deletion.main(["--from-ref", commits["base"]]) == 0


def test_unrelated_histories_are_a_clear_error(repo):
    range_repository()
    git("checkout", "--quiet", "--orphan", "island")
    git("rm", "-r", "--quiet", "--cached", ".")
    commit("island")

    with pytest.raises(gitlayer.GitError, match="no common ancestor"):
        gitlayer.range_changes("main", "island")


def test_to_ref_alone_is_refused(repo):
    with pytest.raises(gitlayer.GitError, match="--to-ref needs --from-ref"):
        gitlayer.change_set_from_arguments(parse("--to-ref", "HEAD"))


def test_outside_a_repository_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))

    with pytest.raises(gitlayer.GitError, match="not inside a git repository"):
        gitlayer.staged_changes()
    with pytest.raises(gitlayer.GitError, match="not inside a git repository"):
        gitlayer.all_files()


def test_missing_git_is_a_one_line_error(repo, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "no-binaries-here"))

    with pytest.raises(gitlayer.GitError, match="git is not installed"):
        gitlayer.repo_root()


def test_other_git_failures_name_the_command(repo):
    with pytest.raises(gitlayer.GitError, match="git cat-file failed"):
        gitlayer.run("cat-file", "-p", "no-such-object")


def test_missing_object_is_reported(repo):
    with pytest.raises(gitlayer.GitError, match="is missing"):
        gitlayer.read_blobs(["0123456789abcdef0123456789abcdef01234567"])


def test_repo_root_from_a_subdirectory(repo, monkeypatch):
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")

    assert gitlayer.repo_root() == repo


def test_added_lines_of_modified_and_new_files(repo):
    write("a.py", "one\ntwo\nthree\nfour\n")
    add("a.py")
    commit()
    write("a.py", "one\n2\nthree\nfour\nfive\n")
    write("b.py", "b1\nb2\n")
    add("a.py", "b.py")

    changes = by_path(gitlayer.staged_changes())

    assert gitlayer.added_lines(changes["a.py"]) == {2, 5}
    assert gitlayer.added_lines(changes["b.py"]) == {1, 2}


def test_added_lines_of_a_deletion_and_a_pure_removal(repo):
    write("a.py", "one\ntwo\n")
    write("b.py", "b\n")
    add(".")
    commit()
    write("a.py", "one\n")
    git("rm", "--quiet", "b.py")
    add("a.py")

    changes = by_path(gitlayer.staged_changes())

    assert gitlayer.added_lines(changes["a.py"]) == set()
    assert gitlayer.added_lines(changes["b.py"]) == set()


def test_symlinks_and_submodules_are_flagged(repo, tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    git("-C", str(inner), "init", "--quiet")
    git("-C", str(inner), "commit", "--quiet", "--allow-empty", "-m", "inner")
    write("target.py", "x = 1\n")
    os.symlink("target.py", "link.py")
    git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "--quiet",
        "add",
        str(inner),
        "sub",
    )
    add(".")

    change_set = gitlayer.staged_changes()
    changes = by_path(change_set)

    assert changes["link.py"].is_symlink and not changes["link.py"].is_submodule
    assert changes["sub"].is_submodule and not changes["sub"].is_symlink
    assert change_set.read_after([changes["link.py"]]) == {"link.py": b"target.py"}
    assert change_set.read_after([changes["sub"]]) == {}
    assert gitlayer.added_lines(changes["sub"]) == set()


def test_scrubbed_environment_drops_what_git_exports_to_hooks(repo):
    hook_environment = {
        "GIT_DIR": "/elsewhere/.git",
        "GIT_INDEX_FILE": "/elsewhere/index",
        "GIT_WORK_TREE": "/elsewhere",
        "GIT_OBJECT_DIRECTORY": "/elsewhere/objects",
        "GIT_AUTHOR_NAME": "kept",
        "PATH": "/usr/bin",
    }

    scrubbed = gitlayer.scrubbed_environment(hook_environment)

    assert scrubbed == {"GIT_AUTHOR_NAME": "kept", "PATH": "/usr/bin"}


def test_scrubbed_environment_defaults_to_this_process(repo, monkeypatch):
    monkeypatch.setenv("GIT_INDEX_FILE", "/elsewhere/index")

    scrubbed = gitlayer.scrubbed_environment()

    assert "GIT_INDEX_FILE" not in scrubbed
    assert scrubbed["HOME"] == os.environ["HOME"]


def test_commit_changes_of_the_first_and_a_later_commit(repo):
    write("a.py", "a = 1\n")
    add("a.py")
    first = commit("first")
    write("b.py", "b = 1\n")
    add("b.py")
    second = commit("second")

    root_change = gitlayer.commit_changes(first)
    later_change = gitlayer.commit_changes(second)

    assert root_change.before_rev == gitlayer.empty_tree()
    assert [change.path for change in root_change.changes] == ["a.py"]
    assert later_change.before_rev == first
    assert [change.path for change in later_change.changes] == ["b.py"]
    assert gitlayer.commits_between(first, second) == [second]


def test_working_tree_blobs_match_what_git_would_stage(repo):
    write("a.py", "a = 1\n")
    add("a.py")
    write("a.py", "a = 2\n")

    [blob] = gitlayer.working_tree_blobs(["a.py"]).values()

    assert blob != gitlayer.tracked_blobs()["a.py"]
    add("a.py")
    assert blob == gitlayer.tracked_blobs()["a.py"]
    assert gitlayer.working_tree_blobs([]) == {}
