"""Python idioms of model-zoo code, read statically (issue 11, Python side).

The plain-Python constructs are checked against Python itself: each program below is pure
Python (no Keras), run here with ``exec`` (the test's own code, the oracle) and read by bnlint,
and every ``r_*`` value bnlint knows must equal Python's. The Keras numbers of the same idioms
are checked against real Keras by ``tests/test_realworld.py`` (fixtures/source/realworld/); the
import searches here are checked as equivalences (a helper found by a search reads exactly as
the same helper beside the file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bnlint.readers.source import read_text
from bnlint.readers.source.interpreter import Interpreter
from bnlint.readers.source.parse import _parse_cached, _parsed_positions
from bnlint.readers.source.values import NTuple, Opaque


def _bnlint_values(text: str) -> tuple[dict[str, Any], list[str]]:
    module, _ = _parse_cached(text)
    interp = Interpreter(module, "<test>", 3, {})
    interp.positions = interp.ctx.positions = interp.main_ctx.positions = _parsed_positions(module)
    interp.run_module()
    return ({k: v for k, v in interp.globals.vars.items() if k.startswith("r_")}, interp.notes)


def _python_values(text: str) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(text, "<test>", "exec"), ns)  # the test's own program: the oracle
    return {k: v for k, v in ns.items() if k.startswith("r_")}


def _plain(v: Any) -> Any:
    if isinstance(v, NTuple) or type(v).__name__ in ("Cfg", "P", "Q"):
        return ("namedtuple", tuple(_plain(x) for x in v))
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


PROGRAMS = {
    "namedtuple": """
import collections
from collections import namedtuple
from typing import NamedTuple
Cfg = collections.namedtuple('Cfg', ['units', 'repeat'])
P = namedtuple('P', 'a, b c', defaults=[3])
class Q(NamedTuple):
    x: int
    y: int = 5
c = Cfg(units=8, repeat=2)
r_attr = c.units, c.repeat, c[0], len(c), list(c), c._fields, Cfg._fields
r_replace = c._replace(units=c.units * 2), c._asdict()
r_defaults = P(1, 2), P(1, 2, 4).c, Q(1), Q(1, 2).y, P._make([7, 8, 9])
a, b = c
r_unpack = a, b, c == (8, 2), [x.units * 2 for x in [Cfg(1, 2), Cfg(3, 4)]]
total = 0
for cfg in [Cfg(units=8, repeat=2), Cfg(units=4, repeat=1)]:
    cfg = cfg._replace(units=cfg.units * 2)
    for _ in range(cfg.repeat):
        total += cfg.units
r_loop = total
""",
    "partial": """
import functools
from functools import partial
def f(a, b, c=3):
    return a * 100 + b * 10 + c
g = partial(f, 1, c=5)
h = functools.partial(g, 2)
r_calls = g(2), h(), h(c=7), g(b=4)
r_attrs = g.args, g.keywords, h.args, h.keywords, h.func is f, callable(g)
""",
    "copy": """
import copy
def small(n):
    return n + 1
REG = {"small": small, "sizes": [1, 2]}
reg = copy.copy(REG)
reg["big"] = small
deep = copy.deepcopy(REG)
deep["sizes"].append(3)
r_copy = reg["small"](4), sorted(REG), sorted(reg), REG["sizes"], deep["sizes"]
r_same = reg["small"] is small, deep["small"] is small, copy.copy([1, [2]])
""",
    "six_builtins": """
from six.moves import xrange, range as srange
import six
import builtins
r_ranges = list(xrange(3)), list(srange(1, 7, 2)), builtins.len([1, 2]), builtins.max(3, 4)
r_items = sorted(six.iteritems({"a": 1, "b": 2}))
n = 0
for i in xrange(4):
    n += i
r_loop = n
""",
    "isinstance_callable": """
class A:
    pass
class B(A):
    pass
def fn():
    return 1
b = B()
r_isinstance = (isinstance(b, A), isinstance(b, B), isinstance(A(), B), isinstance(b, (int, A)),
                isinstance(3, A), isinstance("s", (str, int)), isinstance(b, int))
