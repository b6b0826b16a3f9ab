# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge stamp: what a workstation looked like at the end of its last full converge.

A stamp holds the fingerprint of the controller-side inputs of that converge and a probe of every
path the roles manage. A later run whose fingerprint matches and whose probes all compare equal
can skip the roles: nothing they would do differs from the last time.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
import time

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import home_fs

STAMP_FORMAT = 2
# Files up to this size are compared by content; larger ones (the node and claude binaries) by
# size, modification time and inode, which every package manager and installer changes, and by the
# inode's change time: writing into the file in place updates it, and unlike the modification time
# no tool can set it back (touch -d restores the mtime, not the ctime).
DIGEST_LIMIT = 4 * 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)


def new_key():
    """A per-host key for the content digests (kept in the 0600 stamp, never shown)."""
    return secrets.token_hex(32)


def _digest(fd, size, key):
    """HMAC-SHA256 of the first ``size`` bytes of an open file.

    Keyed, so that a digest shown in verbose or diff output cannot be used to guess a secret-bearing
    file (settings.json, a client key, env.sh) offline. Reads st_size bytes and no more: a file of
    /proc that claims 0 bytes (a link to /proc/kmsg) is never read, so it cannot block.
    """
    mac = hmac.new(key.encode('ascii'), digestmod=hashlib.sha256)
    left = size
    while left > 0:
        block = os.read(fd, min(1024 * 1024, left))
        if not block:
            break
        mac.update(block)
        left -= len(block)
    return mac.hexdigest()


def _describe(info, opener, key):
    """Probe of one inode (already stat'ed); ``opener`` opens it for reading (no-follow, non-blocking)."""
    entry = {'mode': '%04o' % stat.S_IMODE(info.st_mode), 'uid': info.st_uid, 'gid': info.st_gid}
    if stat.S_ISDIR(info.st_mode):
        # Not the mtime: Claude Code and the user add files to managed directories all the time.
        entry['type'] = 'directory'
    elif stat.S_ISREG(info.st_mode):
        entry['type'] = 'file'
        entry['size'] = info.st_size
        if info.st_size <= DIGEST_LIMIT:
            fd = opener()
            try:
                opened = os.fstat(fd)
                if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
                    raise OSError(errno.EAGAIN, 'it changed while it was probed')
                entry['hmac'] = _digest(fd, min(opened.st_size, DIGEST_LIMIT), key)
            finally:
                os.close(fd)
        else:
            entry['mtime_ns'] = info.st_mtime_ns
            entry['ctime_ns'] = info.st_ctime_ns
            entry['inode'] = info.st_ino
    else:
        # FIFOs, sockets and devices are never opened.
        entry['type'] = 'other'
    return entry


def _error(exc):
    return {'exists': None, 'error': getattr(exc, 'strerror', None) or str(exc)}


def _probe_link(path, info, key):
    """A link: its text, and what it points to as seen by the link's owner (never by root for a user's link)."""
    entry = {'exists': True, 'type': 'link', 'link': os.readlink(path)}
    try:
        with as_user(info.st_uid, info.st_gid):
            target = os.stat(path)
            entry['target'] = _describe(target, lambda: os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)), key)
    except OSError:
        entry['target'] = {'exists': False}
    return entry


def probe(path, key=''):
    """Describe a path: absent, or its type, mode, owner and keyed content digest; symbolic links with their target.

    A path in a user's home is reached with home_fs (no link followed by root on the way; a linked
    directory on the way makes the probe an error, which ends the fast path). Only regular files are
    read, at most DIGEST_LIMIT bytes, never blocking.
    """
    try:
        with home_fs.parent_of(path) as (directory, name):
            return _probe_at(directory, name, key)
    except home_fs.UnsafePath as exc:
        if 'not inside the home directory' not in str(exc):
            if 'does not exist' in str(exc):
                return {'exists': False}
            return _error(exc)
    except OSError as exc:
        return _error(exc)
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {'exists': False}
    except OSError as exc:
        return _error(exc)
    if stat.S_ISLNK(info.st_mode):
        return _probe_link(path, info, key)
    entry = {'exists': True}
    try:
        entry.update(_describe(info, lambda: os.open(path, _OPEN_FLAGS), key))
    except OSError as exc:
        return _error(exc)
    return entry


