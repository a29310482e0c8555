"""Tables out: a trajectory DataFrame written atomically as CSV."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from sheetnet.errors import SheetnetError


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write frame to path via a temporary file, so a failure never leaves half a file."""
    path = Path(path)
    if not path.parent.is_dir():
        raise SheetnetError(f"the folder {path.parent} does not exist; create it or choose another")
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix=".sheetnet-", dir=path.parent)
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False, float_format="%.17g")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
