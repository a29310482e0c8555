"""Write a file atomically: to a temporary name beside it, renamed into place only on success."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sheetnet.errors import SheetnetError


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path`, on failure it vanishes.

    So a failed build never leaves a partial file nor clobbers an existing one.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise SheetnetError(f"the folder {path.parent} does not exist; create it or choose another")
    try:
        fd, name = tempfile.mkstemp(suffix=path.suffix, prefix=".sheetnet-", dir=path.parent)
    except OSError as exc:
        raise SheetnetError(f"cannot write in the folder {path.parent}: {exc.strerror}") from None
    tmp = Path(name)
    try:  # from the moment the file exists, so even a Ctrl-C right here removes it
        os.close(fd)
        yield tmp
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a vanished folder: say so in one line
        raise SheetnetError(f"could not write {path}: {exc.strerror or exc}; "
                            "an earlier file of that name is unchanged") from None
    finally:
        tmp.unlink(missing_ok=True)
