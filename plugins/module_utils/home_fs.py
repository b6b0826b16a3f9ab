# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files under a user's home, handled by root without ever resolving a path the user controls.

A home belongs to its user: any directory or file in it can be swapped for a symbolic link, a FIFO
or a device between two steps of a run. Code running as root therefore never passes a path inside a
home to the kernel. It opens the home (a path from the user database, which root controls) and then
each component below it relative to the directory descriptor before it, with ``O_NOFOLLOW``:

- a directory component must be a real directory owned by the user or by root;
- a leaf is read only when ``fstat`` of the opened descriptor says it is a regular file (opened with
  ``O_NONBLOCK``, so a FIFO cannot block the open) and it is at most a size cap (``READ_CAP`` unless
  the caller gives one); it must be owned by the user, or by root with a single link (a hard link
  to a root file is not the user's file);
- a write goes to a new temporary file in the same directory (created ``O_EXCL | O_NOFOLLOW`` through
  the directory descriptor), gets its owner and mode with ``fchown``/``fchmod``, is fsync'ed and
  renamed over the leaf through the descriptor. A rename replaces a link rather than following it,
  and a leaf that is a link or not a regular file is refused first anyway.

Every refusal raises ``UnsafePath`` with the full path and the reason; nothing is changed then, and
the planted thing is left as it is.
"""
from __future__ import annotations

import contextlib
import errno
import os
import pwd
import stat

# Settings files, certificates and shell files are a few KiB; anything larger is not what we wrote.
READ_CAP = 1024 * 1024

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)


class UnsafePath(Exception):
    """A path under a home that root refuses to touch (or cannot read): carries the path and the reason."""

    def __init__(self, path, message):
        self.path = path
        super().__init__(message)


def _kind(mode):
    for test, name in ((stat.S_ISLNK, 'a symlink'), (stat.S_ISDIR, 'a directory'), (stat.S_ISFIFO, 'a FIFO'),
                       (stat.S_ISSOCK, 'a socket'), (stat.S_ISCHR, 'a character device'), (stat.S_ISBLK, 'a block device')):
        if test(mode):
            return name
    return 'a regular file' if stat.S_ISREG(mode) else 'not a regular file'


def _check_owner(info, path, uid, what):
    if uid is not None and info.st_uid not in (uid, 0):
        raise UnsafePath(path, 'refusing %s: %s is owned by uid %d, not by uid %d or root' % (path, what, info.st_uid, uid))


def _explain(dir_fd, name, path, exc):
    """Turn an open() failure into a refusal naming the component and why."""
    try:
        info = os.lstat(name, dir_fd=dir_fd)
    except OSError:
        info = None
    if info is not None and stat.S_ISLNK(info.st_mode):
        return UnsafePath(path, 'refusing %s: %s is a symlink' % (path, name))
    if exc.errno == errno.ENOTDIR:
        return UnsafePath(path, 'refusing %s: %s is not a directory (%s)' % (path, name, _kind(info.st_mode) if info else '?'))
    return UnsafePath(path, 'cannot open %s: %s' % (path, exc.strerror or exc))


class HomeDir(object):
    """An open directory under a home, with the path it was reached by (for messages)."""

    def __init__(self, fd, path, uid, gid):
        self.fd = fd
        self.path = path
        self.uid = uid
        self.gid = gid

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def child(self, name):
        return os.path.join(self.path, name)

    def lstat(self, name):
        """lstat of an entry, or None when it does not exist."""
        try:
            return os.lstat(name, dir_fd=self.fd)
        except FileNotFoundError:
            return None

    def read(self, name, cap=READ_CAP):
        """Bytes of a regular file in this directory, or None when it does not exist."""
        path = self.child(name)
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise UnsafePath(path, 'refusing %s: %s is a symlink' % (path, name)) from None
            raise UnsafePath(path, 'cannot read %s: %s' % (path, exc.strerror or exc)) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise UnsafePath(path, 'not a regular file: %s (%s)' % (path, _kind(info.st_mode)))
            _check_leaf_owner(info, path, self.uid)
            if info.st_size > cap:
                raise UnsafePath(path, '%s is %d bytes, above the cap of %d' % (path, info.st_size, cap))
            chunks = []
            size = 0
            while size <= cap:
                block = os.read(fd, min(65536, cap + 1 - size))
                if not block:
                    break
                chunks.append(block)
                size += len(block)
            if size > cap:
                raise UnsafePath(path, '%s is more than %d bytes, above the cap of %d' % (path, cap, cap))
            return b''.join(chunks)
        finally:
            os.close(fd)

    def check_leaf(self, name, allow_link=False):
        """lstat of an entry (None when missing); raises UnsafePath unless it is the user's regular file."""
        info = self.lstat(name)
        if info is not None and allow_link and stat.S_ISLNK(info.st_mode):
            return None
        if info is not None and not stat.S_ISREG(info.st_mode):
            path = self.child(name)
            if stat.S_ISLNK(info.st_mode):
                raise UnsafePath(path, 'refusing %s: %s is a symlink' % (path, name))
            raise UnsafePath(path, 'not a regular file: %s (%s)' % (path, _kind(info.st_mode)))
        if info is not None:
            _check_leaf_owner(info, self.child(name), self.uid)
        return info

    def write(self, name, data, mode=None, uid=None, gid=None, replace_link=False):
        """Replace (or create) a regular file atomically; owner and mode default to the old file's, else the home's user and 0600.

        With ``replace_link`` a symbolic link at ``name`` is replaced by the file (the rename does not follow it).
        """
        old = self.check_leaf(name, allow_link=replace_link)
        if mode is None:
            mode = stat.S_IMODE(old.st_mode) if old is not None else 0o600
        uid = uid if uid is not None else (old.st_uid if old is not None else self.uid)
        gid = gid if gid is not None else (old.st_gid if old is not None else self.gid)
        tmp = None
        for attempt in range(100):
            candidate = '.%s.%d.%d.tmp' % (name, os.getpid(), attempt)
            try:
                fd = os.open(candidate, _TMP_FLAGS, 0o600, dir_fd=self.fd)
            except FileExistsError:
                continue
            tmp = candidate
            break
        if tmp is None:
            raise UnsafePath(self.child(name), 'cannot create a temporary file beside %s' % self.child(name))
        try:
            try:
                if os.geteuid() == 0 and uid is not None:
                    os.fchown(fd, uid, -1 if gid is None else gid)
                os.fchmod(fd, mode)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            tmp = None
            os.fsync(self.fd)
        except OSError as exc:
            raise UnsafePath(self.child(name), 'cannot write %s: %s' % (self.child(name), exc.strerror or exc)) from None
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=self.fd)

    def remove(self, name):
        """Remove a regular file; True when there was one. A link or anything else is refused, not removed."""
        if self.check_leaf(name) is None:
            return False
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise UnsafePath(self.child(name), 'cannot remove %s: %s' % (self.child(name), exc.strerror or exc)) from None
        return True


