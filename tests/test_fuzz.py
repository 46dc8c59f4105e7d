"""Fuzzing the readers with mutated real inputs: only documented errors, never a hang.

The source reader (mutated fixture scripts: lines deleted, duplicated, swapped, random
tokens inserted), the config reader (mutated Keras configs from fixtures/applications and
fixtures/models) and the notebook reader (broken JSON, wrong types).  Each example runs
under a wall-time budget, so a hang is a failure, not a stuck CI job.

Example counts are modest here (the whole file runs in well under a minute); a long run:
``BNLINT_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py -p no:randomly``.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint.readers.config import ConfigError, model_from_config
from bnlint.readers.notebook import join_cells, notebook_cells
from bnlint.readers.saved import ReadError, check_bounds
from bnlint.readers.source import SourceError, read_text
from bnlint.rules.engine import BoundHit, TimeBudgetExceeded, preflight_source, time_budget

ROOT = Path(__file__).resolve().parents[1]
LONG_RUN = "BNLINT_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("BNLINT_FUZZ_EXAMPLES", "200"))
PER_EXAMPLE_SECONDS = float(os.environ.get("BNLINT_FUZZ_TIMEOUT", "10"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                database=None)

SCRIPTS = sorted((ROOT / "fixtures" / "source").glob("*.py"))[:40] + sorted(
    (ROOT / "fixtures" / "check").glob("seed*.py"))
CONFIG_FILES = sorted((ROOT / "fixtures" / "models").glob("*.json"))
CONFIG_FILES = [p for p in CONFIG_FILES if not p.name.endswith(".golden.json")]
CONFIG_FILES += sorted((ROOT / "fixtures" / "applications").rglob("*.json"))[:12]
CONFIG_FILES = [p for p in CONFIG_FILES if p.stat().st_size < 400_000]

TOKENS = ["(", ")", "[", "]", "{", "}", ":", ",", "=", "*", "**", "lambda", "None", "0", "-1",
          "10**12", "1e309", "'x'", "keras.layers.Dense(", "keras.Sequential(", "model",
          "while True:", "for i in range(10**9):", "def f(x):", "return", "yield", "if",
          "else", "\\", "\t", "    ", "import keras", "from keras import *", "global x",
          "async", "await", "del model", "model.add(", ".layers[", "get_weights()[",
          "BatchNormalization(", "input_shape=(", "units=", ")(x)", "x", "f(f(f(", "*args",
          "class M(keras.Model):", "super().__init__()", "nonlocal y", "@", "...", "#", "'''"]


def _bounded(fn: Any, *args: Any, allowed: tuple[type[BaseException], ...]) -> None:
    try:
        with time_budget(PER_EXAMPLE_SECONDS):
            fn(*args)
    except TimeBudgetExceeded:
        pytest.fail(f"hang: more than {PER_EXAMPLE_SECONDS} s")
    except allowed:
        pass


# ---------------------------------------------------------------- source reader

@st.composite
def mutated_script(draw: Any) -> str:
    path = draw(st.sampled_from(SCRIPTS))
    lines = path.read_text("utf-8").splitlines()
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "token", "indent"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "token":
            col = draw(st.integers(0, len(lines[i])))
            tok = draw(st.sampled_from(TOKENS))
            lines[i] = lines[i][:col] + tok + lines[i][col:]
        else:
            lines[i] = "    " + lines[i]
    return "\n".join(lines) + "\n"


def _read_source(text: str) -> None:
    preflight_source(text)
    read_text(text, "<fuzz>")


@FUZZ
@given(mutated_script())
def test_source_reader_survives_mutated_scripts(text: str) -> None:
    _bounded(_read_source, text, allowed=(SourceError, BoundHit))


# ---------------------------------------------------------------- config reader

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**13, 10**13),
                 st.floats(allow_nan=True), st.text(max_size=8),
                 st.lists(st.integers(-3, 10**12), max_size=4),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
                 st.sampled_from([[None, 10**12], [None, -1], [None, 0], [], {}, "same",
                                  [None, None, None, 3], ["a", 0, 0], [[["x", 0, 0, {}]]],
                                  {"class_name": "__keras_tensor__", "config": {}}]))


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:50]):
            out.extend(_paths(v, (*prefix, i)))
    return out


_CONFIGS = {p: json.loads(p.read_text("utf-8")) for p in CONFIG_FILES}
_PATHS = {p: _paths(c) for p, c in _CONFIGS.items()}


@st.composite
def mutated_config(draw: Any) -> dict[str, Any]:
    path = draw(st.sampled_from(CONFIG_FILES))
    data = copy.deepcopy(_CONFIGS[path])
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(_PATHS[path]))
        parent, obj = None, data
        try:
            for k in where:
                parent, obj = obj, obj[k]
        except (KeyError, IndexError, TypeError):
            continue
        if parent is None:
            continue
        key = where[-1]
        op = draw(st.sampled_from(["replace", "delete", "duplicate", "wrap"]))
        if op == "replace":
            parent[key] = draw(JUNK)
        elif op == "delete":
            del parent[key]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(obj))
        else:
            parent[key] = [obj]
    return data


def _read_config(data: dict[str, Any]) -> None:
    check_bounds(data)
    model_from_config(data, "<fuzz>")


@FUZZ
@given(mutated_config())
def test_config_reader_survives_mutated_configs(data: dict[str, Any]) -> None:
    _bounded(_read_config, data, allowed=(ConfigError, ReadError))


# ---------------------------------------------------------------- notebook reader

CELL = st.one_of(
    st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown", 3, None]),
                           "source": st.one_of(
                               st.text(max_size=40), st.lists(st.text(max_size=20), max_size=3),
                               st.sampled_from(["import keras\n%%time\nm = keras.Sequential()",
                                                "!pip install x\nimport keras", "%%bash\nls",
                                                "x = !ls\nmodel.summary?", None, 5, [1, None]]))}),
    st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2))
NOTEBOOK = st.one_of(
    st.fixed_dictionaries({"cells": st.lists(CELL, max_size=6)}),
    st.fixed_dictionaries({"cells": JUNK}), JUNK)


def _read_notebook(data: Any) -> None:
    text, _ = join_cells(notebook_cells(data))
    preflight_source(text)
    read_text(text, "<fuzz>")


@FUZZ
@given(NOTEBOOK)
def test_notebook_reader_survives_wrong_types(data: Any) -> None:
    _bounded(_read_notebook, data, allowed=(SourceError, BoundHit))


@FUZZ
@given(st.binary(max_size=200), st.sampled_from(["prefix", "suffix", "cut"]))
def test_notebook_reader_survives_broken_json(junk: bytes, how: str) -> None:
    """Through ``bnlint check``'s reader: broken JSON is one unreadable-file message."""
    import tempfile

    from bnlint.rules.config import Settings
    from bnlint.rules.engine import Task, analyse_file

    good = json.dumps({"cells": [{"cell_type": "code", "source": "import keras\n"}]}).encode()
    raw = {"prefix": junk + good, "suffix": good + junk,
           "cut": good[: len(junk) % len(good)]}[how]
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "nb.ipynb"
        f.write_bytes(raw)
        out = analyse_file(Task(str(f), "nb.ipynb", Settings(), frozenset({"BN999", "BN998"}),
                                (), PER_EXAMPLE_SECONDS))
    assert out.status in ("checked", "skipped", "unreadable"), out


