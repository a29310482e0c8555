"""Where the console keeps files: one temporary folder per server, one sub-folder per workspace.

A workspace belongs to one browser page (a tab): its id travels in the page's links and forms,
so two tabs working at once never see each other's files; it also belongs to the browser's
session cookie, so a workspace id seen elsewhere opens nothing. Uploads are saved under names
made here, never under a path the browser sent, and zips are opened as untrusted.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetnet.errors import SheetnetError

MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # a request's body: a class zip of a few hundred students fits
MAX_FILES = 1000  # files in one form or one zip
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024  # what a zip may expand to, all members together
MAX_RATIO = 200  # a member compressed more than this is a zip bomb (an xlsx compresses ~10×)
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


@dataclass
class Workspace:
    """One tab's files and results (the results are what the pages show)."""

    id: str
    session: str
    folder: Path
    results: dict[str, Any] = field(default_factory=dict)  # page → what its last job produced

    def path(self, name: str) -> Path:
        return self.folder / name


class Store:
    """Every workspace of this server, in one temporary folder removed by close()."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sheetnet-console-"))
        self._spaces: dict[str, Workspace] = {}
        self._lock = threading.Lock()

    def new(self, session: str) -> Workspace:
        wid = secrets.token_urlsafe(18)
        folder = self.root / wid
        folder.mkdir()
        space = Workspace(wid, session, folder)
        with self._lock:
            self._spaces[wid] = space
        return space

    def get(self, wid: str | None, session: str) -> Workspace | None:
        """The workspace of that id if it belongs to this session; None otherwise."""
        if not wid or not _ID.match(wid):
            return None
        with self._lock:
            space = self._spaces.get(wid)
        return space if space is not None and secrets.compare_digest(space.session, session) else None

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def safe_name(name: str, suffix: str) -> str:
    """A file name from a browser's: its last part, letters, digits, `._- ` only, given suffix.

    Grading reads a submission's name (a file named for another student is flagged), so the
    name is kept as far as it is safe; it never becomes a folder or leaves its folder.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    stem = _UNSAFE.sub("_", base[: -len(suffix)] if base.lower().endswith(suffix) else base)
    stem = stem.strip(" .")[:80] or "file"
    return stem + suffix


def save_upload(data: bytes, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _members(archive: zipfile.ZipFile, what: str) -> list[zipfile.ZipInfo]:
    """The zip's file members, refused as a whole if it is a bomb or too big."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > MAX_FILES:
        raise SheetnetError(f"{what}: {len(infos)} files in the zip; at most {MAX_FILES}")
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        raise SheetnetError(f"{what}: the zip expands past {MAX_UNZIPPED_BYTES // 2**20} MiB; refused")
    for info in infos:
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 2**20:
            raise SheetnetError(f"{what}: {info.filename!r} is compressed {MAX_RATIO}× or more (a zip bomb?)")
    return infos


def open_zip(path: Path, what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise SheetnetError(f"{what}: not a zip file") from None


def unzip_submissions(path: Path, folder: Path) -> list[Path]:
    """The .xlsx members of a zip of submissions, each in a numbered folder under its safe name."""
    out: list[Path] = []
    with open_zip(path, "submissions") as archive:
        for info in _members(archive, "submissions"):
            if not info.filename.lower().endswith(".xlsx") or "__MACOSX" in info.filename:
                continue
            target = folder / f"{len(out):04d}" / safe_name(info.filename, ".xlsx")
            target.parent.mkdir(parents=True)
            with archive.open(info) as src, target.open("wb") as dst:
                _copy_capped(src, dst, info.file_size)
            out.append(target)
    return out


def unzip_class(path: Path, folder: Path) -> Path:
    """A class folder from a zip (class.toml at the top or in one folder); its folder."""
    with open_zip(path, "class zip") as archive:
        infos = _members(archive, "class zip")
        names = [i.filename for i in infos]
        tops = [n[: -len("class.toml")] for n in names if n == "class.toml" or n.endswith("/class.toml")]
        if len(tops) != 1 or tops[0].count("/") > 1:
            raise SheetnetError("class zip: no class.toml at its top or in one folder; upload the zip "
                                "the Class page made (or a zip of a folder `sheetnet class` wrote)")
        for info in infos:
            parts = info.filename[len(tops[0]):].split("/") if info.filename.startswith(tops[0]) else []
            unsafe = any(p in ("", ".", "..") or "\\" in p or ":" in p for p in parts)
            if not parts or unsafe or len(parts) > 2:
                continue  # a member outside the class's own layout is not extracted
            target = folder.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, target.open("wb") as dst:
                _copy_capped(src, dst, info.file_size)
    _refuse_outside_data(folder)
    return folder


def _refuse_outside_data(folder: Path) -> None:
    """A class folder holds every spec's data inline (`sheetnet class` writes it so); a TOML of
    an uploaded one naming a CSV file would make grading read a file of this machine."""
    for path in sorted(folder.rglob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8")).get("data")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
            continue  # unreadable: grading says so in its own words
        if isinstance(data, dict) and "csv" in data:
            name = path.relative_to(folder).as_posix()
            raise SheetnetError(f"class zip: {name} reads its data from a CSV file; a class folder holds "
                                "its data inline (upload the zip the Class page made)")


def _copy_capped(src: Any, dst: Any, size: int) -> None:
    """Copy a member, stopping at its declared size: a lying header cannot expand further."""
    left = size + 1
    while chunk := src.read(min(1 << 20, left)):
        left -= len(chunk)
        if left <= 0:
            raise SheetnetError("a zip member is larger than its header says; refused")
        dst.write(chunk)


def zip_folder(folder: Path, target: Path, prefix: str) -> Path:
    """Zip a folder under a fixed top folder name."""
    tmp = target.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if path.is_file():
                archive.write(path, f"{prefix}/{rel.as_posix()}")
    tmp.replace(target)
    return target
