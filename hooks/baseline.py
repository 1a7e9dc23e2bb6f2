"""The mock-data baseline: the known findings an existing codebase starts from.

Entries are keyed by file, enclosing function and rule, with a count, never by
line number, so code that moves within its function keeps its entry. The hook
only ever removes entries (when their findings are gone); `testwarden
baseline` is the one way to add them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hooks.errors import UserError

Key = tuple[str, str, str]

_ABOUT = (
    "Known mock data, written by `testwarden baseline`. forbid-mock-data blocks any "
    "finding not counted here and removes entries whose findings are gone; "
    "do not add entries by hand."
)


@dataclass(frozen=True)
class Baseline:
    counts: Mapping[Key, int]

    @classmethod
    def from_keys(cls, keys: Iterable[Key]) -> Baseline:
        return cls(dict(Counter(keys)))

    @classmethod
    def parse(cls, content: bytes, where: str) -> Baseline:
        problem = f"{where}: not a mock-data baseline"
        fix = "; rewrite it with `testwarden baseline`"
        try:
            document = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UserError(f"{problem} ({error}){fix}") from None
        entries = document.get("findings") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise UserError(f'{problem} (no "findings" list){fix}')
        counts: dict[Key, int] = {}
        for entry in entries:
            if not _is_entry(entry):
                raise UserError(f"{problem} (bad entry {entry!r}){fix}")
            key = (entry["path"], entry["function"], entry["rule"])
            counts[key] = counts.get(key, 0) + entry["count"]
        return cls(counts)

    def dump(self) -> bytes:
        entries = [
            {"path": path, "function": function, "rule": rule, "count": count}
            for (path, function, rule), count in sorted(self.counts.items())
        ]
        document = {"about": _ABOUT, "findings": entries}
        return (json.dumps(document, indent=2) + "\n").encode()

    def allowance(self, key: Key) -> int:
        return self.counts.get(key, 0)

    def shrunk(
        self, current: Mapping[Key, int], checked_paths: Iterable[str]
    ) -> Baseline:
        """Entries of CHECKED_PATHS lowered to what CURRENT still counts; others kept."""
        checked = set(checked_paths)
        counts = {}
        for key, count in self.counts.items():
            remaining = min(count, current.get(key, 0)) if key[0] in checked else count
            if remaining:
                counts[key] = remaining
        return Baseline(counts)

    def renamed(self, new_path_of: Mapping[str, str]) -> Baseline:
        """The same entries, with the files a change renames under their new paths."""
        counts: Counter[Key] = Counter()
        for (path, function, rule), count in self.counts.items():
            counts[(new_path_of.get(path, path), function, rule)] += count
        return Baseline(dict(counts))

    def total(self) -> int:
        return sum(self.counts.values())


def _is_entry(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and set(entry) == {"path", "function", "rule", "count"}
        and all(isinstance(entry[name], str) for name in ("path", "function", "rule"))
        and isinstance(entry["count"], int)
        and not isinstance(entry["count"], bool)
        and entry["count"] > 0
    )
