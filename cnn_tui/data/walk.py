"""Walking image folders as they come from the world: one loop, every entry accounted for.

Folders arrive unpacked from archives, copied from Macs, NAS shares and USB sticks, and full of
links. The walk:
- follows links but visits every real folder once (by device and inode) and takes every real file
  once (by real path): a link back to an ancestor is a loop, a second way to a folder or file
  already seen (a link to a sibling class or to a file elsewhere) is "reached twice", so the same
  file never lands in two classes or in both train and val. Hard links count as separate files:
  telling them apart would cost a stat per file (the scan reads plain files from the listing alone);
- skips hidden entries (names starting with ".": `.git`, `.ipynb_checkpoints`, AppleDouble
  `._x.jpg`) and the folders archivers and file systems leave behind (`__MACOSX`, `@eaDir`,
  `$RECYCLE.BIN`, ...): their files never become images or classes;
- opens nothing: it only stats, so a FIFO, socket or device named `x.png` is a special file and
  skipped (opening a FIFO blocks forever);
- does not descend into virtual file systems (proc, sysfs, devtmpfs, ...): `/proc/*/root` leads
  to `/`, and a read there can block.
What it skips is counted by reason (`Skips`) for `validate` and the run's first lines.
`Walker.listing` is the only place that reads a folder: a check for a stop request belongs there.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

# Folder names (compared case-insensitively) that archivers, NAS boxes and operating systems add
# next to the user's files; never a class, never images. Names starting with "." are hidden too.
DEBRIS = frozenset(name.casefold() for name in (
    "__MACOSX",  # macOS Archive Utility: an AppleDouble "._" copy of every file
    "@eaDir",  # Synology: thumbnails of every photo, as .jpg files
    "#recycle", "@Recycle", "#snapshot",  # Synology and QNAP recycle bins and snapshots
    "$RECYCLE.BIN", "System Volume Information",  # Windows, on every USB stick and external disk
    "lost+found",  # fsck's orphans
    "__pycache__",
))
# File systems whose files are not files: never image folders, and reading them can block.
VIRTUAL_FS = frozenset((
    "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs",
    "pstore", "bpf", "configfs", "fusectl", "mqueue", "hugetlbfs", "binfmt_misc", "efivarfs",
    "selinuxfs", "autofs", "rpc_pipefs", "nsfs",
))

LOOP = "link loop"
DUPLICATE = "reached twice"
HIDDEN = "hidden or debris"
SPECIAL = "special file"
NOT_IMAGE = "not an image"
BROKEN = "broken link"
UNREADABLE = "unreadable"
VIRTUAL = "virtual file system"
# every reason, in the report's order, with its plural
REASONS = {LOOP: "link loops", DUPLICATE: DUPLICATE, HIDDEN: HIDDEN, SPECIAL: "special files",
           NOT_IMAGE: "not images", BROKEN: "broken links", UNREADABLE: UNREADABLE,
           VIRTUAL: "virtual file systems"}


@dataclass
class Skips:
    """What a scan left out, counted by reason, with the first path for each."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, reason: str, path: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        self.examples.setdefault(reason, path)

    def merge(self, other: Skips) -> None:
        for reason, count in other.counts.items():
            self.counts[reason] = self.counts.get(reason, 0) + count
            self.examples.setdefault(reason, other.examples[reason])

    def total(self) -> int:
        return sum(self.counts.values())

    def reasons(self) -> str:
        """"3 not images, 1 special file": the counts alone."""
        return ", ".join(self._counted(r) for r in REASONS if r in self.counts)

    def line(self) -> str:
        """One line for the log ("" when nothing was skipped)."""
        if not self.counts:
            return ""
        parts = [f"{self._counted(r)} (e.g. {self.examples[r]})" for r in REASONS if r in self.counts]
        return "skipped while scanning: " + "; ".join(parts)

    def _counted(self, reason: str) -> str:
        count = self.counts[reason]
        return f"{count:,} {reason if count == 1 else REASONS[reason]}"


