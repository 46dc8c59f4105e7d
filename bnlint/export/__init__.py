"""Exporters: a saved model written out as plain code (``bnlint export``)."""

from bnlint.export.numpy_forward import ExportError, export_numpy, supported_layers

__all__ = ["ExportError", "export_numpy", "supported_layers"]