r_callable = callable(fn), callable(A), callable(len), callable("relu"), callable(3), callable(b.__class__)
act = "relu"
r_name = act.__name__ if callable(act) else str(act)
act = fn
r_fn_name = act.__name__ if callable(act) else str(act), b.__class__.__name__
""",
    "eval_lookup": """
def relu(x):
    return max(x, 0)
class Blocks:
    size = 4
name = "relu"
r_eval = eval(name)(-3), eval("relu")(5), eval("Blocks.size"), eval(" Blocks ").size
def pick(n):
    return eval(n)
r_in_function = pick("relu")(2), pick("len")([1, 2, 3])
""",
    "main_guard": """
r_name = __name__
r_main = 1 if __name__ == "__main__" else 2
""",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_python_idioms_agree_with_python(name: str) -> None:
    text = PROGRAMS[name]
    ours, notes = _bnlint_values(text)
    truth = _python_values(text)
    assert set(ours) == set(truth)
    for k, v in truth.items():
        assert not isinstance(ours[k], Opaque), f"{name}: {k} unknown ({notes})"
        assert _plain(ours[k]) == _plain(v), f"{name}: {k} bnlint {ours[k]!r} != Python {v!r}"


def test_eval_never_evaluates_an_expression() -> None:
    ours, notes = _bnlint_values('x = 2\nr_a = eval("x + 1")\nr_b = eval(unknown_name)\n'
                                 'r_c = eval("__import__(\'os\')")\n')
    assert all(isinstance(v, Opaque) for v in ours.values())
    assert any("line 2" in n and "x + 1" in n and "never evaluates" in n for n in notes), notes
    assert any("line 4" in n and "never evaluates" in n for n in notes), notes


def test_namedtuple_wrong_arguments_are_unknown() -> None:
    ours, notes = _bnlint_values("import collections\nC = collections.namedtuple('C', 'a b')\n"
                                 "r_a = C(1)\nr_b = C(1, 2, 3)\nr_c = C(1, 2)._replace(z=3)\n")
    assert all(isinstance(v, Opaque) for v in ours.values())
    assert any("line 3" in n and "fields of namedtuple `C`" in n for n in notes), notes


def test_isinstance_of_keras_classes() -> None:
    ours, _ = _bnlint_values(
        "import keras\nd = keras.layers.Dense(3)\n"
        "r_same = isinstance(d, keras.layers.Dense)\n"
        "r_layer = isinstance(d, keras.layers.Layer)\n"
        "r_model = isinstance(d, keras.Model)\n"
        "r_other = isinstance(d, keras.layers.Conv2D)\n"
        "r_callable = callable(d), callable(keras.layers.Dense)\n")
    assert ours["r_same"] is True and ours["r_layer"] is True and ours["r_model"] is False
    # another built-in class: decided by Keras's class hierarchy, generated from Keras with the
    # signatures (tests/test_signatures.py checks the data is current): Dense is no Conv2D
    assert ours["r_other"] is False
    assert ours["r_callable"] == (True, True)


def test_unknown_loop_forgets_what_it_changes() -> None:
    text = ("import keras\nx = inp = keras.Input((8,))\nfor i in range(n):\n"
            "    x = keras.layers.Dense(4)(x)\nmodel = keras.Model(inp, x)\n"
            "seq = keras.Sequential([keras.Input((3,))])\nfor j in items:\n"
            "    seq.add(keras.layers.Dense(2))\n")
    result = read_text(text)
    # neither is presented with a count that may be wrong
    assert all(m.total_params is None for m in result.models)
    assert any("line 3" in n and "`x`" in n for n in result.notes), result.notes
    assert any("line 7" in n and "`seq`" in n for n in result.notes), result.notes


def test_get_shape_keras3_raises_tf_keras_reads() -> None:
    text = ("import keras\ndef build():\n    x = keras.Input((8,))\n"
            "    n = x.get_shape().as_list()[-1]\n    return keras.Model(x, keras.layers.Dense(n)(x))\n")
    r3 = read_text(text, function="build", keras_version=3)
    assert r3.models == []
    assert any("line 4" in n and "get_shape" in n for n in r3.notes), r3.notes
    r2 = read_text(text, function="build", keras_version=2)
    assert [la.config.get("units") for la in r2.models[0].layers if la.class_name == "Dense"] \
        == [8]


# ------------------------------------------------------------------ imports searched on disk

NET = """import keras
from helpers import dense_block

