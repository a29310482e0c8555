"""Tables out: a trajectory DataFrame written atomically as CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sheetnet.atomic import atomic_path


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write frame to path (17 significant digits, so the numbers round-trip exactly)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.17g")
    return Path(path)
