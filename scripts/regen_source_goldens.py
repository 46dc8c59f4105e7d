"""Regenerate fixtures/source/goldens/<name>.json by executing each fixture under real Keras.

Each script/notebook of ``fixtures/source/`` runs in its own subprocess (a fresh Python
session, so Keras's automatic names start from zero) under Keras 3 or tf_keras (detected
from its imports, like bnlint does); ``keras_facts`` (tests/oracle_facts.py) of every model
variable it leaves at module level is written as JSON.  Directives in a fixture:
``# oracle: defines={"num_classes": 38}`` pre-defines names, ``# oracle-sub: A => B``
rewrites source text before running (the tests read the original text with the defines).
``# oracle-alternatives: [{"USE_BN": false}, ...]`` also runs the script once per set of
defines (the alternatives bnlint reports for unknown conditions; goldens' ``alternatives``);
``# oracle-target: NAME [{"arg": "expression"}]`` also runs the script and then calls the
function or ``Class.method`` NAME (a plain method on ``Class()``) with those arguments, as
``bnlint summarize FILE.py::NAME --arg ...`` reads it (goldens' ``targets``).

    python scripts/regen_source_goldens.py            # all
    python scripts/regen_source_goldens.py NAME ...   # some (file names or stems)
    python scripts/regen_source_goldens.py --check    # exit 1 if a golden is stale
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "source"
# Directories of fixtures; each keeps its goldens in its own ``goldens/`` (realworld/ holds the
# reductions of public code from ../shared/realworld: scripts, and library functions as targets).
FIXTURE_DIRS = [FIXTURES, FIXTURES / "realworld" / "scripts", FIXTURES / "realworld" / "libraries"]
TESTS = ROOT / "tests"
sys.path.insert(0, str(ROOT))
from bnlint.readers.source.imports import module_name  # noqa: E402  (the name bnlint gives)

WORKER = r'''
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, sys.argv[1])
req = json.loads(sys.stdin.read())
sys.path.insert(0, os.path.dirname(req["path"]))
for extra in req.get("syspath", []):
    sys.path.insert(0, extra)
from oracle_facts import run_program_facts
version = req["version"]
if version == 3:
    import keras
    keras.utils.set_random_seed(1234)
result = run_program_facts(req["text"], req["path"], version, req["defines"],
                           req.get("module_name", "__main__"))
print(json.dumps({"version": version, **result}, sort_keys=True))
'''


TARGET_CALL = """
def _bnlint_call_target(owner, name, kwargs):
    import inspect
    if isinstance(inspect.getattr_static(owner, name), (staticmethod, classmethod)):
        return getattr(owner, name)(**kwargs)
    return getattr(owner(), name)(**kwargs)
