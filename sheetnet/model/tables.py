"""Tables out: a trajectory DataFrame written atomically as CSV, or shortened for the terminal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sheetnet.atomic import atomic_path
from sheetnet.csvsafe import safe_field
from sheetnet.model import ids
from sheetnet.model.spec import Spec

SHOWN_PARAMETERS = 4  # the terminal table's first parameters, after iter, loss and accuracy


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write frame to path: each number the shortest text that reads back as the same float.

    (0.35, not the 17-digit 0.34999999999999998: pandas' default, Python's repr.)
    """
    with atomic_path(path) as tmp:
        # Column names may come from a data CSV's header: no name may become a formula.
        frame.rename(columns=safe_field).to_csv(tmp, index=False)
    return Path(path)


def overview(spec: Spec, frame: pd.DataFrame) -> pd.DataFrame:
    """The columns a terminal can show: iter, loss, accuracy (classification), the first parameters."""
    wanted = ["iter", "loss", *([ids.ACCURACY] if spec.classifies else []),
              *ids.params(spec)[:SHOWN_PARAMETERS]]
    return frame[[c for c in wanted if c in frame.columns]]
