"""The inline exemption the guard hooks accept: `# testwarden: allow-KIND reason="why"`.

One reader for every hook, so a comment one hook takes as an exemption is read
the same way by the others (protect-guardrails included). Only real comments
count, and only where the marker starts the comment or follows a space: the
words inside a string, or quoted in prose, are not an exemption.
"""

from __future__ import annotations

import io
import re
import tokenize

_ALLOW = re.compile(r"(?:^|\s)#\s*testwarden:\s*allow-(?P<kind>[a-z]+)\b(?P<rest>.*)")
_REASON = re.compile(r"""\s*reason\s*=\s*(?:"(?P<double>[^"]*)"|'(?P<single>[^']*)')""")


def allow_comments(source: str | bytes, kind: str) -> dict[int, str]:
    """Line -> reason of each allow-KIND comment ("" when it gives none).

    Source Python cannot tokenize has none: the hook that parses it reports it.
    """
    if isinstance(source, bytes):
        tokens = tokenize.tokenize(io.BytesIO(source).readline)
    else:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    comments = {}
    try:
        for token in tokens:
            match = (
                _ALLOW.search(token.string) if token.type == tokenize.COMMENT else None
            )
            if match and match["kind"] == kind:
                reason = _REASON.match(match["rest"])
                given = (reason["double"] or reason["single"] or "") if reason else ""
                comments[token.start[0]] = given.strip()
    except (tokenize.TokenError, SyntaxError):
        return {}
    return comments
