"""Writing an output file the way a Unix tool does: what is at the path decides how.

- ``-`` is standard output, and so are ``/dev/stdout``, ``/dev/fd/N`` and ``/proc/self/fd/N`` (the very
  descriptor, so ``>>`` still appends);
- a regular file, or a new path, is replaced atomically: a temporary file beside it, fsync, ``os.replace``.
  It keeps the old file's mode, else gets the umask's (0666 & ~umask); readers see the old bytes or all
  the new ones. A file without its owner's write bit is refused, even for root;
- a symlink is written through: the link stays and its target is replaced (a dangling link's target is made);
- a character device, FIFO or socket is written in place, never renamed over; a folder is refused.

Every ``OSError`` becomes ``CannotWrite``: one line naming the path and the reason, exit 2. To handle another
kind of file, add its ``stat.S_IF*`` type and writer to ``WRITERS``.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import stat
import sys
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from derive.errors import BadValue, DeriveError

STDOUT = "-"
OWN_DESCRIPTOR = r"/dev/fd/(\d+)|/proc/(?:self|thread-self|{pid})/fd/(\d+)"  # a path to one of our descriptors
MAX_LINKS = 40  # the kernel's limit on symlinks followed in one lookup


class CannotWrite(DeriveError, OSError):
    """A file that could not be written; still an OSError, so callers that catch those keep working."""


def check_output(path: str | os.PathLike) -> None:
    """Refuse ``path`` in one line, before any work, if ``write_output`` would refuse it."""
    with explained(path):
        _plan(path)


def write_output(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` as the module docstring says."""
    with explained(path):
        _plan(path)(data)


def same_output(first: str | os.PathLike, second: str | os.PathLike) -> bool:
    """Whether two output paths name one file: the same resolved path, or ``os.path.samefile``."""
    first, second = (os.path.abspath("/dev/stdout" if str(p) == STDOUT else p) for p in (first, second))
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    with contextlib.suppress(OSError):
        return os.path.samefile(first, second)
    return False


def replace_atomically(path: str | os.PathLike, data: bytes, like: os.stat_result | None = None) -> None:
    """``path`` holds its old bytes or all of ``data``, never half: temporary file, fsync, rename.

    The file gets ``like``'s mode (and owner, where allowed), else what the umask gives a new file. The
    temporary file is removed on any failure, KeyboardInterrupt included. Raises ``OSError`` as it is.
    """
    path = Path(path)
    descriptor, temporary = _create_beside(path)
    try:
        with open(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            if like is not None:
                if (like.st_uid, like.st_gid) != (os.geteuid(), os.getegid()):
                    with contextlib.suppress(PermissionError):  # only root may give a file away
                        os.fchown(out.fileno(), like.st_uid, like.st_gid)
                os.fchmod(out.fileno(), stat.S_IMODE(like.st_mode))  # after fchown, which clears set-id bits
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def temporary_pattern(name: str) -> str:
    """The glob of the temporary files ``replace_atomically`` makes for ``name`` (``*`` for any file)."""
    return f".{name}.*.tmp"


@contextlib.contextmanager
def explained(path: str | os.PathLike) -> Iterator[None]:
    """Turn an ``OSError`` into one line naming ``path``; a reader that went away stays a BrokenPipeError."""
    try:
        yield
    except (BrokenPipeError, DeriveError):
        raise
    except OSError as error:
        raise CannotWrite(f"cannot write {str(path)!r}: {reason(error)}") from None


def reason(error: OSError) -> str:
    """'Permission denied (errno 13)'; the message itself when the error has no errno."""
    return f"{error.strerror} (errno {error.errno})" if error.strerror else str(error)


# --- deciding how to write ---------------------------------------------------------------------------------------
def _plan(path: str | os.PathLike) -> Callable[[bytes], None]:
    """The writer for ``path``, chosen by what is there now; refusals are raised here."""
    descriptor = 1 if str(path) == STDOUT else _own_descriptor(path)
    if descriptor is not None:
        os.fstat(descriptor)  # EBADF now, rather than after the work, when it is not open
        return partial(_to_descriptor, descriptor)
    target, status = _resolve(Path(path))
    kind = stat.S_IFMT(status.st_mode) if status else stat.S_IFREG
    return partial(WRITERS.get(kind, _in_place), target, status)


def _own_descriptor(path: str | os.PathLike) -> int | None:
    """N when ``path`` leads (through symlinks such as /dev/stdout) to /dev/fd/N or /proc/self/fd/N."""
    pattern = re.compile(OWN_DESCRIPTOR.format(pid=os.getpid()))
    hop = os.path.abspath(path)
    for _ in range(MAX_LINKS):
        if match := pattern.fullmatch(hop):
            return int(match[1] or match[2])
        if not os.path.islink(hop):
            return None
        hop = os.path.normpath(os.path.join(os.path.dirname(hop), os.readlink(hop)))
    return None


def _resolve(path: Path) -> tuple[Path, os.stat_result | None]:
    """(where the bytes go, what is there now): symlinks resolved for files, refusals raised."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        target = Path(os.path.realpath(path))  # a new file, or a dangling link's target
        if not target.parent.is_dir():
            raise BadValue(f"cannot write {str(path)!r}: the folder {str(target.parent)!r} does not exist") from None
        return target, None
    if stat.S_ISDIR(status.st_mode):
        raise BadValue(f"cannot write {str(path)!r}: it is a folder; give a file name")
    if stat.S_ISREG(status.st_mode):
        if not status.st_mode & stat.S_IWUSR:
            raise BadValue(f"cannot write {str(path)!r}: it is read-only (mode {stat.S_IMODE(status.st_mode):04o}); "
                           f"make it writable (chmod u+w) or choose another file")
        return Path(os.path.realpath(path)), status
    return path, status


# --- the writers ---------------------------------------------------------------------------------------------------
def _to_descriptor(descriptor: int, data: bytes) -> None:
    """Through the open descriptor itself (its offset and append flag), after what Python has buffered."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    if descriptor == 1:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    with open(os.dup(descriptor), "wb") as out:
        out.write(data)


def _replace(target: Path, status: os.stat_result | None, data: bytes) -> None:
    replace_atomically(target, data, like=status)


def _in_place(target: Path, status: os.stat_result, data: bytes) -> None:
    """A device or FIFO: opened for writing as it is, no rename, no truncation (a FIFO waits for its reader)."""
    with open(os.open(target, os.O_WRONLY | os.O_NOCTTY), "wb") as out:
        out.write(data)


def _send(target: Path, status: os.stat_result, data: bytes) -> None:
    """A Unix socket cannot be opened; connect to it and send."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(target))
        connection.sendall(data)


WRITERS: dict[int, Callable[[Path, os.stat_result | None, bytes], None]] = {
    stat.S_IFREG: _replace,
    stat.S_IFSOCK: _send,
}  # anything else that is not a folder (character or block device, FIFO) is written in place


def _create_beside(path: Path) -> tuple[int, str]:
    """A new file ``.<name>.<random>.tmp`` beside ``path``; the kernel applies the umask to 0666."""
    while True:
        temporary = str(path.parent / temporary_pattern(path.name).replace("*", secrets.token_hex(4)))
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), temporary
        except FileExistsError:
            continue


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot fsync a folder, which is no error."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
