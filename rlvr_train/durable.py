"""Files that survive a crash or a power cut: write to a sibling, fsync it, rename it, fsync the directory.

A rename is atomic, but without the fsyncs a power cut can still leave the new name pointing at a file
whose data never reached the disk (or lose the rename itself).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves either the old or the new file, never a part."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    fsync(path.parent)


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            yield Path(dirpath) / name
        yield Path(dirpath)


def fsync_tree(root: Path) -> None:
    """fsync every file and directory under ``root`` (before the caller renames it into place)."""
    for path in _walk(root):
        fsync(path)


def fsync(path: Path) -> None:
    """Flush a file's data, or a directory's entries (a new or renamed name), to the disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
