"""``bnlint check`` on a whole tree vs ``ruff check --select E9`` (and pylint when installed).

Every figure is the median of several fresh-process runs, measured side by side in the same
invocation, with the peak resident memory of each run (the process and its workers).
bnlint is measured three ways: ``--no-cache``; cold (empty ``.bnlint_cache/``, which the run
fills); warm (the cache a previous run left).  The default tree is the Python standard
library directory of the running interpreter (``site-packages`` is skipped by every tool).
Prints Markdown (machine, versions, table, and the check of the issue's targets).

    python benchmarks/bench_check.py [--repeat 5] [--tree DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from common import compile_bytecode, cpu_model

ROOT = Path(__file__).resolve().parent.parent


def run_once(cmd: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS MiB incl. waited-for workers, exit code, stdout)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return wall, usage.ru_maxrss / 1024, proc.returncode, text


def measure(name: str, cmd: list[str], cwd: Path, repeat: int, before: Any = None,
            ) -> dict[str, Any]:
    walls, peaks, codes = [], [], set()
    for _ in range(repeat):
        if before is not None:
            before()
        wall, peak, code, _ = run_once(cmd, cwd)
        walls.append(wall)
        peaks.append(peak)
        codes.add(code)
    return {"name": name, "cmd": " ".join(cmd), "median": statistics.median(walls),
            "min": min(walls), "max": max(walls), "peak": max(peaks), "codes": sorted(codes)}


def version_of(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not installed"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tree", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--pylint-timeout", type=float, default=600)
    args = ap.parse_args()
    compile_bytecode()
    tree = str(Path(args.tree).resolve())
    work = Path(tempfile.mkdtemp(prefix="bench_check_"))  # cwd: the cache lives here
    bnlint = [sys.executable, "-m", "bnlint", "check", tree]
    ruff = shutil.which("ruff")
    pylint = shutil.which("pylint")
    rows = []
    try:
        rows.append(measure("bnlint check --no-cache", [*bnlint, "--no-cache"], work,
                            args.repeat))
        rows.append(measure("bnlint check, cold cache", bnlint, work, args.repeat,
                            before=lambda: shutil.rmtree(work / ".bnlint_cache",
                                                         ignore_errors=True)))
        run_once(bnlint, work)  # fill the cache
        rows.append(measure("bnlint check, warm cache", bnlint, work, args.repeat))
        if ruff:
            rows.append(measure("ruff check --select E9", [ruff, "check", "--isolated",
                                                            "--no-cache", "--select", "E9",
                                                            "--quiet", tree],
                                work, args.repeat))
        if pylint:
            start = time.perf_counter()
            cmd = [pylint, "--disable=all", "--enable=E0001", "--recursive=y",
                   "--ignore=site-packages", tree]
            try:
                wall, peak, code, _ = run_once(cmd, work)
                rows.append({"name": "pylint (syntax errors only, 1 run)", "cmd": " ".join(cmd),
                             "median": wall, "min": wall, "max": wall, "peak": peak,
                             "codes": [code]})
            except subprocess.TimeoutExpired:
                rows.append({"name": "pylint", "median": time.perf_counter() - start})
        # the targets: zero findings, zero internal errors on the tree
        _, _, code, out = run_once([*bnlint, "--no-cache", "--strict", "--output-format",
                                    "json"], work)
        findings = json.loads(out or "[]")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    from bnlint import __version__

    print("## `bnlint check` speed (benchmarks/bench_check.py)\n")
    print(f"- machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} "
          f"{platform.release()}")
    print(f"- Python {platform.python_version()}, bnlint {__version__}, "
          f"{version_of([ruff, '--version']) if ruff else 'ruff not installed'}, "
          f"{version_of([pylint, '--version']).splitlines()[0] if pylint else 'pylint not installed (skipped)'}")
    n_py = sum(1 for p in Path(tree).rglob("*.py")
               if "site-packages" not in p.relative_to(tree).parts)
    print(f"- tree: `{tree}` ({n_py} .py files outside site-packages); "
          f"median of {args.repeat} fresh processes each\n")
    print("| run | median s | min s | max s | peak RSS MiB | exit codes |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['name']} | {r['median']:.3f} | {r.get('min', 0):.3f} | "
              f"{r.get('max', 0):.3f} | {r.get('peak', 0):.0f} | "
              f"{','.join(map(str, r.get('codes', [])))} |")
    by = {r["name"]: r for r in rows}
    warm = by["bnlint check, warm cache"]["median"]
    cold = by["bnlint check, cold cache"]["median"]
    internal = sum(1 for f in findings if f["code"] == "BN998")
    print()
    print(f"- findings on the tree: {len(findings)} (internal errors, BN998: {internal}); "
          f"exit code with --strict: {code}")
    print(f"- warm cache under 1 s: {'yes' if warm < 1 else 'NO'} ({warm:.3f} s)")
    if "ruff check --select E9" in by:
        ratio = cold / by["ruff check --select E9"]["median"]
        print(f"- cold within 3x of ruff --select E9: {'yes' if ratio <= 3 else 'NO'} "
              f"({ratio:.2f}x)")
    if not pylint:
        print("- pylint: not installed, skipped (`pip install pylint` to include it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
