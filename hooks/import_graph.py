"""A static import graph of a repository's Python files. Nothing is imported.

Each file is parsed once per content (the parse is cached by git blob id), its
module names are derived the way pytest and the usual layouts put files on
sys.path, and every import statement becomes an edge to the files it can
execute: the module itself and the packages above it. Imports with a computed
name (`importlib.import_module(name)`) cannot be followed; the graph records
where they are so callers can be conservative there.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import posixpath
import warnings
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hooks import cache, git
from hooks.atomic_write import write_atomically

CACHE_FORMAT = 1
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_PARSE_THRESHOLD = 200
# Calls whose literal first argument names a module that gets imported.
IMPORTING_CALLS = {"import_module", "__import__", "importorskip"}


@dataclass(frozen=True)
class ParsedFile:
    """What one file's source says it imports."""

    # (level, module, names): `from ..a import b, c` is (2, "a", ("b", "c")).
    imports: tuple[tuple[int, str, tuple[str, ...]], ...] = ()
    dynamic_import_lines: tuple[int, ...] = ()
    syntax_error_line: int | None = None


def parse_imports(source: bytes) -> ParsedFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError) as error:
        return ParsedFile(syntax_error_line=getattr(error, "lineno", None) or 1)
    imports: list[tuple[int, str, tuple[str, ...]]] = []
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            imports.extend((0, alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names if alias.name != "*")
            imports.append((node.level, node.module or "", names))
        elif isinstance(node, ast.Assign) and _assigns_pytest_plugins(node):
            imports.extend(
                (0, element.value, ())
                for element in ast.walk(node.value)
                if isinstance(element, ast.Constant) and isinstance(element.value, str)
            )
    dynamic_lines: list[int] = []
    # Walking every expression is most of the cost: do it only where a call
    # that imports can be.
    if any(name.encode() in source for name in IMPORTING_CALLS):
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and _called_name(node.func) in IMPORTING_CALLS
            ):
                argument = node.args[0] if node.args else None
                if isinstance(argument, ast.Constant) and isinstance(
                    argument.value, str
                ):
                    imports.append(_literal_import(argument.value))
                else:
                    dynamic_lines.append(node.lineno)
    return ParsedFile(tuple(imports), tuple(dynamic_lines))


