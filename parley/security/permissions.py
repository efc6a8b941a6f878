"""Permission checks for files that hold secrets: private to the user that runs Parley."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from parley.security.errors import InsecureFileError


@dataclass(frozen=True)
class FileExposure:
    """Why a secret file is not private: readable by others, or owned by someone else."""

    path: Path
    mode: int
    group_access: bool
    world_access: bool
    foreign_owner: int | None  # the owner's uid when it is not the running user

    @property
    def fix(self) -> str:
        """The command that makes the file private."""
        if self.foreign_owner is not None:
            return f"chown {os.geteuid()} {self.path} && chmod 600 {self.path}"
        return f"chmod 600 {self.path}"

    @property
    def problem(self) -> str:
        """What is wrong, without the file name."""
        if self.foreign_owner is not None:
            return f"is owned by uid {self.foreign_owner}, not by the user running Parley"
        who = " and ".join(
            w for w, on in (("its group", self.group_access), ("everyone", self.world_access)) if on
        )
        return f"can be read or written by {who} (mode {self.mode:04o})"

    def describe(self, what: str = "secret file") -> str:
        """One sentence: what is wrong and the command to run."""
        return f"{what} {self.path} {self.problem}; run: {self.fix}"


def file_exposure(path: Path) -> FileExposure | None:
    """How `path` (followed through symlinks) is exposed, or None when it is private."""
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    group = bool(mode & 0o070)
    world = bool(mode & 0o007)
    owner = info.st_uid if info.st_uid != os.geteuid() else None
    if not (group or world or owner is not None):
        return None
    return FileExposure(path, mode, group, world, owner)


def check_private_file(path: Path, what: str = "secret file") -> None:
    """Raise InsecureFileError unless only the running user can read and write `path`."""
    exposure = file_exposure(path)
    if exposure is not None:
        raise InsecureFileError(path, "refusing to read " + exposure.describe(what))
