"""bnlint: static model summary and lint for Keras code and saved models."""

__version__ = "0.1.0"