def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """Every statement, at any depth (in functions, classes, if, try, with, match)."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                pending.append(child)
                yield child


def _called_name(function: ast.expr) -> str | None:
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return None


def _literal_import(name: str) -> tuple[int, str, tuple[str, ...]]:
    stripped = name.lstrip(".")
    return (len(name) - len(stripped), stripped, ())


def _assigns_pytest_plugins(node: ast.Assign) -> bool:
    return any(
        isinstance(target, ast.Name) and target.id == "pytest_plugins"
        for target in node.targets
    )


def module_names(path: str, package_dirs: set[str]) -> list[str]:
    """The dotted names PATH can be imported as.

    The first is pytest's: climb while the directory is a package (has an
    `__init__.py`), the rest is on sys.path. Then the name from the repository
    root and from `src/`, for flat and src layouts whose packages lack one.
    """
    directory, filename = posixpath.split(path)
    stem = filename.rsplit(".", 1)[0]
    parts = [] if stem == "__init__" else [stem]
    while directory and directory in package_dirs:
        directory, package = posixpath.split(directory)
        parts.insert(0, package)
    names = [".".join(parts)] if parts else []
    root_parts = [*path.rsplit(".", 1)[0].split("/")]
    if root_parts[-1] == "__init__":
        root_parts.pop()
    for start in (0, 1) if root_parts[:1] == ["src"] else (0,):
        name = ".".join(root_parts[start:])
        if name and name not in names:
            names.append(name)
    return names


@dataclass
class ImportGraph:
    """Files and who imports whom; paths are repository-relative POSIX paths."""

    parsed: dict[str, ParsedFile]
    module_index: dict[str, str] = field(default_factory=dict)
    imports: dict[str, set[str]] = field(default_factory=dict)
    importers: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, parsed: Mapping[str, ParsedFile], deleted_paths: Iterable[str] = ()
    ) -> ImportGraph:
        """Resolve every file's imports; DELETED_PATHS stay resolvable by name so
        the files that still import them are found."""
        graph = cls(dict(parsed))
        every_path = [*parsed, *deleted_paths]
        package_dirs = {
            posixpath.dirname(path)
            for path in every_path
            if posixpath.basename(path) == "__init__.py"
        }
        module_of: dict[str, str] = {}
        for path in every_path:
            names = module_names(path, package_dirs)
            if names:
                module_of[path] = names[0]
            for name in names:
                graph.module_index.setdefault(name, path)
        executed_by: dict[str, set[str]] = {}  # many files import the same names
        for path, parsed_file in parsed.items():
            targets = graph.imports.setdefault(path, set())
            package = _package_of(path, module_of.get(path, ""))
            for level, module, names in parsed_file.imports:
                base = _absolute(level, module, package)
                if base is None:
                    continue
                candidates = [base] + [
                    f"{base}.{name}" if base else name for name in names
                ]
                for candidate in candidates:
                    if candidate not in executed_by:
                        executed_by[candidate] = graph._files_executed_by(candidate)
                    targets.update(executed_by[candidate])
            targets.discard(path)
            for target in targets:
                graph.importers.setdefault(target, set()).add(path)
        return graph

    def _files_executed_by(self, dotted: str) -> set[str]:
        """`import a.b.c` runs a/__init__, a/b/__init__ and a/b/c (those that exist)."""
        parts = dotted.split(".")
        return {
            self.module_index[prefix]
            for prefix in (".".join(parts[: end + 1]) for end in range(len(parts)))
            if prefix in self.module_index
        }

    def importers_of(self, changed: Iterable[str]) -> dict[str, str]:
        """Every file that imports a CHANGED file, directly or not -> the changed
        file it reaches."""
        reached: dict[str, str] = {}
        queue = deque((path, path) for path in changed)
        while queue:
            path, origin = queue.popleft()
            for importer in self.importers.get(path, ()):
                if importer not in reached:
                    reached[importer] = origin
                    queue.append((importer, origin))
        return reached

    def unfollowable_imports(self) -> dict[str, str]:
        """Files whose imports the graph cannot follow -> where and why."""
        unfollowable = {}
        for path, parsed_file in self.parsed.items():
            if parsed_file.syntax_error_line is not None:
                unfollowable[path] = (
                    f"{path}:{parsed_file.syntax_error_line}: does not parse"
                )
            elif parsed_file.dynamic_import_lines:
                line = parsed_file.dynamic_import_lines[0]
                unfollowable[path] = f"{path}:{line}: imports a computed module name"
        return unfollowable


def _package_of(path: str, module: str) -> str:
    if posixpath.basename(path) == "__init__.py":
        return module
    return module.rpartition(".")[0]


def _absolute(level: int, module: str, package: str) -> str | None:
    if level == 0:
        return module
    package_parts = package.split(".") if package else []
    if level - 1 > len(package_parts):
        return None
    base_parts = package_parts[: len(package_parts) - (level - 1)]
    return ".".join([*base_parts, *([module] if module else [])])


def parse_tree(blobs: Mapping[str, str]) -> dict[str, ParsedFile]:
    """Parse the Python files among BLOBS (path -> blob id), reusing the cache."""
    python_blobs = {path: blob for path, blob in blobs.items() if path.endswith(".py")}
    cache_file = _cache_file()
    cached = _read_cache(cache_file)
    missing = [blob for blob in set(python_blobs.values()) if blob not in cached]
    sources = git.read_blobs(missing)
    cached.update(zip(sources, _parse_all(list(sources.values()))))
    if missing:
        _write_cache(cache_file, {blob: cached[blob] for blob in python_blobs.values()})
    return {path: cached[blob] for path, blob in python_blobs.items()}


def _parse_all(sources: list[bytes]) -> list[ParsedFile]:
    """Parse in worker processes when there is a whole tree to parse (a cold cache)."""
    workers = os.cpu_count() or 1
    if workers == 1 or len(sources) < PARALLEL_PARSE_THRESHOLD:
        return [parse_imports(source) for source in sources]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as executor:
        return list(executor.map(parse_imports, sources, chunksize=16))


def _cache_file() -> Path:
    repository = hashlib.sha256(os.fsencode(git.repo_root())).hexdigest()[:16]
    return cache.cache_directory() / f"import-graph-{repository}.json"


def _read_cache(cache_file: Path) -> dict[str, ParsedFile]:
    try:
        document = json.loads(cache_file.read_text(encoding="utf-8"))
        if document["format"] != CACHE_FORMAT:
            return {}
        return {
            blob: ParsedFile(
                tuple(
                    (level, module, tuple(names)) for level, module, names in imports
                ),
                tuple(dynamic),
                error_line,
            )
            for blob, (imports, dynamic, error_line) in document["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_cache(cache_file: Path, parsed: Mapping[str, ParsedFile]) -> None:
    document = {
        "format": CACHE_FORMAT,
        "files": {
            blob: [
                parsed_file.imports,
                parsed_file.dynamic_import_lines,
                parsed_file.syntax_error_line,
            ]
            for blob, parsed_file in parsed.items()
        },
    }
    try:
        write_atomically(cache_file, json.dumps(document).encode())
    except OSError:
        return
