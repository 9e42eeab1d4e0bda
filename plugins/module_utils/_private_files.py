# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files a run leaves for the next run of the same user, kept where no other user can reach them. Internal to this
collection.

The system's temporary folder is shared by every user of a host: a name in it that is known in advance can be
planted by another user beforehand, as a link to a file the next run (perhaps root's) would overwrite, a FIFO it
would wait on forever, a device it would read without end, or text its parser chokes on. So the files live in a
folder only the user can enter (``$XDG_RUNTIME_DIR``, else ``~/.ansible``, else a per-user folder in the temporary
folder), checked each time it is opened; a file is read only when it is a regular file of the user's own, never
through a link and never waiting; it is written under a fresh name and renamed into place.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import tempfile

FOLDER_NAME = "sailpoint-isc"
# bits of a folder's mode that let another user change what it holds
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
_OTHERS_ANY = stat.S_IRWXG | stat.S_IRWXO


class UnsafeFileError(OSError):
    """A folder or file that another user could have placed or changed; ``str()`` says what is wrong with it."""


def _candidates(environ) -> list[tuple[str, bool]]:
    """(folder, whether its parent may be created) in the order of preference."""
    found = []
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        found.append((os.path.join(runtime, FOLDER_NAME), False))
    home = os.path.expanduser("~")
    if os.path.isabs(home):
        found.append((os.path.join(home, ".ansible", FOLDER_NAME), True))
    found.append((os.path.join(tempfile.gettempdir(), f"{FOLDER_NAME}-{os.geteuid()}"), False))
    return found


def open_folder(path: str, create_parent: bool = False) -> int:
    """A descriptor of the folder ``path``, made with mode 0700 when missing; UnsafeFileError when it is a link, is
    not a folder, belongs to another user or lets another user write in it (OSError when it cannot be made)."""
    if create_parent:
        # only the last folder above it: a home that does not exist is not made up
        try:
            os.mkdir(os.path.dirname(path), 0o700)
        except FileExistsError:
            pass
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeFileError(f"{path} is a symbolic link or not a folder") from None
        raise
    try:
        status = os.fstat(descriptor)
        if status.st_uid != os.geteuid():
            raise UnsafeFileError(f"{path} belongs to another user (uid {status.st_uid})")
        if status.st_mode & _OTHERS_WRITE:
            raise UnsafeFileError(f"{path} lets other users write in it (mode {stat.S_IMODE(status.st_mode):04o})")
        if status.st_mode & _OTHERS_ANY:
            os.fchmod(descriptor, 0o700)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def private_folder(folder: str | None = None, environ=None) -> tuple[str, int]:
    """(path, descriptor) of the first usable private folder: ``folder`` when given, else the preferred places in
    turn; UnsafeFileError naming why each was refused when none is usable."""
    places = [(folder, False)] if folder else _candidates(os.environ if environ is None else environ)
    refusals = []
    for path, create_parent in places:
        try:
            return path, open_folder(path, create_parent)
        except OSError as error:
            refusals.append(str(error) if isinstance(error, UnsafeFileError) else f"{path}: {error.strerror or error}")
    raise UnsafeFileError("; ".join(refusals))


def read_file(folder: int, name: str, limit: int) -> bytes | None:
    """The bytes of ``name`` in the folder ``folder`` (a descriptor); None when there is no such file.

    UnsafeFileError for a link, anything but a regular file (a FIFO is opened without waiting for a writer), a file of
    another user, or one over ``limit`` bytes: none of them is read.
    """
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafeFileError(f"{name} is a symbolic link") from None
        raise
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise UnsafeFileError(f"{name} is not a regular file (a FIFO, a device, a socket or a folder)")
        if status.st_uid != os.geteuid():
            raise UnsafeFileError(f"{name} belongs to another user (uid {status.st_uid})")
        if status.st_size > limit:
            raise UnsafeFileError(f"{name} holds {status.st_size} bytes, more than the {limit} it may")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnsafeFileError(f"{name} grew past the {limit} bytes it may hold while it was read")
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def write_file(folder: int, name: str, data: bytes) -> None:
    """Put ``data`` at ``name`` in the folder ``folder`` (a descriptor), mode 0600: written under a fresh name that
    must not exist yet, then renamed over whatever ``name`` was (a link is replaced, never followed); nothing is left
    behind when that fails."""
    temporary = f".{name}.{secrets.token_hex(8)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder)
    try:
        try:
            os.fchmod(descriptor, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=folder)
        except OSError:
            pass
        raise
