"""The rule API: findings, the rule base class (rules register by existing), the context.

A rule is a small class with a fixed ``code`` (``BN001``), a kebab-case ``name`` that
describes the pattern it flags, a ``message`` template, a one-sentence ``why`` and a
``fix`` suggestion (all three are data: ``str.format`` templates filled by
:meth:`Rule.report`), a default ``severity`` and a :meth:`Rule.check` generator.
Its documentation is ``rules/<CODE>.md`` (see :mod:`bnlint.rules.docs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # the graph (pydantic) is imported only once a file mentions Keras
    from bnlint import graph

SEVERITIES = ("error", "warning", "note")


@dataclass(kw_only=True)
class Finding:
    """One diagnostic.  Rows and columns are 1-based; ``cell`` is set for notebooks.

    A plain dataclass: a ``bnlint check`` of files that never mention Keras (most of a
    pre-commit run) then never imports pydantic."""

    code: str
    name: str
    message: str
    severity: str = "warning"
    path: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    cell: int | None = None
    config_path: str | None = None  # saved models: e.g. "config.layers[3]"
    why: str = ""
    fix: str = ""
    #: what the rule's automatic fix needs beyond the location (plain JSON data, e.g. the
    #: layer's epsilon); empty when this finding has no fix.  See :mod:`bnlint.fix`.
    fix_args: dict[str, Any] = field(default_factory=dict)
    #: ruff's ``fix`` object (applicability, message, edits) when the fix applies under the
    #: file's settings: computed where the file is analysed and cached with the finding, so
    #: a cached ``check`` prints it without loading the fixers.  See fix.files.fix_previews.
    edits: dict[str, Any] | None = None

    def where(self) -> str:
        """``path:line:col``, ``path:cell N:line:col`` or ``path:config.layers[i]``."""
        if self.line is not None:
            col = self.column or 1
            if self.cell is not None:
                return f"{self.path}:cell {self.cell}:{self.line}:{col}"
            return f"{self.path}:{self.line}:{col}"
        if self.config_path:
            return f"{self.path}:{self.config_path}"
        return self.path

    def sort_key(self) -> tuple[Any, ...]:
        return (self.path, self.cell or 0, self.line or 0, self.column or 0,
                self.config_path or "", self.code)

    def to_json(self) -> dict[str, Any]:
        """The fields that differ from their defaults (the cache's compact form)."""
        defaults = {f.name: f.default_factory() if f.default_factory is not MISSING  # type: ignore[misc]
                    else f.default for f in fields(self)}
        return {k: v for k, v in asdict(self).items() if v != defaults[k]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)


_REGISTRY: dict[str, type[Rule]] = {}


class Rule:
    """Base class.  Subclasses that define ``code`` register themselves."""

    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]
    why: ClassVar[str]
    fix: ClassVar[str]
    severity: ClassVar[str] = "warning"
    #: rules outside the default selection are enabled by ``--select ALL`` / an explicit code
    default: ClassVar[bool] = True
    #: needs the saved weights (inactive when no weights reader / no weights in the file)
    needs_weights: ClassVar[bool] = False
    #: the automatic fix this rule offers (ruff's applicability): None (no fix), "safe"
    #: (applied by ``--fix``) or "unsafe" (also needs ``--unsafe-fixes``).  The fixer itself
    #: lives in :mod:`bnlint.fix.fixers`; ``rules/<CODE>.md`` explains it under "Fix safety".
    fix_safety: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None:
            return
        if code in _REGISTRY and _REGISTRY[code] is not cls:
            raise ValueError(f"rule code {code} registered twice")
        assert cls.severity in SEVERITIES, cls.severity
        assert cls.fix_safety in (None, "safe", "unsafe"), cls.fix_safety
        _REGISTRY[code] = cls

    def check(self, ctx: Context) -> Iterator[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    # ---------------------------------------------------------------- helpers
    def report(self, ctx: Context, at: graph.Location | Position | None, *,
               template: str | None = None, fix_args: dict[str, Any] | None = None,
               **fields: Any) -> Finding:
        """A finding at ``at``; ``template`` replaces ``message`` (a rule's other message)."""
        from bnlint import graph

        line = column = cell = None
        config_path = None
        if isinstance(at, graph.Location):
            line, column, cell, config_path = at.line, at.column, at.cell, at.config_path
        elif isinstance(at, Position):
            line, column, cell = at.line, at.column, at.cell
        end_line = end_column = None
        if line is not None and ctx.source is not None:
            end = ctx.source.end_of(line, column, cell)
            if end is not None:
                end_line, end_column = end
        return Finding(
            code=self.code, name=self.name, severity=self.severity, path=ctx.path,
            message=(template or self.message).format(**fields), why=self.why.format(**fields),
            fix=self.fix.format(**fields), line=line, column=column or (1 if line else None),
            end_line=end_line, end_column=end_column, cell=cell, config_path=config_path,
            fix_args=dict(fix_args or {}),
        )


@dataclass(frozen=True)
class Position:
    line: int
    column: int | None = None
    cell: int | None = None


@dataclass
class Context:
    """What the rules see for one input file."""

    path: str
    kind: str  # "source" | "notebook" | "saved"
    models: list[graph.Model] = field(default_factory=list)
    facts: Any = None  # bnlint.readers.source.ProgramFacts for source/notebooks
    source: Any = None  # bnlint.rules.pysource.SourceText for source/notebooks
    keras_version: int = 3
    saved_config: dict[str, Any] | None = None  # the raw architecture JSON of a saved model
    weights: Callable[[graph.Model], list[Any] | None] | None = None  # get_weights() arrays
    raw: bytes | None = None  # source/notebook: the bytes read (fix previews work on them)


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule by code, in code order (imports the rule modules)."""
    from bnlint import rules as _pkg

    _pkg.load_rules()
    return dict(sorted(_REGISTRY.items()))