def build():
    x = keras.Input((8,))
    return keras.Model(x, dense_block(4)(x))
"""

HELPERS = "import keras\n\ndef dense_block(units):\n    return keras.layers.Dense(units)\n"


def _facts(result: Any) -> list[tuple[str, str, Any]]:
    return [(la.name, la.class_name, la.params) for m in result.models for la in m.layers]


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _read(path: Path) -> Any:
    return read_text(path.read_text(), str(path), function="build", path=path)


@pytest.fixture
def beside(tmp_path: Path) -> list[tuple[str, str, Any]]:
    _write(tmp_path / "plain", {"net.py": NET, "helpers.py": HELPERS})
    facts = _facts(_read(tmp_path / "plain" / "net.py"))
    assert facts and all(isinstance(p, int) for _, _, p in facts)
    return facts


def test_import_from_config_src(tmp_path: Path, beside: Any) -> None:
    _write(tmp_path / "proj", {"pyproject.toml": '[tool.bnlint]\nsrc = ["lib"]\n',
                               "app/net.py": NET, "lib/helpers.py": HELPERS})
    assert _facts(_read(tmp_path / "proj" / "app" / "net.py")) == beside


def test_import_from_sibling_in_repository(tmp_path: Path, beside: Any) -> None:
    _write(tmp_path / "repo", {"pyproject.toml": "", "libB/app/__init__.py": "",
                               "libB/app/net.py": NET, "libA/helpers/__init__.py": HELPERS})
    result = _read(tmp_path / "repo" / "libB" / "app" / "net.py")
    assert _facts(result) == beside
    assert any("beside the project" in n and "libA" in n for n in result.notes), result.notes


def test_no_sibling_search_outside_a_repository_root(tmp_path: Path) -> None:
    # `proj` is a repository root: the directories beside it are other projects
    _write(tmp_path, {"proj/.git/HEAD": "", "proj/net.py": NET, "other/helpers.py": HELPERS})
    # the helper is not found: the model keeps what is known, never counted, and says why
    models = _read(tmp_path / "proj" / "net.py").models
    assert all(m.total_params is None for m in models)
    assert all("dense_block" in (m.unknown or "") for m in models)


def test_import_from_installed_keras_helper(tmp_path: Path, beside: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from bnlint.readers.source import imports

    site = tmp_path / "site-packages"
    _write(site, {"helpers/__init__.py": HELPERS, "plainlib/__init__.py": "X = 1\n"})
    _write(tmp_path / "proj", {".git/HEAD": "", "net.py": NET})
    monkeypatch.setattr(imports, "_SITE", [site])
    monkeypatch.setattr(imports, "_INSTALLED", {})
    result = _read(tmp_path / "proj" / "net.py")
    assert _facts(result) == beside
    assert any("installed" in n for n in result.notes), result.notes
    assert imports._installed("plainlib") is None  # no Keras in it: not read


def test_installed_package_whose_distribution_requires_tensorflow(
        tmp_path: Path, beside: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # keras-tcn: `tcn/__init__.py` only re-exports `tcn.tcn`; its distribution requires TF
    from bnlint.readers.source import imports

    site = tmp_path / "site-packages"
    _write(site, {"helpers/__init__.py": "from helpers.impl import dense_block  # noqa\n",
                  "helpers/impl.py": HELPERS,
                  "helpers_dist-1.0.dist-info/top_level.txt": "helpers\n",
                  "helpers_dist-1.0.dist-info/METADATA": "Name: helpers-dist\n"
                                                        "Requires-Dist: numpy\n"
                                                        "Requires-Dist: tensorflow>=2.9\n",
                  "plainlib/__init__.py": "from plainlib.impl import *  # noqa\n",
                  "plainlib/impl.py": "import numpy\n",
                  "plainlib-1.0.dist-info/RECORD": "plainlib/__init__.py,,\n",
                  "plainlib-1.0.dist-info/METADATA": "Name: plainlib\nRequires-Dist: numpy\n"})
    _write(tmp_path / "proj", {".git/HEAD": "", "net.py": NET})
    monkeypatch.setattr(imports, "_SITE", [site])
    monkeypatch.setattr(imports, "_INSTALLED", {})
    assert _facts(_read(tmp_path / "proj" / "net.py")) == beside
    assert imports._installed("plainlib") is None  # neither it nor its distribution needs Keras


def test_star_import_of_own_submodule_in_package_init(tmp_path: Path, beside: Any) -> None:
    _write(tmp_path, {"mylib/__init__.py": "from mylib.helpers import *  # noqa\n",
                      "mylib/helpers.py": HELPERS,
                      "app/net.py": NET.replace("from helpers import", "from mylib import"),
                      "app/pyproject.toml": '[tool.bnlint]\nsrc = [".."]\n'})
    assert _facts(_read(tmp_path / "app" / "net.py")) == beside


def test_pythonpath_directories_are_searched(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from bnlint.readers.source import imports

    (tmp_path / "libs").mkdir()
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path / 'libs'}{os.pathsep}{tmp_path / 'missing'}")
    assert imports._pythonpath_dirs() == [tmp_path / "libs"]


def test_relative_import_of_submodule_in_package_init(tmp_path: Path, beside: Any) -> None:
    _write(tmp_path, {"mylib/__init__.py": "from . import blocks as helpers_mod\n"
                                           "from . import helpers\n",
                      "mylib/helpers.py": HELPERS, "mylib/blocks.py": HELPERS,
                      "app/net.py": NET.replace("from helpers import", "from mylib.helpers import")
                      .replace("import keras\n", "import keras\nimport mylib\n"),
                      "app/pyproject.toml": '[tool.bnlint]\nsrc = [".."]\n'})
    assert _facts(_read(tmp_path / "app" / "net.py")) == beside


def test_target_bound_by_assignment_reads_as_the_call() -> None:
    text = ("import keras\nfrom functools import partial\n"
            "def build(units=4, act='ReLU'):\n    x = keras.Input((8,))\n"
            "    y = getattr(keras.layers, act)()(keras.layers.Dense(units)(x))\n"
            "    return keras.Model(x, y)\n"
            "build2 = partial(build, units=2)\nalias = build\n")
    direct = _facts(read_text(text, function="build", args={"units": "2"}))
    assert direct and all(isinstance(p, int) for _, _, p in direct)
    assert _facts(read_text(text, function="build2")) == direct
    assert _facts(read_text(text, function="alias", args={"units": "2"})) == direct


def test_config_src_must_be_strings() -> None:
    from bnlint.rules.config import ConfigError, parse_settings

    assert parse_settings({"src": ["lib", "../other"]}, None).src == ["lib", "../other"]
    with pytest.raises(ConfigError, match="src"):
        parse_settings({"src": 3}, None)


def test_locals_forwarding_and_unknown_double_star() -> None:
    """``f(**locals())`` forwards the function's own arguments (read like the explicit call);
    ``f(**cfg)`` with ``cfg`` unknown leaves no parameter at its default: nothing exact."""
    lib = ("import keras\n"
           "def net(units=4, width=8):\n"
           "    x = keras.Input((width,))\n"
           "    return keras.Model(x, keras.layers.Dense(units)(x))\n")
    via_locals = read_text(lib + "def small(units=2, width=3):\n    return net(**locals())\n"
                           "a = small()\n")
    explicit = read_text(lib + "a = net(units=2, width=3)\n")
    (got,), (want,) = via_locals.models, explicit.models
    assert got.total_params == want.total_params and got.total_params is not None
    assert [la.output_shapes for la in got.layers] == [la.output_shapes for la in want.layers]
    unknown = read_text(lib + "b = net(**cfg)\nc = keras.layers.Dense(**cfg)\n")
    assert all(not isinstance(m.total_params, int) for m in unknown.models), unknown.models
    assert any("**cfg" in n for n in unknown.notes), unknown.notes
