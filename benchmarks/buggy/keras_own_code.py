"""The issue-12 rules on Keras's own code: findings per rule, which should all be justified.

    python benchmarks/buggy/keras_own_code.py

Runs ``bnlint check --no-cache`` (rules BN004, BN014, KR006, KR007, KR008) on the installed
``keras/src`` and ``tf_keras/src``, and on a temporary copy of every ``keras/src/applications``
module with a call of each exported application function appended (``ResNet50(weights=None)``...),
so the models those functions build are checked too (the copies live in a temporary directory
and are deleted afterwards; nothing of Keras is stored in this repository). Prints the
statistics of each run.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = "BN004,BN014,KR006,KR007,KR008"
_EXPORT = re.compile(r'@keras_export\(\s*\[?\s*"keras\.applications\.(?:\w+\.)?(\w+)"')


def _package_src(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "src"


def _check(target: Path) -> str:
    cmd = [sys.executable, "-m", "bnlint", "check", "--no-cache", "--exit-zero", "--select", RULES,
           "--statistics", str(target)]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    return out.stdout.strip() or "(no findings)"


def main() -> int:
    for name in ("keras", "tf_keras"):
        src = _package_src(name)
        if src is None:
            print(f"{name}: not installed")
            continue
        print(f"## {name}/src\n{_check(src)}\n")
    src = _package_src("keras")
    if src is not None:
        with tempfile.TemporaryDirectory() as tmp:
            for path in sorted((src / "applications").glob("*.py")):
                text = path.read_text("utf-8")
                names = [n for n in dict.fromkeys(_EXPORT.findall(text))
                         if re.search(rf"^def {n}\(", text, re.M)]
                if names:
                    calls = "".join(f"_m{i} = {n}(weights=None)\n" for i, n in enumerate(names))
                    (Path(tmp) / path.name).write_text(text + "\n\n" + calls, "utf-8")
            print(f"## keras/src/applications, every application function called\n"
                  f"{_check(Path(tmp))}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
