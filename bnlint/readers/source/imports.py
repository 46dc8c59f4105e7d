"""Imports: search roots, helper modules read from disk, Keras import paths made canonical, the
applications index.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bnlint.readers.source.parse import _parse_cached
from bnlint.readers.source.py_helpers import _PY_MODULE_CONSTANTS
from bnlint.readers.source.values import (
    _MISSING,
    MAX_IMPORT_DEPTH,
    MAX_MODULES,
    KRef,
    LazyVars,
    ModuleCtx,
    Opaque,
    PyMod,
    Scope,
    UserModule,
    _Break,
    _Continue,
    _Raise,
    _Return,
)


def module_name(path: Path | None) -> str:
    """The dotted name Python imports ``path`` under (``pkg.sub.mod`` inside packages,
    the file's stem otherwise): a FILE::NAME target imports the file, as
    ``from mod import NAME`` would, so its ``if __name__ == "__main__":`` block does not run."""
    if path is None:
        return "__bnlint_target__"
    parts = [] if path.stem == "__init__" else [path.stem]
    d = path.resolve().parent
    for _ in range(64):  # bounded walk up the enclosing packages
        if not (d / "__init__.py").is_file() or d.parent == d:
            break
        parts.insert(0, d.name)
        d = d.parent
    return ".".join(parts) or path.stem


def _search_roots(path: Path | None) -> list[Path]:
    """Where ``import x`` of the analysed file looks first: its directory, then the directory
    that holds its top-level package (walking up through ``__init__.py`` files), then the
    ``src`` directories of the nearest ``[tool.bnlint]`` (as ruff's ``src``).  See
    :meth:`Imports.import_user` for what comes after (the project's siblings, installed
    packages)."""
    if path is None:
        return []
    d = path.resolve().parent
    roots = [d]
    while (d / "__init__.py").is_file() and d.parent != d:
        d = d.parent
        roots.append(d)
    roots.extend(r for r in _config_src(path.resolve().parent) if r not in roots)
    # The file's own tree is not read when it is an installed library.
    return [r for r in roots if not _is_library_dir(r)]


_SRC: dict[Path, list[Path]] = {}


def _config_src(directory: Path) -> list[Path]:
    """``src`` of the nearest pyproject.toml with a ``[tool.bnlint]`` table (the walk of
    ``bnlint.rules.config.settings_for_dir``, without importing the rules package)."""
    if directory in _SRC:
        return _SRC[directory]
    out: list[Path] = []
    for d in [directory, *directory.parents]:
        candidate = d / "pyproject.toml"
        if not candidate.is_file():
            continue
        try:
            import tomllib

            table = tomllib.loads(candidate.read_text("utf-8")).get("tool", {}).get("bnlint")
        except Exception:  # a bad file is reported by `check` itself
            break
        if not isinstance(table, dict):
            continue
        src = table.get("src", [])
        src = [src] if isinstance(src, str) else src
        if isinstance(src, list):
            out = [(d / p).resolve() for p in src if isinstance(p, str)]
        break
    _SRC[directory] = out
    return out


_REPO_MARKERS = (".git", ".hg", "pyproject.toml", "setup.py", "setup.cfg")


MAX_SIBLINGS = 64


_SIBLINGS: dict[Path, list[Path]] = {}


def _project_siblings(top: Path) -> list[Path]:
    """The directories beside ``top`` (the directory holding the file's top-level package)
    inside the same repository: ``repo/libB/app/net.py`` imports ``helpers`` from
    ``repo/libA/helpers`` in a monorepo whose libraries are put on ``sys.path`` together.
    None when ``top`` is itself a repository root (its siblings are other projects) or is
    not inside one."""
    if top in _SIBLINGS:
        return _SIBLINGS[top]
    out: list[Path] = []
    in_repo = not any((top / m).exists() for m in _REPO_MARKERS) and any(
        (d / m).exists() for d in list(top.parents)[:8] for m in _REPO_MARKERS)
    if in_repo:
        try:
            out = sorted(d for d in top.parent.iterdir()
                         if d.is_dir() and d != top and not d.name.startswith((".", "_")))
        except OSError:
            out = []
        out = out[:MAX_SIBLINGS]
    _SIBLINGS[top] = out
    return out


# Installed distributions never read: big, not model code, or modelled otherwise.
_NEVER_READ = frozenset((
    "numpy", "pandas", "tensorflow", "keras", "tf_keras", "torch", "jax", "jaxlib", "flax",
    "scipy", "sklearn", "matplotlib", "PIL", "cv2", "six", "transformers", "tensorflow_hub",
    "tensorflow_datasets", "tensorflow_addons", "tensorflow_probability", "tensorboard",
    "h5py", "absl", "google", "seaborn", "tqdm", "IPython", "ipykernel", "pytest",
    "setuptools", "pkg_resources", "typing_extensions", "optree", "ml_dtypes", "rich",
))


_SITE: list[Path] | None = None


def _installed(top: str) -> Path | None:
    """The stem (``site-packages/name``) of an installed top-level module whose entry file
    mentions Keras (a Keras helper library such as ``keras_applications``); None else."""
    import sys

    if top in _NEVER_READ or top in sys.stdlib_module_names or not top.isidentifier():
        return None
    if top in _INSTALLED:
        return _INSTALLED[top]
    found = _INSTALLED[top] = _find_installed(top)
    return found


_INSTALLED: dict[str, Path | None] = {}


MAX_PACKAGE_SCAN = 32


def _find_installed(top: str) -> Path | None:
    """The first ``PYTHONPATH`` entry or site-packages directory (sys.path's order) holding
    ``top``, when the module mentions Keras: its entry file, or for a package whose
    ``__init__`` only re-exports (``from .embeddings import *``) one of its first modules."""
    global _SITE
    import sys

    if _SITE is None:
        _SITE = _pythonpath_dirs() + [
            Path(p) for p in sys.path if p and _is_library_dir(Path(p))
            and Path(p).name in ("site-packages", "dist-packages")]
    for site in _SITE:
        stem = site / top
        init = stem / "__init__.py"
        entries = [init, stem.with_suffix(".py")]
        if init.is_file():
            try:
                entries += sorted(p for p in stem.iterdir() if p.suffix == ".py")[
                    :MAX_PACKAGE_SCAN]
            except OSError:
                pass
        found = False
        for entry in entries:
            try:
                if entry.is_file():
                    found = True
                    if entry.stat().st_size < 1_000_000 and (re.search(
                            r"\b(keras|tensorflow)\b", entry.read_text(encoding="utf-8"))
                            or _dist_requires_keras(site, top)):
                        return stem
            except (OSError, UnicodeDecodeError):
                return None
        if found:
            return None  # Python imports the first one found: not a Keras module
    return None


def _pythonpath_dirs() -> list[Path]:
    """The directories of ``PYTHONPATH`` (Python finds modules there before site-packages),
    but not the one bnlint itself is imported from."""
    import os

    own = Path(__file__).resolve().parents[3]
    out = []
    for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)[:50]:
        d = Path(p) if p else None
        if d is not None and d.is_dir() and d.resolve() != own:
            out.append(d)
    return out


_REQUIRES_KERAS = re.compile(
    r"^Requires-Dist:\s*(keras|tf[-_]keras|tensorflow|tensorflow[-_][a-z]+)\b", re.I | re.M)


def _dist_requires_keras(site: Path, top: str) -> bool:
    """Does the distribution installed in ``site`` that provides the top-level module
    ``top`` (its ``top_level.txt``, else its ``RECORD``) require Keras or TensorFlow?
    (keras-tcn's ``tcn/__init__.py`` only imports ``tcn.tcn``.)"""
    try:
        dists = sorted(site.glob("*.dist-info"))[:3000]
    except OSError:
        return False
    for d in dists:
        try:
            tl = d / "top_level.txt"
            if tl.is_file():
                provides = top in tl.read_text(encoding="utf-8").split()
            else:
                rec = d / "RECORD"
                provides = rec.is_file() and rec.stat().st_size < 2_000_000 and any(
                    line.startswith((f"{top}/", f"{top}.py,")) for line in
                    rec.read_text(encoding="utf-8").splitlines())
            if provides:
                meta = d / "METADATA"
                return meta.is_file() and meta.stat().st_size < 2_000_000 and bool(
                    _REQUIRES_KERAS.search(meta.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    return False


def _is_library_dir(d: Path) -> bool:
    import sys
    import sysconfig

    if any(part in ("site-packages", "dist-packages") for part in d.parts):
        return True
    paths = sysconfig.get_paths()
    libs = {Path(paths[k]).resolve() for k in ("stdlib", "platstdlib") if k in paths}
    del sys
    return any(d == lib or lib in d.parents for lib in libs)


_APPS_DIR: dict[int, Any] = {}


_APP_INDEX: dict[int, dict[str, str]] = {}


def _package_apps_dir(pkg: str) -> Path | None:
    """``<pkg>/src/applications`` of an installed package, located without importing it.

    ``importlib.util.find_spec`` of a top-level name only asks the path finders where the
    package lives (its ``__init__`` is not run), so this works the same in an isolated
    environment (pre-commit's) as in a development one, whatever the order of ``sys.path``.
    """
    from importlib.util import find_spec

    try:
        spec = find_spec(pkg)
    except (ImportError, ValueError, AttributeError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        cand = Path(loc) / "src" / "applications"
        if cand.is_dir():
            return cand.resolve()
    return None


def _is_keras3_dir(apps: Path) -> bool:
    """keras/src/applications belongs to Keras 3 (keras 2.13-2.15 also had a ``src``)."""
    try:
        text = (apps.parent / "version.py").read_text(encoding="utf-8")
    except OSError:
        return False
    m = re.search(r"""^__version__\s*=\s*["'](\d+)\.""", text, re.MULTILINE)
    return m is not None and int(m.group(1)) >= 3


def _keras_apps_dir(version: int) -> Path | None:
    """keras/src/applications (tf_keras/src/applications) of the installed package, on disk.

    Keras 3 is bnlint's own runtime dependency (the pure-Python ``keras`` package; its source
    files are read, never imported); tf_keras is found only when the user installed it."""
    if version in _APPS_DIR:
        return _APPS_DIR[version]
    found = _package_apps_dir("keras" if version == 3 else "tf_keras")
    if found is not None and version == 3 and not _is_keras3_dir(found):
        found = None
    _APPS_DIR[version] = found
    return found


# tf-keras application functions whose Keras 3 source (keras/src/applications) builds exactly
# the model tf_keras builds, when read under Keras 2 semantics: the same layer names and
# classes, output shapes, get_weights() names, shapes, order and trainable flags, and totals.
# Verified by tests/test_source_applications.py::test_keras2_from_keras3_source against the
# tf_keras goldens (fixtures/applications/keras2, built by real tf_keras). Used only when
# tf_keras is not installed; any other tf-keras application is then unknown, with the reason.
KERAS2_FROM_KERAS3_EXACT: frozenset[str] = frozenset({
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4",
    "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
    "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S",
    "InceptionResNetV2", "InceptionV3", "MobileNet", "MobileNetV2",
    "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "VGG16", "VGG19", "Xception",
})

# Why the others are not (what differs from tf_keras's model, measured on the goldens).
KERAS2_FROM_KERAS3_DIFFERS: dict[str, str] = {
    "ConvNeXt": "Keras 3's LayerScale weight has no name (tf-keras: `gamma`)",
    "DenseNet": "Keras 3 names DenseNet layers `conv1_conv` where tf-keras has `conv1/conv`",
    "MobileNetV3": "Keras 3 names the model differently from tf-keras (`MobilenetV3large`)",
    "NASNet": "Keras 3 names the model differently from tf-keras (`NASNet`)",
    "RegNet": "Keras 3 has no RegNet applications",
    "ResNetRS": "Keras 3 has no ResNetRS applications",
}


def _keras2_emulation_gap(name: str) -> str | None:
    """None when tf_keras's ``name`` can be read from Keras 3's source; else why not."""
    if name in KERAS2_FROM_KERAS3_EXACT:
        return None
    for prefix in sorted(KERAS2_FROM_KERAS3_DIFFERS, key=len, reverse=True):
        if name.startswith(prefix):
            return KERAS2_FROM_KERAS3_DIFFERS[prefix]
    return "Keras 3's source was not verified to build the model tf-keras builds"


def _keras_app_index(version: int) -> dict[str, str]:
    """Public application function name -> module (a text scan for ``def Name(``)."""
    if version in _APP_INDEX:
        return _APP_INDEX[version]
    index: dict[str, str] = {}
    root = _keras_apps_dir(version)
    if root is not None:
        for f in sorted(root.glob("*.py")):
            if f.name.endswith("_test.py") or f.name.startswith("_"):
                continue
            try:
                text = f.read_text(encoding="utf-8")
            except OSError:
                continue
            for m in re.finditer(r"^def ([A-Z]\w*)\(", text, re.MULTILINE):
                index.setdefault(m.group(1), f.stem)
    _APP_INDEX[version] = index
    return index


_PUBLIC: dict[str, frozenset[str] | None] = {}


def _public_app_names(module: str) -> frozenset[str] | None:
    """The names Keras 3's public ``keras.applications.<module>`` exports: the imports of its
    generated ``keras/applications/<module>/__init__.py``, read as text (None: not found)."""
    if module in _PUBLIC:
        return _PUBLIC[module]
    names = None
    apps = _keras_apps_dir(3)
    if apps is not None and module.isidentifier():
        api = apps.parent.parent / "applications" / module / "__init__.py"
        try:
            text = api.read_text(encoding="utf-8")
        except OSError:
            text = None
        if text is not None:
            names = frozenset(
                m.group(2) or m.group(1)
                for m in re.finditer(r"import\s*\(?\s*(\w+)(?:\s+as\s+(\w+))?", text))
    _PUBLIC[module] = names
    return names


def _norm_text(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _canon_import(path: str) -> tuple[Any, bool]:
    """An imported dotted module path as a value; second item: it is tf_keras."""
    parts = path.split(".")
    if parts[0] == "tf_keras":
        return KRef(".".join(["keras", *parts[1:]])), True
    if parts[0] == "keras":
        return KRef(path), False
    if parts[0] == "tensorflow":
        if len(parts) >= 2 and parts[1] == "keras":
            return KRef(".".join(["keras", *parts[2:]])), False
        if len(parts) >= 3 and parts[1] == "python" and parts[2] == "keras":
            return KRef(".".join(["keras", *parts[3:]])), False
        return KRef(path), False
    return PyMod(path), False


class Imports:
    def st_Import(self, st: Any, scope: Scope) -> None:
        for alias in st.names:
            full = self.text(alias.name)
            value, _ = _canon_import(full)
            if isinstance(value, PyMod):
                um = self.import_user(full, 0, st)
                if um is not None:
                    if alias.asname is not None:
                        scope.set(self.text(alias.asname.name), um)
                    else:
                        top = full.split(".")[0]
                        scope.set(top, self.import_user(top, 0, st) or um)
                    continue
            if isinstance(value, PyMod):
                self._unresolved(full, st)
            if alias.asname is not None:
                scope.set(self.text(alias.asname.name), value)
            else:
                top = full.split(".")[0]
                v, _ = _canon_import(top)
                scope.set(top, v)

    def st_ImportFrom(self, st: Any, scope: Scope) -> None:
        level = len(st.relative) if st.relative else 0
        mod = self.text(st.module) if st.module is not None else ""
        if isinstance(scope.vars, LazyVars) and self._defer_import(st, level, mod, scope):
            return
        if level and st.module is None and not isinstance(st.names, self.cst.ImportStar):
            # ``from . import blocks`` (a package's __init__ importing its submodules)
            if self._import_relative_names(level, st, scope):
                return
        if level or not isinstance(_canon_import(mod)[0], KRef):
            um = self.import_user(mod, level, st) if (mod or level) else None
            if um is not None:
                self.bind_from(um, st, scope)
                return
        if st.relative or st.module is None:
            if not isinstance(st.names, self.cst.ImportStar):
                for alias in st.names:
                    nm = self.text(alias.asname.name) if alias.asname else self.text(alias.name)
                    scope.set(nm, Opaque(nm))
            return
        base, _ = _canon_import(mod)
        if isinstance(st.names, self.cst.ImportStar):
            if isinstance(base, KRef):
                self.note(st, f"`from {mod} import *`: names are resolved lazily")
                scope.vars.setdefault("__star__", []).append(base)
            own = scope.vars.get("__name__")
            if isinstance(own, str) and mod.startswith(f"{own}."):
                # pkg/__init__.py: ``from pkg.sub import *`` while pkg itself loads: the names
                # are looked up in pkg/sub.py when used through the package
                scope.vars.setdefault("__own_star__", []).append(mod[len(own) + 1:])
            return
        for alias in st.names:
            nm = self.text(alias.name)
            bound = self.text(alias.asname.name) if alias.asname else nm
            if isinstance(base, KRef):
                ref, _ = _canon_import(f"{mod}.{nm}")
                parts = ref.path.split(".") if isinstance(ref, KRef) else []
                if len(parts) == 4 and parts[:2] == ["keras", "applications"] and not (
                        self.keras_public(parts[2], parts[3])):
                    self.note(st, f"`{self.text(st)}`: Keras 3's `keras.applications."
                                  f"{parts[2]}` has no `{nm}` (ImportError)")
                    scope.set(bound, Opaque(nm))
                    continue
                scope.set(bound, ref)
            else:
                self._unresolved(mod, st)
                path = f"{mod}.{nm}"
                scope.set(bound, _PY_MODULE_CONSTANTS.get(path, PyMod(path)))

    def _defer_import(self, st: Any, level: int, mod: str, scope: Scope) -> bool:
        """In a package's ``__init__`` read as an import, ``from M import a, b`` of a module
        that is not Keras: each name is bound to the import, run when the name is first used
        (see LazyVars)."""
        if isinstance(st.names, self.cst.ImportStar) or self.ctx.path is None:
            return False
        if not level and (not mod or isinstance(_canon_import(mod)[0], KRef)):
            return False
        ctx = self.ctx

        def load(bound: str) -> Any:
            tmp = Scope()  # a plain scope: the import runs now
            old = self.switch(ctx)
            try:
                self.st_ImportFrom(st, tmp)
            finally:
                self.switch(old)
            return tmp.vars.get(bound, Opaque(bound))

        for alias in st.names:
            bound = self.text(alias.asname.name) if alias.asname else self.text(alias.name)
            scope.vars.pending[bound] = (lambda b=bound: load(b))  # type: ignore[attr-defined]
        return True

    def _unresolved(self, dotted: str, st: Any) -> None:
        """Remember a third-party module bnlint did not find (not the standard library, nor
        one it never reads): calling what it gives is unknown, with a note naming the import."""
        import sys

        top = dotted.split(".")[0]
        if top and top not in sys.stdlib_module_names and top not in _NEVER_READ and (
                top not in self.unresolved):
            self.unresolved[top] = f"line {self.pos(st)[0]}: `{self.text(st)}`"

    # -------------------------------------------------------------- helper modules
    def _relative_base(self, level: int) -> Path | None:
        """The directory a relative import of ``level`` dots starts from (``.``: the current
        file's); None when the file has no path."""
        cur = self.ctx.path
        if cur is None:
            return None
        base = cur.parent
        for _ in range(level - 1):
            base = base.parent
        return base

    def _import_relative_names(self, level: int, st: Any, scope: Scope) -> bool:
        """``from . import a, b as c``: each name is the package's attribute or its
        submodule ``a.py`` / ``a/``, read from disk; False when the file has no path."""
        cur = self.ctx.path
        base = self._relative_base(level)
        if cur is None or base is None:
            return False
        init = (base / "__init__.py").resolve()
        pkg = self.modules.get(init)
        if pkg is None and init.is_file() and init != cur.resolve():
            # Python runs the package's __init__ first: `from . import helper` finds a
            # function defined there before it looks for a submodule file.
            pkg = self.load_file(base, base.name, st)
        for alias in st.names:
            nm = self.text(alias.name)
            bound = self.text(alias.asname.name) if alias.asname else nm
            v: Any = _MISSING
            if pkg is not None and nm in pkg.scope.vars:
                v = pkg.scope.vars[nm]
            if v is _MISSING:
                prefix = pkg.name if pkg is not None else base.name
                v = self.load_file(base / nm, f"{prefix}.{nm}", st)
                if v is not None and pkg is not None:
                    pkg.scope.vars[nm] = v
            if v is None or v is _MISSING:
                v = Opaque(nm)
            scope.set(bound, v)
        return True

    def bind_from(self, um: UserModule, st: Any, scope: Scope) -> None:
        if isinstance(st.names, self.cst.ImportStar):
            for k, v in um.scope.vars.items():
                if not k.startswith("_"):
                    scope.set(k, v)
            return
        for alias in st.names:
            nm = self.text(alias.name)
            bound = self.text(alias.asname.name) if alias.asname else nm
            v = self.module_attr(um, nm, st)
            scope.set(bound, v if v is not _MISSING else Opaque(nm))

    def module_attr(self, um: UserModule, name: str, node: Any, depth: int = 0) -> Any:
        if name in um.scope.vars:
            v = um.scope.vars[name]
            if isinstance(v, PyMod) and um.is_package and v.name.startswith(f"{um.name}.") \
                    and depth < 8:
                # ``from pkg.sub import X`` in pkg/__init__.py: not read while the package
                # itself was loading; Python finds pkg in sys.modules and reads pkg/sub.py
                found = self._own_submodule_attr(um, v.name[len(um.name) + 1:], node, depth)
                if found is not _MISSING:
                    um.scope.vars[name] = found
                    return found
            return v
        if "__star__" in um.scope.vars:  # a name its `from tensorflow.math import *` bound
            cand = self.star_name(um.scope.vars["__star__"], name)
            if cand is not None:
                return cand
        if um.is_package and depth < 8:
            for rest in um.scope.vars.get("__own_star__", [])[:20]:
                found = self._own_submodule_attr(um, f"{rest}.{name}", node, depth)
                if found is not _MISSING and not name.startswith("_"):
                    um.scope.vars[name] = found
                    return found
        if um.is_package:
            sub = self.load_file(um.path.parent / name, f"{um.name}.{name}", node)
            if sub is not None:
                um.scope.vars[name] = sub
                return sub
        return _MISSING

    def _own_submodule_attr(self, um: UserModule, rest: str, node: Any, depth: int) -> Any:
        """``sub.X`` (``rest``) of package ``um``, reading its submodules; else _MISSING."""
        *mods, attr = rest.split(".")
        cur: Any = um
        for part in mods:
            if not isinstance(cur, UserModule):
                return _MISSING
            cur = self.module_attr(cur, part, node, depth + 1)
        if not isinstance(cur, UserModule):
            return _MISSING
        v = self.module_attr(cur, attr, node, depth + 1)
        return _MISSING if isinstance(v, PyMod) and v.name.endswith(rest) else v

    def import_user(self, dotted: str, level: int, node: Any) -> UserModule | None:
        """A module of the analysed project, found on disk (never imported)."""
        import sys

        parts = [p for p in dotted.split(".") if p]
        if not level and parts and (parts[0] in sys.stdlib_module_names or parts[0] in (
                _NEVER_READ)):
            return None
        if level:
            rel = self._relative_base(level)
            if rel is None:
                return None
            bases = [rel]
        else:
            bases = list(self.roots)
        for base in bases:
            um = None
            if not parts:
                um = self.load_file(base, base.name, node)
            else:
                um = self._load_dotted(base, parts, node)  # `import a.b` sets a.b
            if um is not None:
                return um
        if level or not parts or not self.roots:
            return None
        # Not in the project: a directory beside it in the same repository, then an
        # installed Keras helper library (both read from disk, never imported).
        for base, where in [*((b, "beside the project") for b in _project_siblings(
                self.roots[len(self._own_roots()) - 1])), (None, "installed or on PYTHONPATH")]:
            if base is None:
                stem = _installed(parts[0])
                if stem is None:
                    break
                base = stem.parent
            elif not ((base / parts[0] / "__init__.py").is_file()
                      or (base / f"{parts[0]}.py").is_file()):
                continue
            um = self._load_dotted(base, parts, node)
            if um is not None:
                self.note(node, f"`{dotted}`: read from {um.path} ({where}; Python finds it "
                                "there when it is on sys.path)")
                return um
        return None

    def _own_roots(self) -> list[Path]:
        """The file's directory and the package directories above it (not config ``src``)."""
        out = self.roots[:1]
        for r in self.roots[1:]:
            if r != out[-1].parent:
                break
            out.append(r)
        return out

    def _load_dotted(self, base: Path, parts: list[str], node: Any) -> UserModule | None:
        cur_mod = None
        d = base
        for i, part in enumerate(parts):
            m = self.load_file(d / part, ".".join(parts[: i + 1]), node)
            if m is None:
                return None
            if cur_mod is not None and not isinstance(cur_mod.scope.vars.get(part), UserModule):
                cur_mod.scope.vars[part] = m
            cur_mod = m
            d = d / part
        return cur_mod

    def load_file(self, stem: Path, name: str, node: Any,
                  is_keras: bool = False) -> UserModule | None:
        import libcst as cst

        is_pkg = False
        if (stem / "__init__.py").is_file():
            path, is_pkg = stem / "__init__.py", True
        elif stem.with_suffix(".py").is_file():
            path = stem.with_suffix(".py")
        else:
            return None
        path = path.resolve()
        if path in self.modules:
            # a module being loaded is returned as it is so far (Python's partly initialised
            # module in sys.modules: a package's __init__ importing its own submodules)
            return self.modules[path]
        if self.ctx.path is not None and path == self.ctx.path.resolve():
            return None
        if len(self.modules) >= MAX_MODULES or self.import_depth >= MAX_IMPORT_DEPTH:
            self.note(node, f"`{name}`: import bound hit; not read")
            return None
        try:
            module, lazy = _parse_cached(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError, RecursionError, ValueError):
            self.note(node, f"`{name}`: cannot read {path}")
            self.modules[path] = None
            return None
        positions = lazy if not is_keras else {}
        ctx = ModuleCtx(module, positions, str(path), None, path)
        um = UserModule(name, path, Scope(), ctx, is_pkg)
        if is_pkg:
            um.scope.vars = LazyVars()
        um.scope.vars["__name__"] = name
        self.modules[path] = um
        old = self.switch(ctx)
        self.import_depth += 1
        try:
            self.exec_block(module.body, um.scope)
        except (_Return, _Break, _Continue, _Raise):
            pass
        finally:
            self.import_depth -= 1
            self.switch(old)
        return um

    def keras_public(self, module: str, name: str) -> bool:
        """Does Keras 3's public ``keras.applications.<module>`` have ``name``? (True when
        unknown: not Keras 3, or no public module file to read.)"""
        if self.version != 3:
            return True
        names = _public_app_names(module)
        return names is None or name in names

    def keras_app_name(self, ref: KRef) -> bool:
        """Is ``ref`` a public function of ``keras.applications`` (``VGG16``)?"""
        head, _, last = ref.path.rpartition(".")
        return head == "keras.applications" and last in _keras_app_index(self.version)

    def keras_source(self, path: str, node: Any) -> Any:
        """A function/value of Keras's own applications source, read from the installed package.

        Keras 2 semantics without tf_keras installed: the functions in KERAS2_FROM_KERAS3_EXACT
        are read from Keras 3's source (verified to build tf_keras's model); any other name is
        not modelled, with a note saying why."""
        parts = path.split(".")
        if parts[:3] == ["keras", "src", "applications"]:
            rest = parts[3:]
        elif parts[:2] == ["keras", "applications"]:
            rest = parts[2:]
            if len(rest) == 2 and self.version == 2 and rest[1] == "_obtain_input_shape":
                # Keras <= 2.3 (keras_applications) named it with an underscore
                rest = [rest[0], "obtain_input_shape"]
            if len(rest) == 2 and not self.keras_public(rest[0], rest[1]):
                self.note(node, f"`{path}` does not exist in Keras 3 (its public "
                                f"`keras.applications.{rest[0]}` has no `{rest[1]}`: Keras "
                                "raises ImportError/AttributeError)")
                return _MISSING
        else:
            return _MISSING
        if not rest:
            return _MISSING
        root = _keras_apps_dir(self.version)
        emulated = False
        if root is None and self.version == 2:
            root, emulated = _keras_apps_dir(3), True
        if root is None:
            self.note(node, f"`{path}`: Keras's applications source is not installed "
                      f"({'tf_keras' if self.version == 2 else 'keras'}); not modelled")
            return _MISSING
        # (Keras 3's own modules, once read, call their helpers freely.)
        if emulated and not (self.ctx.path is not None and root in self.ctx.path.parents):
            gap = _keras2_emulation_gap(rest[-1])
            if gap is None and len(rest) == 2:
                if _keras_app_index(3).get(rest[1]) != rest[0]:
                    gap = f"Keras 3 has no `{rest[1]}` in `{rest[0]}`"
            if gap is not None or len(rest) > 2:
                self.note(node, f"`tf_keras.applications.{'.'.join(rest)}`: tf_keras is not "
                          f"installed and Keras 3's source cannot stand in for it "
                          f"({gap or 'not an application function'}); not modelled")
                return _MISSING
        if len(rest) == 1:
            mod = _keras_app_index(3 if emulated else self.version).get(rest[0])
            if mod is None:
                um = self.load_file(root / rest[0], f"keras.applications.{rest[0]}", node, True)
                return um if um is not None else _MISSING
            rest = [mod, rest[0]]
        um = self.load_file(root / rest[0], f"keras.applications.{rest[0]}", node, True)
        if um is None:
            return _MISSING
        v: Any = um
        for attr in rest[1:]:
            if not isinstance(v, UserModule):
                return _MISSING
            v = self.module_attr(v, attr, node)
            if v is _MISSING:
                return _MISSING
        return v