"""


def target_text(text: str, name: str, args: dict[str, str], version: int = 3) -> str:
    """The program, then ``bnlint_target = <call of NAME>`` (a module-level model variable).

    Arguments may name the Keras package the program never imported (``--arg
    layers=keras.layers``, the model-zoo idiom): it is imported for the call when unbound."""
    kwargs = ", ".join(f"{k}={v}" for k, v in args.items())
    owner, dot, meth = name.partition(".")
    call = (f"_bnlint_call_target({owner}, {meth!r}, dict({kwargs}))" if dot
            else f"{name}({kwargs})")
    package = "keras" if version == 3 else "tf_keras"
    need = f"if {package!r} not in globals():\n    import {package}\n"
    return f"{text}\n{TARGET_CALL}\n{need}bnlint_target = {call}\n"


def golden_path(path: Path) -> Path:
    """``goldens/<stem>.json`` of the fixture directory holding ``path``; a package module is
    named by its path there (``relimp/mylib/sub/net.py`` -> ``relimp.mylib.sub.net.json``)."""
    home = max((d for d in FIXTURE_DIRS if path.is_relative_to(d)), key=lambda d: len(d.parts))
    stem = ".".join(path.relative_to(home).with_suffix("").parts)
    return home / "goldens" / f"{stem}.json"


def fixture_files() -> list[Path]:
    """Every fixture with a golden: the scripts/notebooks of each fixture directory, and in
    realworld/libraries also package modules (``**/*.py``) that carry an oracle directive."""
    out = [p for p in FIXTURES.glob("*") if p.suffix in (".py", ".ipynb")]
    for d in FIXTURE_DIRS[1:]:
        out += [p for p in d.rglob("*.py") if p.parent == d or "# oracle-" in p.read_text()]
    return sorted(out)


def directives(text: str) -> dict:
    """The ``# oracle-alternatives:`` and ``# oracle-target:`` directives of a fixture."""
    import re

    out: dict = {"alternatives": [], "targets": []}
    for line in text.splitlines():
        m = re.match(r"#\s*oracle-alternatives:\s*(\[.*\])\s*$", line)
        if m:
            out["alternatives"] = json.loads(m.group(1))
        m = re.match(r"#\s*oracle-target:\s*([\w.]+)\s*(\{.*\})?\s*$", line)
        if m:
            out["targets"].append((m.group(1), json.loads(m.group(2) or "{}")))
    return out


def program(path: Path) -> tuple[str, dict, list[tuple[str, str]], int]:
    """(text to run, defines, substitutions, keras version) of a fixture."""
    sys.path.insert(0, str(ROOT))
    import re

    from bnlint.readers.source import detect_version

    if path.suffix == ".ipynb":
        from bnlint.readers.notebook import join_cells, notebook_cells

        text, _ = join_cells(notebook_cells(json.loads(path.read_text())))
    else:
        text = path.read_text()
    defines: dict = {}
    subs: list[tuple[str, str]] = []
    for line in text.splitlines():
        m = re.match(r"#\s*oracle:\s*defines=(\{.*\})\s*$", line)
        if m:
            defines = json.loads(m.group(1))
        m = re.match(r"#\s*oracle-sub:\s*(.*?)\s*=>\s*(.*)$", line)
        if m:
            subs.append((m.group(1), m.group(2)))
    return text, defines, subs, detect_version(text)


def golden_for(path: Path) -> dict:
    text, defines, subs, version = program(path)
    original = text
    for old, new in subs:
        if old not in text:
            raise SystemExit(f"{path.name}: oracle-sub pattern not found: {old}")
        text = text.replace(old, new)
    out = runs(path, text, version, defines)
    if "# oracle-keras2" in original:
        # Also the tf-keras truth of a `tensorflow.keras` program (TF_USE_LEGACY_KERAS=1, as
        # TF 2.0-2.15 read it), after its ``# oracle-sub2: A => B`` rewrites.
        import re

        for m in re.finditer(r"^#\s*oracle-sub2:\s*(.*?)\s*=>\s*(.*)$", original, re.MULTILINE):
            text = text.replace(m.group(1), m.group(2))
        out["keras2"] = runs(path, text, 2, defines, legacy=True)
    return out


def runs(path: Path, text: str, version: int, defines: dict, legacy: bool = False) -> dict:
    """The program's models, and those of its alternatives and targets, under one Keras."""
    out = run_worker(path, text, version, defines, legacy)
    out["defines"] = defines
    extra = directives(text)
    if extra["alternatives"]:
        out["alternatives"] = [{"defines": d, **run_worker(path, text, version, d, legacy)}
                               for d in extra["alternatives"]]
    if extra["targets"]:
        out["targets"] = []
        for name, args in extra["targets"]:
            got = run_worker(path, target_text(text, name, args, version), version, defines,
                             legacy, module_name(path))
            out["targets"].append({"name": name, "args": args, "error": got["error"],
                                   "model": got["models"].get("bnlint_target")})
    return out


def syspath(path: Path, text: str) -> list[str]:
    """``# oracle-syspath: DIR ...`` (relative to the fixture's directory): where the program's
    own packages are importable from, as its project would set up ``sys.path``."""
    import re

    m = re.search(r"^#\s*oracle-syspath:\s*(.*)$", text, re.MULTILINE)
    return [str((path.parent / d).resolve()) for d in m.group(1).split()] if m else []


def run_worker(path: Path, text: str, version: int, defines: dict, legacy: bool = False,
               module_name: str = "__main__") -> dict:
    """``run_program_facts`` of the text in a fresh Python session (names start from zero);
    ``legacy``: ``tensorflow.keras`` is tf-keras there (TF_USE_LEGACY_KERAS=1)."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore",
                   KERAS_HOME=home, CUDA_VISIBLE_DEVICES="-1")
        if legacy:
            env["TF_USE_LEGACY_KERAS"] = "1"
        req = {"text": text, "path": str(path), "version": version, "defines": defines,
               "syspath": syspath(path, text), "module_name": module_name}
        proc = subprocess.run([sys.executable, "-c", WORKER, str(TESTS)], input=json.dumps(req),
                              capture_output=True, text=True, env=env, cwd=str(ROOT),
                              timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"{path.name}: worker failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def dump(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ns = ap.parse_args(argv)
    files = fixture_files()
    if ns.names:
        files = [f for f in files
                 if {f.name, f.stem, str(f.relative_to(FIXTURES))} & set(ns.names)]
    stale = []
    pool = ThreadPoolExecutor(ns.jobs)
    # Each golden is written as soon as it is made, so one slow fixture does not hold the rest.
    for f, data in zip(files, pool.map(golden_for, files), strict=True):
        target = golden_path(f)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = dump(data)
        bad = [k for k, v in data["models"].items() if "error" in v]
        if not data["models"] or bad:
            print(f"warning: {f.name}: models={list(data['models'])} errors={bad} "
                  f"run error={data['error']}", file=sys.stderr)
        if ns.check:
            if not target.is_file() or target.read_text() != text:
                stale.append(f.name)
        else:
            target.write_text(text)
            print(f"{target.relative_to(ROOT)}: {len(data['models'])} model(s)", flush=True)
    pool.shutdown()
    if ns.check:
        for name in stale:
            print(f"stale golden: {name}")
        return 1 if stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
