"""Compare bnlint's output between this tree and a base git ref (default ``main``).

Creates a temporary ``git worktree`` of the base ref, then runs ``bnlint summarize`` (text and
``--format json``) and ``bnlint check --no-cache`` on every file under ``fixtures/`` and on every
model function of the installed ``keras/src/applications/*.py`` (``FILE.py::function`` targets
with ``--arg weights=None``), once with each tree on ``PYTHONPATH``, in subprocesses.  Reports
every invocation whose stdout, stderr or exit code differ; exits 1 on any difference.

    python scripts/compare_outputs.py [BASE_REF]
"""

from __future__ import annotations

import ast
import difflib
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 40


def app_targets() -> list[str]:
    """FILE.py::function for every exported application function (parsed, never imported)."""
    sys.path.insert(0, str(ROOT))
    from bnlint.readers.source import _keras_apps_dir

    root = _keras_apps_dir(3)
    if root is None:
        return []
    out = []
    for f in sorted(root.glob("*.py")):
        if f.name.endswith("_test.py") or f.name.startswith("_"):
            continue
        for n in ast.parse(f.read_text(encoding="utf-8")).body:
            if isinstance(n, ast.FunctionDef) and n.name[0].isupper() and any(
                isinstance(d, ast.Call) and getattr(d.func, "id", None) == "keras_export"
                for d in n.decorator_list
            ):
                out.append(f"{f}::{n.name}")
    return out


def invocations() -> list[list[str]]:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fixtures").rglob("*") if p.is_file())
    apps = app_targets()
    runs: list[list[str]] = []
    for group, extra in ((files, []), (apps, ["--arg", "weights=None"])):
        for i in range(0, len(group), CHUNK):
            chunk = group[i:i + CHUNK]
            runs.append(["summarize", *extra, *chunk])
            runs.append(["summarize", "--format", "json", *extra, *chunk])
            if not extra:
                runs.append(["check", "--no-cache", "--exit-zero", "-j", "1", *chunk])
    # Applications under check: the function targets read whole files' models
    for i in range(0, len(apps), CHUNK):
        runs.append(["check", "--no-cache", "--exit-zero", "-j", "1", *apps[i:i + CHUNK]])
    return runs


def run(tree: Path, args: list[str]) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(tree), NO_COLOR="1", COLUMNS="200")
    p = subprocess.run([sys.executable, "-m", "bnlint", *args], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=1800)
    return p.returncode, p.stdout, p.stderr


def main() -> int:
    base = sys.argv[1] if len(sys.argv) > 1 else "main"
    runs = invocations()
    differences = 0
    with tempfile.TemporaryDirectory() as tmp:
        wt = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(wt), base], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            with ThreadPoolExecutor(2) as pool:
                for args in runs:
                    old_f = pool.submit(run, wt, args)
                    new_f = pool.submit(run, ROOT, args)
                    old, new = old_f.result(), new_f.result()
                    if old != new:
                        differences += 1
                        print(f"DIFFERENT: bnlint {' '.join(args[:4])} ... ({len(args)} args)")
                        if old[0] != new[0]:
                            print(f"  exit code {old[0]} -> {new[0]}")
                        for label, a, b in (("stdout", old[1], new[1]), ("stderr", old[2], new[2])):
                            diff = list(difflib.unified_diff(a.splitlines(), b.splitlines(),
                                                             f"{base} {label}", f"this {label}",
                                                             lineterm="", n=1))
                            print("\n".join(diff[:40]))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT,
                           capture_output=True)
    print(f"{len(runs)} invocations compared against {base}: {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
