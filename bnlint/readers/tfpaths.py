"""Recognising TensorFlow SavedModel directories and checkpoint prefixes (imports nothing heavy)."""

from __future__ import annotations

from pathlib import Path


def is_saved_model_dir(path: str | Path) -> bool:
    """A directory holding ``saved_model.pb`` (or ``.pbtxt``)."""
    p = Path(path)
    return p.is_dir() and ((p / "saved_model.pb").is_file() or (p / "saved_model.pbtxt").is_file())


def is_checkpoint_prefix(path: str | Path) -> bool:
    """``PREFIX`` or ``PREFIX.index`` of a TF checkpoint (``PREFIX.index`` exists)."""
    s = str(path)
    if s.endswith(".index"):
        s = s[: -len(".index")]
    return Path(s + ".index").is_file()


def checkpoint_prefix(path: str | Path) -> str:
    """The checkpoint prefix of a SavedModel directory, ``PREFIX`` or ``PREFIX.index``."""
    s = str(path)
    if Path(s).is_dir():
        return str(Path(s) / "variables" / "variables")
    return s[: -len(".index")] if s.endswith(".index") else s