def _check_leaf_owner(info, path, uid):
    if uid is None:
        return
    if info.st_uid == uid:
        return
    if info.st_uid == 0 and info.st_nlink == 1:
        return
    raise UnsafePath(path, 'refusing %s: it is owned by uid %d%s, not by uid %d' % (
        path, info.st_uid, ' and has %d links' % info.st_nlink if info.st_uid == 0 else '', uid))


def open_home(home, uid, gid=None):
    """Open a home directory (a path root controls, from the user database); it must belong to uid or root."""
    try:
        fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY | getattr(os, 'O_CLOEXEC', 0))
    except OSError as exc:
        raise UnsafePath(home, 'cannot open the home directory %s: %s' % (home, exc.strerror or exc)) from None
    info = os.fstat(fd)
    if info.st_uid not in (uid, 0):
        os.close(fd)
        raise UnsafePath(home, 'refusing %s: the home directory is owned by uid %d, not by uid %d or root' % (home, info.st_uid, uid))
    return HomeDir(fd, home.rstrip('/') or '/', uid, info.st_gid if gid is None else gid)


def _parts(relative):
    parts = [part for part in relative.split('/') if part not in ('', '.')]
    if '..' in parts:
        raise ValueError('%r must not contain ..' % relative)
    return parts


def walk(home, relative_dir, create_mode=None):
    """Open the directory ``relative_dir`` under an open home (a HomeDir), one no-follow component at a time.

    With ``create_mode`` missing directories are created with that mode, owned by the home's user.
    Returns a new HomeDir (the caller closes it; ``home`` stays open). Raises UnsafePath.
    """
    fd = os.dup(home.fd)
    path = home.path
    try:
        for name in _parts(relative_dir):
            path = os.path.join(path, name)
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if create_mode is None:
                    raise UnsafePath(path, 'the directory %s does not exist' % path) from None
                try:
                    os.mkdir(name, 0o700, dir_fd=fd)
                except FileExistsError:
                    pass
                except OSError as exc:
                    raise UnsafePath(path, 'cannot create %s: %s' % (path, exc.strerror or exc)) from None
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise _explain(fd, name, path, exc) from None
                if os.geteuid() == 0:
                    os.fchown(child, home.uid, home.gid)
                os.fchmod(child, create_mode)
            except OSError as exc:
                raise _explain(fd, name, path, exc) from None
            os.close(fd)
            fd = child
            _check_owner(os.fstat(fd), path, home.uid, name)
    except BaseException:
        os.close(fd)
        raise
    return HomeDir(fd, path, home.uid, home.gid)


def home_of(path):
    """(home, uid, gid) of the user whose home (from the user database) holds an absolute path.

    The candidates are the owners of the path's ancestors (lstat: a link is its creator's); a user's
    home counts only when the path is textually inside it, so a link cannot lend another user's home.
    """
    path = os.path.normpath(path)
    current = os.path.dirname(path)
    seen = set()
    while True:
        try:
            uid = os.lstat(current).st_uid
        except OSError:
            uid = None
        if uid is not None and uid not in seen:
            seen.add(uid)
            try:
                entry = pwd.getpwuid(uid)
            except KeyError:
                entry = None
            if entry is not None and entry.pw_dir not in ('', '/'):
                home = os.path.normpath(entry.pw_dir)
                if path.startswith(home + '/'):
                    return home, entry.pw_uid, entry.pw_gid
        parent = os.path.dirname(current)
        if parent == current:
            raise UnsafePath(path, '%s is not inside the home directory of its owner' % path)
        current = parent


@contextlib.contextmanager
def parent_of(path, create_mode=None):
    """The open directory holding ``path`` (an absolute path in a home), reached without following links.

    Yields (HomeDir, leaf name).
    """
    home, uid, gid = home_of(path)
    relative = os.path.relpath(path, home)
    with open_home(home, uid, gid) as top:
        with walk(top, os.path.dirname(relative), create_mode) as directory:
            yield directory, os.path.basename(relative)


def open_path_dir(directory):
    """Open any directory by path, following links (for files outside homes, or when running as the user)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, 'O_CLOEXEC', 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UnsafePath(directory, 'cannot open %s: %s' % (directory, exc.strerror or exc)) from None
    return HomeDir(fd, directory, None, None)