class Entry(NamedTuple):
    """One visible entry of a folder, links followed: kind is "dir", "file" or a skip reason."""

    path: str
    name: str
    kind: str
    identity: tuple[int, int] | None = None  # a folder's (device, inode), links followed
    real: str | None = None  # a linked file's real path
    link: bool = False


def _resolve(entry: os.DirEntry) -> Entry:
    """What `entry` (not a plain file) is: folders and links are stat'ed; a special file is known
    from the folder listing (Linux's d_type) where it can be."""
    if not entry.is_symlink() and not entry.is_dir(follow_symlinks=False):
        return Entry(entry.path, entry.name, SPECIAL)
    try:
        info = entry.stat()  # follows a link; never opens the file
    except FileNotFoundError:
        return Entry(entry.path, entry.name, BROKEN if entry.is_symlink() else UNREADABLE)
    except OSError as exc:  # ELOOP: a link that leads to itself
        return Entry(entry.path, entry.name, LOOP if exc.errno == errno.ELOOP else UNREADABLE)
    if stat.S_ISDIR(info.st_mode):
        return Entry(entry.path, entry.name, "dir", (info.st_dev, info.st_ino), link=entry.is_symlink())
    if stat.S_ISREG(info.st_mode):
        return Entry(entry.path, entry.name, "file", real=os.path.realpath(entry.path))
    return Entry(entry.path, entry.name, SPECIAL)


def virtual_devices() -> dict[int, str]:
    """{st_dev: file system type} of the mounted virtual file systems (empty where unknown)."""
    found: dict[int, str] = {}
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                fields, _, rest = line.partition(" - ")
                parts, kind = fields.split(), rest.split(" ", 1)[0]
                if len(parts) > 2 and kind in VIRTUAL_FS:
                    major, minor = parts[2].split(":")
                    found[os.makedev(int(major), int(minor))] = kind
    except (OSError, ValueError):
        pass
    return found


class Listing(NamedTuple):
    """A folder's visible entries, sorted: plain files by name alone (most of any image folder, kept
    cheap), everything else resolved (folders, links, special files), links after the rest."""

    files: list[str]
    others: list[Entry]
    hidden: list[str]  # hidden entries and debris folders, never looked into


class Found(NamedTuple):
    """What a walk found below one folder: its files (sorted) and what it skipped there."""

    files: list[str]
    skipped: Skips


