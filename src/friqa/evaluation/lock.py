"""An advisory lock on an evaluation's output folder: one run writes a folder at a time.

Two runs appending to the same scores file would each score every pair and write
every result twice. :class:`RunLock` holds ``<folder>/.friqa.lock`` for the
duration of a run: the file records the holder's PID, and an exclusive
``flock`` on it (POSIX; released by the kernel when the process ends) makes a
second run refuse with :class:`~friqa.exceptions.InputError` naming that PID.
A lock file left by a process that no longer exists (a killed run) is taken over.
Where ``flock`` is missing (Windows) the PID alone decides: a lock whose process
is alive is held.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with RunLock(folder):
    ...     try:
    ...         RunLock(folder).acquire()
    ...     except InputError as exc:
    ...         "in use by another friqa run" in str(exc)
    True
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import IO

from friqa.exceptions import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "RunLock", "pid_alive"]

#: The lock file's name in the output folder.
LOCK_NAME = ".friqa.lock"


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists (on this machine)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:  # pragma: no cover - Windows without the process
        return False
    return True


class RunLock:
    """The lock of one output folder (created if needed); a context manager."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fh: IO[str] | None = None

    def _holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def _refuse(self) -> InputError:
        return InputError(
            f"'{self.folder}' is in use by another friqa run (PID {self._holder()}); wait for "
            "it to finish, stop it, or choose another output folder"
        )

    def acquire(self) -> RunLock:
        """Take the lock.

        Raises:
            InputError: another live process holds it.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover - Windows
            holder = self._holder()
            if holder.isdigit() and int(holder) != os.getpid() and pid_alive(int(holder)):
                raise self._refuse()
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - closed in release()
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                raise self._refuse() from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        """Give the lock up and remove the lock file."""
        if self._fh is None:
            return
        self.path.unlink(missing_ok=True)
        self._fh.close()  # closing releases the flock
        self._fh = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