# ---------------------------------------------------------------- found by the long run

PERMUTE_RANK = ("import keras\nfrom keras import layers\nmodel = keras.Sequential([\n"
                "    keras.Input((64,)),\n    layers.Permute((2, 1)),\n    layers.Dense(2),\n])\n")


def test_permute_with_more_dims_than_the_input_rank() -> None:
    """Found by fuzzing: a Permute whose dims do not fit the input is an unknown layer."""
    result = read_text(PERMUTE_RANK, "<fuzz>")
    layers = [la for m in result.models for la in m.layers if la.class_name == "Permute"]
    assert layers and all(la.unknown and "permutation" in la.unknown for la in layers)


def test_permute_misfit_is_no_internal_error_in_check(tmp_path: Path) -> None:
    from bnlint.rules.config import Settings
    from bnlint.rules.engine import run

    f = tmp_path / "permute.py"
    f.write_text(PERMUTE_RANK)
    result = run([str(f)], Settings(), jobs=1)
    assert [x.code for x in result.findings] == []


# --------------------------------------------------------------------------- SavedModel / TF checkpoints

SAVEDMODEL = ROOT / "fixtures" / "savedmodel" / "tiny"
CKPT = ROOT / "fixtures" / "savedmodel" / "ckpt"
SAVED_PARTS = ["variables/variables.index", "variables/variables.data-00000-of-00001",
               "keras_metadata.pb"]


