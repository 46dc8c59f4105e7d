import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Test helpers (compare.py, oracle_facts.py, ...) are imported as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))





@pytest.fixture(scope="module")
def quiet_keras() -> Iterator[None]:
    """Import both oracle Kerases (a missing test extra is an error, not a skip) and silence
    absl's per-save warnings for the module's tests."""
    import keras  # noqa: F401
    import tf_keras  # noqa: F401

    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)
    yield
    absl.setLevel(level)
