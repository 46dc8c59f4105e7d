"""BN998: bnlint itself failed on a file (a bug in bnlint, never in the user's code)."""

from __future__ import annotations

from collections.abc import Iterator

from bnlint.rules.base import Context, Finding, Rule

#: A comment line that makes bnlint fail on purpose, to see how a CI set-up reports BN998.
SELFTEST_MARKER = "# bnlint: internal-error-selftest"
REPORT_HINT = "please report it to the bnlint maintainers with this file"


class InternalError(Rule):
    """Emitted by the engine (not by ``check``) when analysing a file raised an exception."""

    code = "BN998"
    name = "internal-error"
    message = "{reason}"
    why = "bnlint failed on this file (a bug in bnlint, not in your code), so no rule checked it."
    fix = "Please report it with the file (or a reduced copy); exclude the file meanwhile."
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        return iter(())


def internal_finding(display: str, exc: BaseException, where: str = "while analysing") -> Finding:
    text = " ".join(str(exc).split())[:200]
    reason = (f"internal error {where} ({exc.__class__.__name__}"
              f"{': ' + text if text else ''}); {REPORT_HINT}")
    cls = InternalError
    return Finding(code=cls.code, name=cls.name, severity=cls.severity, path=display,
                   message=reason, why=cls.why, fix=cls.fix)