@st.composite
def mutated_bytes(draw: Any, original: bytes) -> bytes:
    """Truncated, bit-flipped, overwritten with extreme varints, or spliced junk."""
    data = bytearray(original)
    how = draw(st.sampled_from(["cut", "flip", "varint", "junk"]))
    if how == "cut":
        return bytes(data[:draw(st.integers(0, len(data)))])
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif how == "varint":
            data[pos:pos + 10] = b"\xff" * 9 + b"\x01"  # the largest 64-bit varint
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
    return bytes(data)


def _read_savedmodel(part: str, data: bytes) -> None:
    import shutil
    import tempfile

    from bnlint.readers.saved import read_saved_model
    from bnlint.readers.weights import get_weights

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "m"
        shutil.copytree(SAVEDMODEL, d)
        (d / part).write_bytes(data)
        read_saved_model(d)
        get_weights(d)


@FUZZ
@given(st.sampled_from(SAVED_PARTS).flatmap(
    lambda part: st.tuples(st.just(part), mutated_bytes((SAVEDMODEL / part).read_bytes()))))
def test_savedmodel_reader_survives_damaged_files(case: tuple[str, bytes]) -> None:
    part, data = case
    _bounded(_read_savedmodel, part, data, allowed=(ReadError,))


def _read_checkpoint(suffix: str, data: bytes) -> None:
    import shutil
    import tempfile

    from bnlint.readers.tfbundle import BundleError, Checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        for f in CKPT.parent.glob("ckpt.*"):
            shutil.copy(f, tmp)
        prefix = Path(tmp) / "ckpt"
        Path(str(prefix) + suffix).write_bytes(data)
        try:
            ckpt = Checkpoint(prefix)
            for key, entry in ckpt.entries.items():
                if entry.dtype == 7:
                    ckpt.read_string(key)
                else:
                    ckpt.read(key)
        except BundleError as exc:
            raise ReadError(str(exc)) from None


@FUZZ
@given(st.sampled_from([".index", ".data-00000-of-00001"]).flatmap(
    lambda sfx: st.tuples(st.just(sfx), mutated_bytes(
        Path(str(CKPT) + sfx).read_bytes()))))
def test_checkpoint_reader_survives_damaged_files(case: tuple[str, bytes]) -> None:
    suffix, data = case
    _bounded(_read_checkpoint, suffix, data, allowed=(ReadError,))


def test_damaged_savedmodel_is_one_line_exit_2(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    d = tmp_path / "m"
    shutil.copytree(SAVEDMODEL, d)
    index = d / "variables" / "variables.index"
    index.write_bytes(index.read_bytes()[:-7])
    data = d / "variables" / "variables.data-00000-of-00001"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["summarize", str(d), "--weights"], ["export", str(d)]):
        r = subprocess.run([sys.executable, "-m", "bnlint", *args], capture_output=True,
                           text=True, env=env, timeout=60)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr
    shutil.copy(SAVEDMODEL / "variables" / "variables.index", index)
    data.write_bytes(data.read_bytes()[:40])
    r = subprocess.run([sys.executable, "-m", "bnlint", "summarize", str(d), "--weights"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "truncated" in r.stderr and "Traceback" not in r.stderr


def test_crc32c_and_varint_bounds() -> None:
    import numpy as np

    from bnlint.readers.tfbundle import BundleError, crc32c, crc32c_numpy, fields, varint

    for crc in (crc32c, crc32c_numpy):
        assert crc(b"123456789") == 0xE3069283  # the standard check value of CRC-32C
    rng = np.random.default_rng(0)
    from bnlint.readers.tfbundle import _crc_bytes

    # the vectorised paths (64- and 1024-byte lanes) and Google's C library agree with the
    # byte-at-a-time one, on every buffer type the readers pass
    for n in (0, 1, 4, 63, 255, 256, 257, 4096, 16383, 16384, 16385, 100_003):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        want = _crc_bytes(0xFFFFFFFF, data) ^ 0xFFFFFFFF
        assert crc32c_numpy(data) == want, n
        for buf in (data, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
            assert crc32c(buf) == want, (n, type(buf))

    with pytest.raises(BundleError):
        varint(b"\xff" * 11, 0, 11)
    with pytest.raises(BundleError):
        fields(b"\x0a\xff\xff\xff\x0f")  # a length far past the message


def test_crc32c_uses_the_c_library() -> None:
    """The runtime dependency google-crc32c is installed with bnlint; its C extension is
    what makes reading a large checkpoint fast (benchmarks/bench_savedmodel.py)."""
    import google_crc32c

    from bnlint.readers import tfbundle

    tfbundle.crc32c(b"x")
    assert google_crc32c.implementation == "c"
    assert tfbundle._C_CRC[0] is not None
