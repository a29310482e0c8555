"""Write a file atomically: to a temporary name beside it, renamed into place only on success."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sheetnet.errors import SheetnetError


def target_of(path: Path) -> Path:
    """The file a write to `path` replaces: a symlink is written through, to the file it names."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_target(path: Path) -> None:
    """Refuse, before any work, an output that cannot or must not be replaced.

    A missing folder, a folder, a read-only file (no write permission for anyone: even root is
    refused, as a user who protected a file means it) and a folder we cannot write in.
    """
    path = target_of(path)
    folder = path.parent
    if not folder.is_dir():
        raise SheetnetError(f"the folder {folder} does not exist; create it or choose another")
    if path.is_dir():
        raise SheetnetError(f"{path} is a folder; give a file name")
    if path.exists() and (not os.access(path, os.W_OK) or not _anyone_may_write(path)):
        raise SheetnetError(f"{path}: permission denied (the file is read-only); make it "
                            "writable (chmod u+w) or choose another name")
    if not os.access(folder, os.W_OK | os.X_OK) or not _anyone_may_write(folder):
        raise SheetnetError(f"cannot write in the folder {folder}: permission denied; "
                            "choose another folder")


def _anyone_may_write(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path`, on failure it vanishes.

    So a failed build never leaves a partial file nor clobbers an existing one. A symlink is
    written through: the file it points to is replaced, the link stays. A replaced file keeps
    its permissions.
    """
    check_target(path)
    path = target_of(path)
    # The name is chosen before the file exists, so a Ctrl-C at any moment after its creation
    # (even inside the call that creates it) finds the name in `finally` and removes the file.
    tmp = path.parent / f".sheetnet-{secrets.token_hex(6)}{path.suffix}"
    ours = True  # False only if that name was somebody else's file
    try:
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            ours = not isinstance(exc, FileExistsError)
            raise SheetnetError(f"cannot write in the folder {path.parent}: {exc.strerror}") from None
        yield tmp
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a vanished folder: say so in one line
        raise SheetnetError(f"could not write {path}: {exc.strerror or exc}; "
                            "an earlier file of that name is unchanged") from None
    finally:
        if ours:
            tmp.unlink(missing_ok=True)


def _mode_for(path: Path) -> int:
    """The earlier file's permissions, or those a plain open() would give a new file.

    The temporary file is made private (0600), which is right for neither.
    """
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
