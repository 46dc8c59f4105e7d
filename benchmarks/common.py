"""What every benchmark script shares: fresh-process timing, medians, the machine line, and
compiled bytecode for bnlint.

Bytecode: a ``pip install`` of bnlint compiles its modules, and a checkout compiles them on
the first run — unless ``PYTHONDONTWRITEBYTECODE`` is set (as on some CI machines), in
which case every run would recompile bnlint's sources (about 30 ms). The benchmarks measure
the installed steady state, so they compile bnlint once before timing anything; Keras and
TensorFlow are measured from their pip-compiled bytecode too.
"""

from __future__ import annotations

import compileall
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow",
       "PYTHONWARNINGS": "ignore"}

# Runs the command in a child of a small timer process, so the peak RSS reported is the
# command's own (Linux carries ru_maxrss over from a parent across fork+exec); the child's
# CPU time (user + system) too: on a shared machine it stretches much less than wall time.
_TIMER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "dt = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(dt, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024, r.returncode)\n"
    "sys.stderr.write(r.stderr.decode()[-2000:] if r.returncode else '')\n"
)


def compile_bytecode() -> None:
    """Compile bnlint's modules, as ``pip install`` does (see the module docstring)."""
    compileall.compile_dir(str(ROOT / "bnlint"), quiet=1)


def fresh_run_cpu(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one fresh process running ``cmd``."""
    proc = subprocess.run([sys.executable, "-c", _TIMER, *cmd], capture_output=True,
                          text=True, env=ENV, cwd=cwd, check=True)
    wall, cpu, rss, code = proc.stdout.split()
    if code != "0":
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{proc.stderr}")
    return float(wall), float(cpu), float(rss)


def fresh_run(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process running ``cmd``."""
    wall, _, rss = fresh_run_cpu(cmd, cwd)
    return wall, rss


def median_run_cpu(cmd: list[str], runs: int, cwd: Path = ROOT) -> tuple[float, float, float]:
    """Median wall seconds, CPU seconds and peak RSS (MB) over ``runs`` fresh processes."""
    results = [fresh_run_cpu(cmd, cwd) for _ in range(runs)]
    return tuple(statistics.median(r[i] for r in results) for i in range(3))  # type: ignore[return-value]


def median_run(cmd: list[str], runs: int, cwd: Path = ROOT) -> tuple[float, float]:
    """Median wall seconds and median peak RSS (MB) over ``runs`` fresh processes."""
    wall, _, rss = median_run_cpu(cmd, runs, cwd)
    return wall, rss


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def versions() -> str:
    """bnlint, Python, Keras and TensorFlow versions and the machine, for a results line."""
    code = "import keras, tensorflow; print(keras.__version__, tensorflow.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=ENV).stdout.split()
    keras_v, tf_v = [*out, "?", "?"][:2]
    sys.path.insert(0, str(ROOT))
    from bnlint import __version__

    return (f"bnlint {__version__}, Python {platform.python_version()}, keras {keras_v}, "
            f"tensorflow {tf_v}, {cpu_model()}, {os.cpu_count()} cores")