class Walker:
    """One scan of one data folder: what has been seen (so nothing is visited twice) and skipped."""

    def __init__(self) -> None:
        self.skips = Skips()
        self.virtual = virtual_devices()
        self._listings: dict[str, Listing] = {}
        self._dirs: dict[tuple[int, int], str] = {}
        self._files: set[str] = set()  # real paths of the files taken
        self._counted: set[str] = set()  # folders whose hidden entries are counted

    def listing(self, folder: str, count_in: Skips | None = None) -> Listing:
        """The visible entries of `folder` (read once, then remembered); its hidden entries are
        counted in `count_in` the first time one is given. Raises OSError."""
        if folder not in self._listings:
            files: list[str] = []
            hidden: list[str] = []
            plain: list[Entry] = []
            links: list[Entry] = []
            with os.scandir(folder) as it:
                for entry in it:
                    name = entry.name
                    if name.startswith("."):
                        hidden.append(entry.path)
                    elif not entry.is_symlink() and entry.is_file(follow_symlinks=False):
                        files.append(name)
                    elif (resolved := _resolve(entry)).kind == "dir" and name.casefold() in DEBRIS:
                        hidden.append(entry.path)
                    else:
                        (links if entry.is_symlink() else plain).append(resolved)
            files.sort()
            self._listings[folder] = Listing(files, sorted(plain) + sorted(links), sorted(hidden))
        listing = self._listings[folder]
        if count_in is not None and folder not in self._counted:
            self._counted.add(folder)
            for path in listing.hidden:
                count_in.add(HIDDEN, path)
        return listing

    def virtual_type(self, folder: str) -> str | None:
        """The virtual file system `folder` is on (proc, sysfs, ...), or None."""
        try:
            return self.virtual.get(os.stat(folder).st_dev)
        except OSError:
            return None

    def claim(self, entries: list[Entry]) -> list[Entry]:
        """Mark folders as visited before walking any (the root, split and class folders), so a
        link inside one class to another is a duplicate, not a second copy; returns the ones kept."""
        return [e for e in entries if self._enter(e, self.skips)]

    def claim_path(self, folder: str) -> str | None:
        """Mark a folder given by name (the root, a split) as visited; the path it was first
        claimed by, if it was (by this path or another leading to the same folder)."""
        try:
            info = os.stat(folder)
        except OSError:
            return None
        key = (info.st_dev, info.st_ino)
        if key in self._dirs:
            return self._dirs[key]
        self._dirs[key] = folder
        return None

    def _enter(self, entry: Entry, skips: Skips) -> bool:
        assert entry.identity is not None
        if entry.identity[0] in self.virtual:
            skips.add(VIRTUAL, entry.path)
            return False
        if entry.link and _leads_up(entry.path):  # to an ancestor, inside the data folder or above it
            skips.add(LOOP, entry.path)
            return False
        if entry.identity in self._dirs:
            skips.add(DUPLICATE, entry.path)
            return False
        self._dirs[entry.identity] = entry.path
        return True

    def walk(self, folders: list[str], wanted: Callable[[str], bool],
             on_empty: Callable[[int, Skips], None] = lambda _i, _s: None) -> list[Found]:
        """The files below each of `folders` (claimed already) whose names `wanted` accepts, every
        real file once. A plain file is never reached twice (its folder is visited once); a link to
        a file is taken only if no plain file anywhere in `folders`, and no earlier link, is that
        file: a link in cats/ to dogs/x.jpg leaves x.jpg a dog. `on_empty(i, skipped)` hears of a
        folder with nothing wanted as soon as it is walked (to refuse before walking the rest)."""
        walked = []
        for i, folder in enumerate(folders):
            walked.append(self._walk_one(folder, wanted))
            if not walked[-1][0] and not walked[-1][1]:
                on_empty(i, walked[-1][2])
        found = []
        for files, links, here in walked:
            for path, real in links:
                if real in self._files:
                    here.add(DUPLICATE, path)
                else:
                    self._files.add(real)
                    files.append(path)
            self.skips.merge(here)
            found.append(Found(sorted(files), here))
        return found

    def _walk_one(self, folder: str, wanted: Callable[[str], bool]
                  ) -> tuple[list[str], list[tuple[str, str]], Skips]:
        here = Skips()
        files: list[str] = []
        links: list[tuple[str, str]] = []
        stack = [folder]
        while stack:
            current = stack.pop()
            try:
                listing = self.listing(current, here)
            except OSError:
                here.add(UNREADABLE, current)
                continue
            self._listings.pop(current, None)  # each folder is walked once: no need to keep it
            prefix, real_prefix = os.path.join(current, ""), os.path.join(os.path.realpath(current), "")
            for name in listing.files:
                if wanted(name):
                    files.append(prefix + name)
                    self._files.add(real_prefix + name)
                else:
                    here.add(NOT_IMAGE, prefix + name)
            for entry in listing.others:
                if entry.kind == "dir":
                    if self._enter(entry, here):
                        stack.append(entry.path)
                elif entry.kind != "file":
                    here.add(entry.kind, entry.path)
                elif not wanted(entry.name):
                    here.add(NOT_IMAGE, entry.path)
                else:
                    assert entry.real is not None
                    links.append((entry.path, entry.real))
        return files, links, here


def _leads_up(link: str) -> bool:
    """Whether the folder `link` leads to holds the link itself (a loop), not a sibling."""
    target = os.path.realpath(link)
    here = os.path.realpath(os.path.dirname(link))
    return here == target or here.startswith(target.rstrip(os.sep) + os.sep)