def _probe_at(directory, name, key):
    info = directory.lstat(name)
    if info is None:
        return {'exists': False}
    if stat.S_ISLNK(info.st_mode):
        return _probe_link(directory.child(name), info, key)
    entry = {'exists': True}
    try:
        entry.update(_describe(info, lambda: os.open(name, _OPEN_FLAGS, dir_fd=directory.fd), key))
    except OSError as exc:
        return _error(exc)
    return entry


def probe_all(paths, key=''):
    """Probes of each distinct path, keyed by path."""
    return {path: probe(path, key) for path in sorted(set(paths))}


def _what_changed(before, after):
    if before.get('exists') and not after.get('exists'):
        return 'is gone'
    if not before.get('exists') and after.get('exists'):
        return 'appeared'
    if after.get('error'):
        return 'cannot be read (%s)' % after['error']
    if before.get('type') != after.get('type'):
        return 'is now a %s (was a %s)' % (after.get('type'), before.get('type'))
    if before.get('link') != after.get('link'):
        return 'now links to %s' % after.get('link')
    if before.get('type') == 'link':
        return 'link target ' + _what_changed(dict(before.get('target') or {}, exists=True),
                                              dict(after.get('target') or {}, exists=True))
    for key, label in (('mode', 'mode'), ('uid', 'owner'), ('gid', 'group')):
        if before.get(key) != after.get(key):
            return '%s changed from %s to %s' % (label, before.get(key), after.get(key))
    return 'content changed'


def compare(recorded, current):
    """Reasons the current probes differ from the recorded ones (empty when they are equal)."""
    reasons = []
    for path in sorted(recorded):
        if recorded[path] != current.get(path):
            reasons.append('%s %s' % (path, _what_changed(recorded[path], current.get(path) or {'exists': False})))
    return reasons


def load(path):
    """The stamp at path, or None when there is none or it cannot be used (never raises on bad content)."""
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get('format') != STAMP_FORMAT or not isinstance(data.get('paths'), dict) \
            or not isinstance(data.get('key'), str) or not data['key']:
        return None
    return data


def dump(data):
    """Serialise a stamp (stable key order, so an unchanged stamp is byte for byte the same)."""
    return json.dumps(data, indent=2, sort_keys=True) + '\n'


def save(path, data):
    """Write a stamp atomically, private to the writing user (0600); its directory is created 0700."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.converge-')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(dump(data))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def as_user(uid, gid):
    """Run the body with the effective uid and gid (and only the group gid) of a user, when root.

    Files in a user's home are then read and written with that user's rights only, as the settings
    role does with become_user: a symbolic link planted in the home cannot make root write elsewhere.
    """
    if os.geteuid() != 0 or uid == 0:
        yield
        return
    groups = os.getgroups()
    os.setgroups([gid])
    os.setegid(gid)
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


def age(path):
    """Seconds since the last full converge recorded the stamp at path (its modification time), or None."""
    try:
        return max(0.0, time.time() - os.stat(path).st_mtime)
    except OSError:
        return None


def keep_age(path, before):
    """Give a rewritten stamp back the modification time it had (a pins-only change is not a full converge)."""
    if before is not None:
        with contextlib.suppress(OSError):
            os.utime(path, (before.st_atime, before.st_mtime))


def evaluate(stamp, fingerprint, pins=None, stamp_age=None, max_age=0):
    """Whether a host is still converged: (current, reasons, pins_differ).

    pins_differ is true when nothing but the model pins differ: the fingerprint (which then leaves the
    pin variables out) and every probe are equal, and the stamp's pins are not the given ones.
    """
    if stamp is None:
        return False, ['no usable converge stamp (first converge with this collection, or the stamp was removed)'], False
    if stamp.get('fingerprint') != fingerprint:
        return False, ['the inputs changed since the last converge (variables, controller files, collection or resolved versions)'], False
    if max_age and stamp_age is not None and stamp_age > max_age:
        return False, ['the last full converge is %d s old, older than claude_fleet_stamp_max_age (%d s)' % (stamp_age, max_age)], False
    reasons = compare(stamp['paths'], probe_all(stamp['paths'], stamp['key']))
    if reasons:
        return False, reasons, False
    if pins is not None and stamp.get('pins') != pins:
        if stamp.get('pins') is None:
            return False, ['the last converge did not record model pins'], False
        changed = sorted(k for k in set(pins) | set(stamp['pins']) if pins.get(k) != stamp['pins'].get(k))
        return False, ['the model pins changed (%s)' % ', '.join(changed)], True
    return True, [], False
