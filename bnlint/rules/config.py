"""``[tool.bnlint]`` in the nearest pyproject.toml, CLI overrides, and rule selection.

Selection follows ruff: ``select``/``extend-select``/``ignore`` take code prefixes
(``ALL``, ``BN``, ``BN00``, ``BN001``); for each rule the most specific matching
prefix decides, and ``ignore`` wins a tie.  The default selection is every rule
whose class says ``default = True`` (today all of them); a rule that sets it to False
is enabled only by a prefix or code that selects it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any


class ConfigError(Exception):
    """A bad configuration value (one line)."""


@dataclass
class Settings:
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    define: dict[str, str] = field(default_factory=dict)
    keras_version: int | None = None
    # where imports of the analysed code are looked for (as ruff's `src`), relative to root
    src: list[str] = field(default_factory=list)
    root: Path | None = None  # directory of the pyproject.toml the settings came from
    # fixes (ruff's options; see bnlint.fix): None = not set here
    fix: bool | None = None
    unsafe_fixes: bool | None = None
    fixable: list[str] | None = None
    extend_fixable: list[str] = field(default_factory=list)
    unfixable: list[str] = field(default_factory=list)
    extend_safe_fixes: list[str] = field(default_factory=list)
    extend_unsafe_fixes: list[str] = field(default_factory=list)

    def merged(self, cli: Settings) -> Settings:
        """CLI values override (select, keras-version, define keys) or extend the file's."""
        return Settings(
            select=cli.select if cli.select is not None else self.select,
            extend_select=[*self.extend_select, *cli.extend_select],
            ignore=[*self.ignore, *cli.ignore],
            per_file_ignores={**self.per_file_ignores, **cli.per_file_ignores},
            exclude=[*self.exclude, *cli.exclude],
            define={**self.define, **cli.define},
            keras_version=cli.keras_version or self.keras_version,
            src=[*self.src, *cli.src],
            root=self.root,
            fix=cli.fix if cli.fix is not None else self.fix,
            unsafe_fixes=cli.unsafe_fixes if cli.unsafe_fixes is not None else self.unsafe_fixes,
            fixable=cli.fixable if cli.fixable is not None else self.fixable,
            extend_fixable=[*self.extend_fixable, *cli.extend_fixable],
            unfixable=[*self.unfixable, *cli.unfixable],
            extend_safe_fixes=[*self.extend_safe_fixes, *cli.extend_safe_fixes],
            extend_unsafe_fixes=[*self.extend_unsafe_fixes, *cli.extend_unsafe_fixes],
        )


def _strings(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of strings")
    return list(value)


def parse_settings(table: dict[str, Any], root: Path | None) -> Settings:
    s = Settings(root=root)
    for key, value in table.items():
        k = key.replace("_", "-")
        if k == "select":
            s.select = _strings(value, key)
        elif k == "extend-select":
            s.extend_select = _strings(value, key)
        elif k == "ignore":
            s.ignore = _strings(value, key)
        elif k == "exclude" or k == "extend-exclude":
            s.exclude.extend(_strings(value, key))
        elif k == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError("`per-file-ignores` must be a table of pattern = [codes]")
            s.per_file_ignores = {p: _strings(v, f"per-file-ignores.{p}")
                                  for p, v in value.items()}
        elif k == "define":
            if not isinstance(value, dict):
                raise ConfigError("`define` must be a table, e.g. define = {num_classes = 38}")
            s.define = {str(n): _define_text(v) for n, v in value.items()}
        elif k == "src":
            s.src = _strings(value, key)
        elif k in ("fix", "unsafe-fixes"):
            if not isinstance(value, bool):
                raise ConfigError(f"`{key}` must be true or false")
            setattr(s, k.replace("-", "_"), value)
        elif k == "fixable":
            s.fixable = _strings(value, key)
        elif k in ("extend-fixable", "unfixable", "extend-safe-fixes", "extend-unsafe-fixes"):
            setattr(s, k.replace("-", "_"), _strings(value, key))
        elif k == "keras-version":
            if value not in (2, 3, "2", "3"):
                raise ConfigError("`keras-version` must be 2 or 3")
            s.keras_version = int(value)
        else:
            raise ConfigError(f"unknown option `{key}` in [tool.bnlint]")
    return s


def _define_text(v: Any) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, str):
        return v if v.strip().lstrip("-").replace(".", "", 1).isdigit() else repr(v)
    return repr(v)


@cache
def _load(pyproject: Path) -> Settings | None:
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            return None
    try:
        data = tomllib.loads(pyproject.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: invalid TOML ({exc})") from None
    table = data.get("tool", {}).get("bnlint")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.bnlint] must be a table")
    try:
        return parse_settings(table, pyproject.parent)
    except ConfigError as exc:
        raise ConfigError(f"{pyproject}: {exc}") from None


@cache
def settings_for_dir(directory: Path) -> Settings:
    """The settings of the nearest pyproject.toml with a [tool.bnlint] table."""
    d = directory
    while True:
        candidate = d / "pyproject.toml"
        if candidate.is_file():
            found = _load(candidate)
            if found is not None:
                return found
        if d.parent == d:
            return Settings()
        d = d.parent


# ---------------------------------------------------------------------- selection


def _matches(prefix: str, code: str) -> bool:
    return prefix == "ALL" or code.startswith(prefix)


def validate_prefixes(prefixes: list[str], codes: list[str], what: str) -> None:
    for p in prefixes:
        if p != "ALL" and not any(c.startswith(p) for c in codes):
            raise ConfigError(f"{what}: unknown rule selector `{p}`")


def selected(codes: dict[str, bool], s: Settings) -> set[str]:
    """Enabled codes; ``codes`` maps every code to whether it is on by default."""
    out = set()
    explicit = s.select is not None
    select = [p.upper() for p in (s.select if explicit else [])]
    extend = [p.upper() for p in s.extend_select]
    ignore = [p.upper() for p in s.ignore]
    for code, default in codes.items():
        best = -1
        for p in [*select, *extend]:
            if _matches(p, code):
                best = max(best, 0 if p == "ALL" else len(p))
        if not explicit and default and best < 0:
            best = 0  # the implicit default selection, least specific
        if best < 0:
            continue
        worst = max((0 if p == "ALL" else len(p) for p in ignore if _matches(p, code)),
                    default=-1)
        if worst >= best:
            continue
        out.add(code)
    return out


def _rel(path: Path, root: Path | None) -> str | None:
    if root is None:
        return None
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _pattern_hits(pattern: str, path: Path, root: Path | None) -> bool:
    rel = _rel(path, root)
    pat = pattern.rstrip("/")
    candidates = [path.name]
    if rel is not None:
        candidates.append(rel)
        parts = PurePosixPath(rel).parts
        candidates.extend("/".join(parts[:i]) for i in range(1, len(parts)))
        candidates.extend(parts)
    else:
        candidates.append(path.as_posix())
        candidates.extend(path.parts)
    return any(fnmatch.fnmatchcase(c, pat) for c in candidates)


def is_excluded(path: Path, s: Settings, cli_root: Path | None = None) -> bool:
    return any(_pattern_hits(p, path, s.root or cli_root) for p in s.exclude)


def per_file_ignored(path: Path, s: Settings) -> list[str]:
    out: list[str] = []
    for pattern, codes in s.per_file_ignores.items():
        if _pattern_hits(pattern, path, s.root or Path.cwd()):
            out.extend(c.upper() for c in codes)
    return out
