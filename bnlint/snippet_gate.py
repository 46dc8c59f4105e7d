"""The cheap text test for snippets (code that calls ``Dense(...)``, ``Sequential(...)``
without importing them): used by ``check``'s pre-filter on raw bytes before anything heavy is
imported, and by :mod:`bnlint.readers.source.snippets` before it parses anything."""

from __future__ import annotations

import re

#: unqualified calls of names that only Keras code uses (the gate before any parsing)
SNIPPET_CALL = re.compile(
    r"(?<![\w.])(?:Sequential|Dense|Conv[123]D|Convolution[123]D|Conv2DTranspose|"
    r"BatchNormalization|MaxPooling[123]D|MaxPool[123]D|AveragePooling[123]D|"
    r"GlobalAveragePooling[123]D|LSTM|GRU|SimpleRNN|Embedding)\s*\(")
#: the same test on raw bytes, as substrings (memchr-fast; the regex then decides)
SNIPPET_BYTES = (b"Sequential(", b"Dense(", b"Conv1D(", b"Conv2D(", b"Conv3D(",
                 b"Convolution2D(", b"Convolution1D(", b"BatchNormalization(",
                 b"MaxPooling2D(", b"LSTM(", b"GRU(", b"Embedding(")


def may_be_snippet_bytes(raw: bytes) -> bool:
    return any(s in raw for s in SNIPPET_BYTES) and SNIPPET_CALL.search(
        raw.decode("utf-8", "replace")) is not None
