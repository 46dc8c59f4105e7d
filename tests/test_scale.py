"""Scale and robustness of ``bnlint check`` / ``summarize``: pathological inputs, internal
errors, the cache, the process pool.  Everything runs in fresh processes where the
behaviour is about processes (exit codes, stderr, imported modules, peak memory)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fixtures" / "pathological"))
from generate import generate  # noqa: E402

SEED000 = ROOT / "fixtures" / "check" / "seed000.py"
BUDGET = "3"


def bnlint(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
           timeout: float = 180) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "BNLINT_FILE_TIME_BUDGET": BUDGET, **(env or {})}
    return subprocess.run([sys.executable, "-m", "bnlint", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=timeout, env=full_env)


@pytest.fixture(scope="module")
def pathological(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate(tmp_path_factory.mktemp("pathological"), big=True)


def test_committed_fixtures_are_the_generated_ones(tmp_path: Path) -> None:
    here = ROOT / "fixtures" / "pathological"
    fresh = generate(tmp_path)
    for f in fresh:
        if f.suffix == ".h5":  # h5py writes timestamps: compare existence only
            assert (here / f.name).is_file(), f.name
            continue
        assert (here / f.name).read_bytes() == f.read_bytes(), f.name


def test_check_pathological_inputs_bounded_with_a_line_per_file(
        pathological: list[Path], tmp_path: Path) -> None:
    d = pathological[0].parent
    start = time.monotonic()
    r = bnlint("check", "--no-cache", str(d), "--output-format", "concise", cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert "Traceback" not in r.stderr + r.stdout
    assert r.returncode == 2, r.stderr  # unreadable files (BN999) are errors
    assert elapsed < 90, elapsed
    out = r.stdout + r.stderr
    # the files that are read fine (absurd but valid) still give findings or a clean pass
    readable = {"huge_dense.py", "huge_dense.json", "absurd_shapes.h5", "cell_source_int.ipynb"}
    for f in pathological:
        if f.name in readable:
            continue
        assert f"{f.name}: " in out or f"{f.name}:" in out, (f.name, out[-3000:])
    assert "BN998" not in out, out
    assert "big_10mb.py: note: source is" in r.stderr
    assert ("million_layers.json: the file has more than 100000 layers" in r.stderr
            or "million_layers.json: note: analysis time budget" in r.stderr), r.stderr
    assert "while_true_model.py: note: analysis time budget of 3 s hit" in r.stderr
    assert "zip_bomb.keras: config.json is 67108865 bytes" in r.stderr
    assert "ratio_bomb.keras: config.json inflates" in r.stderr


def test_summarize_pathological_inputs_one_line_each(pathological: list[Path],
                                                     tmp_path: Path) -> None:
    targets = [str(p) for p in pathological if p.name not in ("big_10mb.py",
                                                             "million_layers.json")]
    start = time.monotonic()
    r = bnlint("summarize", *targets, cwd=tmp_path)
    assert time.monotonic() - start < 90
    assert "Traceback" not in r.stderr + r.stdout
    assert r.returncode == 2
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("bnlint: ") and
              ": note: " not in ln]
    failed = {Path(ln.split(": ")[1]).name for ln in errors}
    assert len(errors) == len(failed), errors  # one line per failing file
    assert "internal error" not in r.stderr
    assert {"deep_parens.py", "deep_cell.ipynb", "while_true_model.py", "zip_bomb.keras",
            "truncated.keras", "truncated.ipynb", "nested_models.json"} <= failed


def _peak_rss_mb(args: list[str]) -> tuple[float, str]:
    # VmHWM is the peak of this process's own address space; ru_maxrss is not usable here
    # because Linux carries it over from the parent across fork+exec (a pytest worker that
    # imported TensorFlow would be counted).
    code = ("import sys\nfrom bnlint.cli import app\n"
            "try:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')][0]\n"
            "print('PEAK', hwm.split()[1], file=sys.stderr)\n")
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("PEAK")][-1]
    return int(line.split()[1]) / 1024, r.stdout


def test_absurd_shapes_are_reported_not_allocated(pathological: list[Path]) -> None:
    d = pathological[0].parent
    peak, out = _peak_rss_mb(["summarize", str(d / "absurd_shapes.h5"),
                              str(d / "huge_dense.py"), str(d / "huge_dense.json")])
    assert "1,000,000,001,000,000,000,000" in out  # Dense(10**12) on 10**9 inputs, counted
    assert peak < 400, peak  # 4 TB declared kernel: never allocated
    peak, _ = _peak_rss_mb(["check", "--no-cache", str(d / "absurd_shapes.h5"),
                            str(d / "huge_dense.py")])
    assert peak < 400, peak


def test_time_budget_in_process() -> None:
    from bnlint.rules.config import Settings
    from bnlint.rules.engine import Task, analyse_file

    path = ROOT / "fixtures" / "pathological" / "while_true_model.py"
    # The budget is CPU time (a loaded machine reads a file as an idle one does).
    start = time.process_time()
    out = analyse_file(Task(str(path), "w.py", Settings(), frozenset({"BN001"}), (), 1.0))
    assert time.process_time() - start < 5
    assert out.notes == ["analysis time budget of 1 s hit; the file was not (fully) checked"]
    assert not out.cacheable


# ------------------------------------------------------------------ internal errors

def test_internal_error_is_bn998_and_exit_2_only_with_strict(tmp_path: Path) -> None:
    (tmp_path / "boom.py").write_text("import keras\n# bnlint: internal-error-selftest\n")
    shutil.copy(SEED000, tmp_path / "good.py")
    r = bnlint("check", "--no-cache", ".", "--output-format", "concise", cwd=tmp_path)
    assert "Traceback" not in r.stderr
    assert r.returncode == 1  # good.py's findings; BN998 alone does not fail the run
    assert "boom.py: BN998 internal error while reading (RuntimeError" in r.stdout
    assert "please report it" in r.stderr and "BN001" in r.stdout
    r = bnlint("check", "--no-cache", "boom.py", cwd=tmp_path)
    assert r.returncode == 0 and "BN998" in r.stdout
    r = bnlint("check", "--no-cache", "--strict", ".", cwd=tmp_path)
    assert r.returncode == 2
    r = bnlint("check", "--no-cache", "--ignore", "BN998", "boom.py", cwd=tmp_path)
    assert r.returncode == 0 and "BN998" not in r.stdout and "please report" in r.stderr


def test_a_failing_rule_is_bn998_and_the_other_rules_still_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bnlint.rules import all_rules
    from bnlint.rules.config import Settings
    from bnlint.rules.engine import run

    cls = all_rules()["BN002"]

    def broken(self, ctx):
        raise KeyError("boom")
        yield

    monkeypatch.setattr(cls, "check", broken)
    result = run([str(SEED000)], Settings(), jobs=1)
    codes = {f.code for f in result.findings}
    assert "BN998" in codes and "BN001" in codes
    bn998 = next(f for f in result.findings if f.code == "BN998")
    assert "in BN002 (KeyError" in bn998.message and result.internal_errors == 1


def test_summarize_internal_error_is_one_line(tmp_path: Path) -> None:
    code = ("import sys\nimport bnlint.summary as s\n"
            "def boom(m):\n    raise ZeroDivisionError('x')\n"
            "s.summarize = boom\nfrom bnlint.cli import app\napp(sys.argv[1:])\n")
    r = subprocess.run([sys.executable, "-c", code, "summarize", str(SEED000),
                        str(ROOT / "fixtures" / "models" / "seed000_dnn_bn.keras")],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "internal error (ZeroDivisionError" in ln]
    assert len(lines) == 2, r.stderr


# ------------------------------------------------------------------ cache and pool

def _tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for i, f in enumerate(sorted((ROOT / "fixtures" / "source").glob("*.py"))[:20]):
        shutil.copy(f, src / f"m{i:02d}_{f.name}")
    shutil.copy(SEED000, src / "seed000.py")
    shutil.copy(ROOT / "fixtures" / "check" / "seed002.py", src / "seed002.py")
    shutil.copy(ROOT / "fixtures" / "models" / "seed000_dnn_bn.keras", src / "m.keras")
    return src


def test_cache_round_trip_and_clean(tmp_path: Path) -> None:
    _tree(tmp_path)
    cold = bnlint("check", "src", "--output-format", "json", cwd=tmp_path)
    cache = tmp_path / ".bnlint_cache"
    assert (cache / "CACHEDIR.TAG").read_text().startswith(
        "Signature: 8a477f597d28d172789f06886806bc55")
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    warm = bnlint("check", "src", "--output-format", "json", cwd=tmp_path)
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        cold.returncode, cold.stdout, cold.stderr)
    assert json.loads(warm.stdout)
    # settings are part of the key
    other = bnlint("check", "src", "--select", "BN001", "--output-format", "json",
                   cwd=tmp_path)
    assert {f["code"] for f in json.loads(other.stdout)} == {"BN001"}
    # a changed file is re-read
    f = tmp_path / "src" / "seed000.py"
    f.write_text(f.read_text() + "\n# edited\n")
    again = bnlint("check", "src", "--output-format", "json", cwd=tmp_path)
    assert again.stdout == cold.stdout
    r = bnlint("clean", cwd=tmp_path)
    assert r.returncode == 0 and not cache.exists()
    bnlint("check", "--no-cache", "src", cwd=tmp_path)
    assert not cache.exists()


def test_fully_cached_run_does_not_import_libcst(tmp_path: Path) -> None:
    _tree(tmp_path)
    bnlint("check", "src", cwd=tmp_path)
    code = ("import sys\nfrom bnlint.cli import app\n"
            "try:\n    app(['check', 'src'])\nexcept SystemExit as e:\n    code = e.code\n"
            "print('LIBCST', 'libcst' in sys.modules, code)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert "LIBCST False 1" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-c", code.replace("'src'", "'src', '--no-cache', '-j', '1'")],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "LIBCST True 1" in r.stdout  # the test can tell


def test_parallel_output_is_deterministic(tmp_path: Path) -> None:
    _tree(tmp_path)
    runs = [bnlint("check", "--no-cache", "-j", j, "src", "--output-format", "json",
                   cwd=tmp_path) for j in ("1", "4", "3")]
    assert runs[0].stdout and runs[0].returncode == 1
    assert {(r.returncode, r.stdout, r.stderr) for r in runs} == {
        (runs[0].returncode, runs[0].stdout, runs[0].stderr)}


def test_workers_sized_to_the_work() -> None:
    from bnlint.parallel import machine_workers, workers_for

    assert workers_for(1, None) == 1 and workers_for(3, None) == 1
    assert workers_for(10_000, None) == machine_workers()
    assert workers_for(5, 8) == 5 and workers_for(100, 2) == 2


def test_stdlib_has_no_findings_and_no_internal_errors(tmp_path: Path) -> None:
    stdlib = sysconfig.get_paths()["stdlib"]
    r = bnlint("check", "--no-cache", "--strict", stdlib, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "All checks passed!\n"), r.stdout[-2000:] + r.stderr
    assert "BN998" not in r.stderr and "internal error" not in r.stderr


def _crash_on_seed002(task):  # runs in a forked worker
    from bnlint.rules import engine

    if task.path.endswith("seed002.py"):
        os._exit(139)  # what a segfault in native code looks like to the pool
    return engine._real_analyse_file(task)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start method")
def test_a_crashing_worker_is_bn998_and_the_run_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bnlint.rules import engine
    from bnlint.rules.config import Settings

    monkeypatch.setattr(engine, "_real_analyse_file", engine.analyse_file, raising=False)
    monkeypatch.setattr(engine, "analyse_file", _crash_on_seed002)
    src = _tree(tmp_path)
    result = engine.run([str(src)], Settings(), jobs=2)
    assert [d for d, _ in result.internal] == [str(src / "seed002.py")]
    assert "worker process analysing the file crashed" in result.internal[0][1]
    assert "BN001" in {f.code for f in result.findings}
