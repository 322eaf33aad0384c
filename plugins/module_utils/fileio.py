# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""File safety: an exclusive lock per directory, atomic writes, backups.

- ``locked(path)`` holds an exclusive ``flock`` on the directory that holds
  ``path`` for a whole read-modify-write, so two tasks changing one store (or
  one SI home's files) on one host never lose each other's changes. Locking
  the directory rather than the file survives the atomic rename and leaves no
  lock file behind.
- ``atomic_write()`` writes a temporary file in the same directory, created
  0600 and given its final mode and owner before it is renamed over the old
  file, so a reader sees the old or the new complete file, and private
  material is never readable by others, not even for a moment.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import errno
import fcntl
import os
import stat
import tempfile

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError

TEMP_PREFIX = '.wso2si-'


@contextlib.contextmanager
def locked(path):
    directory = os.path.dirname(os.path.abspath(path)) or '.'
    if not os.path.isdir(directory):
        raise InvalidInputError('the directory %s does not exist' % directory)
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def read_file(path, what=None, limit=64 * 1024 * 1024):
    """Bytes of ``path``, or None when it does not exist. Refuses directories
    and files larger than ``limit`` with a plain sentence."""
    what = what or path
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise KeystoreError('cannot read %s: %s' % (what, exc.strerror)) from exc
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInputError('%s is a directory, not a file' % what)
    if st.st_size > limit:
        raise InvalidInputError('%s is %d bytes, larger than any keystore or configuration file this collection reads'
                                % (what, st.st_size))
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError as exc:
        raise KeystoreError('cannot read %s: %s' % (what, exc.strerror)) from exc


def atomic_write(path, data, mode=None, force_mode=False):
    """Replace ``path`` with ``data`` atomically.

    The new file keeps the old one's mode, owner and group; a new file gets
    ``mode`` (default 0600), and so does an existing one with ``force_mode``
    (set before the rename: a secrets file that was 0644 is never 0644 with
    its new content). Returns nothing; raises KeystoreError on failure after
    removing the temporary file, leaving the old file untouched.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise InvalidInputError('%s exists and is not a regular file' % path)
    if st is not None and not (force_mode and mode is not None):
        final_mode = stat.S_IMODE(st.st_mode)
    else:
        final_mode = 0o600 if mode is None else mode
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix='.tmp', dir=directory)  # created 0600
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            if st is not None and os.geteuid() == 0:
                os.fchown(fd, st.st_uid, st.st_gid)
            os.fchmod(fd, final_mode)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise KeystoreError('cannot write %s: %s; the previous file is unchanged' % (path, exc.strerror)) from exc
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - some file systems cannot fsync a directory
        pass


def backup(module, path):
    """``module.backup_local(path)`` with umask 077 while the copy is made.

    backup_local copies with shutil.copy2, which writes the whole content into a
    file created with the process umask (0644 under the common 022) and copies
    the mode only afterwards: a backup of a keystore or secrets file would hold
    private material readable by others for a moment. Returns the backup's path.
    """
    previous = os.umask(0o077)
    try:
        return module.backup_local(path)
    finally:
        os.umask(previous)


def remove_stale_temporaries(path, older_than=60):
    """Delete temporary files an interrupted write left beside ``path``."""
    import time
    directory = os.path.dirname(os.path.abspath(path))
    now = time.time()
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(TEMP_PREFIX) and name.endswith('.tmp'):
            full = os.path.join(directory, name)
            try:
                if now - os.lstat(full).st_mtime > older_than:
                    os.unlink(full)
            except OSError:
                pass
