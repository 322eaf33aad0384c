# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""File safety: an exclusive lock per directory, atomic writes, backups.

The rules every module that writes a file follows (docs/files.md says them to
users):

- ``locked(path)`` holds an exclusive ``flock`` on the directory that holds
  ``path`` for a whole read-modify-write, so two tasks changing one store (or
  one SI home's files) on one host never lose each other's changes. Locking
  the directory rather than the file survives the atomic rename and leaves no
  lock file behind.
- A path that is a symbolic link is followed (``resolve``): the link stays,
  its target is written atomically in the target's own directory, and the
  lock, the temporary file and the backup are all beside the target.
- ``atomic_write()`` writes a temporary file in the same directory, created
  0600, gives it its final owner, group, extended attributes (POSIX ACLs,
  SELinux label, ``user.*``) and mode, and renames it over the old file: a
  reader sees the old or the new complete file, and private material is never
  readable by others, not even for a moment.
- Ownership, one rule: a file takes the owner and group of the file it
  replaces or, for a new file, of its directory, unless ``owner``/``group``
  are given.
- ``private=True`` (secrets files): never readable by others; the group's
  read access is kept when the old file had it; a file that a reader (the
  directory's owner) can only read through "others" is refused, never
  silently locked away from that reader.
- ``WriteSet`` writes several files as one change: every file is checked
  writable first, and when a later write still fails, the earlier ones are
  put back from their content before the change.
- ``make_backup()`` never follows or reuses anything at the backup's name:
  ``O_CREAT|O_EXCL|O_NOFOLLOW``, 0600 from the first byte, an unpredictable
  name, then the original's owner and mode set on the open descriptor.
- Every ``OSError`` becomes a ``KeystoreError`` with one sentence naming the
  file.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import contextlib
import errno
import fcntl
import grp
import os
import pwd
import stat
import struct
import tempfile
import time

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError

TEMP_PREFIX = '.wso2si-'
BACKUP_ATTEMPTS = 32
# FS_IOC_GETFLAGS and the immutable / append-only inode flags (chattr +i / +a), Linux
FS_IOC_GETFLAGS = 0x80086601
FS_IMMUTABLE_FL = 0x10
FS_APPEND_FL = 0x20
NO_XATTRS = (errno.ENOTSUP, getattr(errno, 'EOPNOTSUPP', errno.ENOTSUP), errno.ENOSYS)


class PartialWriteError(KeystoreError):
    """A write of several files failed part way. ``result`` holds what the module
    reports beside the message: ``changed`` (True when a file stays changed) and
    ``backup_files``."""

    def __init__(self, msg, changed=False, backup_files=None):
        super(PartialWriteError, self).__init__(msg)
        self.result = dict(changed=changed)
        if backup_files:
            self.result['backup_files'] = backup_files


def os_error_sentence(exc, what=None):
    """One sentence for an ``OSError``, naming the file."""
    name = what or getattr(exc, 'filename', None)
    reason = getattr(exc, 'strerror', None) or str(exc)
    if name:
        return 'cannot access %s: %s' % (name, reason)
    return 'a file operation failed: %s' % reason


def resolve(path):
    """The file a write to ``path`` changes: symbolic links are followed to their
    final target (which is then written in its own directory)."""
    return os.path.realpath(os.path.abspath(path))


def write_target(path):
    """The file a write to ``path`` replaces: ``path`` itself, or, for a symbolic
    link, its final target (written in the target's own directory; the link
    stays). A link is followed only when root or this process owns it, or when
    its owner owns what it points to (for a missing target: its directory):
    a link planted by a user never redirects a write to a file that user could
    not change. Otherwise, and for a loop, InvalidInputError."""
    current = os.path.abspath(path)
    for dummy in range(40):
        try:
            st = os.lstat(current)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return os.path.join(os.path.realpath(os.path.dirname(current)), os.path.basename(current))
            raise KeystoreError('cannot read %s: %s' % (current, exc.strerror)) from exc
        if not stat.S_ISLNK(st.st_mode):
            return os.path.realpath(current)
        following = os.path.abspath(os.path.join(os.path.dirname(current), os.readlink(current)))
        try:
            owner = os.stat(following).st_uid
        except OSError:
            try:
                owner = os.stat(os.path.dirname(following)).st_uid
            except OSError as exc:
                raise InvalidInputError('%s is a symbolic link to %s, whose directory does not exist'
                                        % (path, following)) from exc
        if st.st_uid not in (0, os.geteuid(), owner):
            raise InvalidInputError(
                '%s is a symbolic link to %s, made by %s, who does not own that file: a link is followed only to a '
                'file its owner could change itself; replace the link by the file, or point the path at the file; '
                'nothing was changed' % (path, following, _user_name(st.st_uid)))
        current = following
    raise InvalidInputError('%s is a loop of symbolic links; nothing was changed' % path)


@contextlib.contextmanager
def locked(path):
    directory = os.path.dirname(resolve(path)) or '.'
    if not os.path.isdir(directory):
        raise InvalidInputError('the directory %s does not exist' % directory)
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as exc:
        raise KeystoreError('cannot open the directory %s to lock it: %s' % (directory, exc.strerror)) from exc
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


# ---------------------------------------------------------------- ownership, modes, attributes

def _uid(owner):
    if owner is None or isinstance(owner, int):
        return owner
    if str(owner).isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise InvalidInputError('the user %s does not exist on this host' % owner)


def _gid(group):
    if group is None or isinstance(group, int):
        return group
    if str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise InvalidInputError('the group %s does not exist on this host' % group)


def wanted_owner(old_stat, directory, owner=None, group=None):
    """(uid, gid) of a file written at a path: the replaced file's owner and group,
    for a new file its directory's, unless ``owner``/``group`` are given."""
    ref = old_stat if old_stat is not None else os.stat(directory)
    uid = _uid(owner)
    gid = _gid(group)
    return (ref.st_uid if uid is None else uid, ref.st_gid if gid is None else gid)


def _set_owner(fd, uid, gid):
    """fchown ``fd`` to uid:gid. Root gives any owner; another user can only
    give a group it is in, and keeps the file otherwise (as ``chown`` would)."""
    current = os.fstat(fd)
    if (current.st_uid, current.st_gid) == (uid, gid):
        return
    if os.geteuid() == 0:
        os.fchown(fd, uid, gid)
        return
    if current.st_gid != gid:
        try:
            os.fchown(fd, -1, gid)
        except OSError as exc:
            if exc.errno != errno.EPERM:
                raise


def _reader(path):
    """The user who reads the file besides its owner: the owner of its directory
    (SI's user, in an SI home), or None."""
    try:
        return os.stat(os.path.dirname(os.path.abspath(path))).st_uid
    except OSError:
        return None


def private_mode(mode, old_stat=None, path=None):
    """The mode of a private (secrets) file: ``mode`` without any access for
    others. The group's read access is kept when the old file gave it on
    purpose: a file that was group-readable but not world-readable (0640, SI's
    user in the group, or an ACL whose mask is the group bits), or a
    world-readable one whose reader (the directory's owner, see ``_reader``) is
    not its owner but is in its group."""
    final = mode & ~0o077
    if old_stat is None:
        return final
    old = stat.S_IMODE(old_stat.st_mode)
    if not old & 0o040:
        return final
    if not old & 0o004:
        return final | 0o040
    reader = _reader(path) if path else None
    if reader is not None and reader != old_stat.st_uid and _in_group(reader, old_stat.st_gid):
        return final | 0o040
    return final


def _user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return 'uid %d' % uid


def _in_group(uid, gid):
    try:
        user = pwd.getpwuid(uid)
    except KeyError:
        return False
    if user.pw_gid == gid:
        return True
    try:
        return user.pw_name in grp.getgrgid(gid).gr_mem
    except KeyError:
        return False


def _has_acl(path):
    try:
        return 'system.posix_acl_access' in os.listxattr(path)
    except OSError:
        return False


def check_private_readers(path, old_stat, final_mode, what=None):
    """Refuse to make ``path`` private when the owner of its directory (the user
    SI runs as, in an SI home) reads it today only through "others"."""
    if old_stat is None or not old_stat.st_mode & 0o004 or final_mode & 0o004:
        return
    reader = _reader(path)
    if reader is None:
        return
    if reader == old_stat.st_uid or (_in_group(reader, old_stat.st_gid) and final_mode & 0o040) or _has_acl(path):
        return
    name = _user_name(reader)
    raise InvalidInputError(
        '%s is readable by others (mode %04o) and %s, who owns its directory (SI\'s user), can read it only that way; '
        'making it private (%04o) would lock %s out: give the file to %s, or to a group %s is in with mode 0640, '
        'and run again; nothing was changed'
        % (what or path, stat.S_IMODE(old_stat.st_mode), name, final_mode, name, name, name))


def copy_xattrs(source, fd, what):
    """Copy every extended attribute of ``source`` (POSIX ACLs, the SELinux label,
    ``user.*``...) to the open file ``fd``. One this process may not set is an
    error unless ``fd`` already has the same value."""
    try:
        names = os.listxattr(source)
    except OSError as exc:
        if exc.errno in NO_XATTRS or exc.errno == errno.ENOENT:
            return
        raise
    for name in names:
        try:
            value = os.getxattr(source, name)
        except OSError as exc:
            if exc.errno == errno.ENODATA or exc.errno in NO_XATTRS:
                continue
            raise
        try:
            os.setxattr(fd, name, value)
        except OSError as exc:
            try:
                same = os.getxattr(fd, name) == value
            except OSError:
                same = False
            if not same:
                raise KeystoreError('cannot copy the extended attribute %s of %s to its new content: %s'
                                    % (name, what, exc.strerror)) from exc


def _inode_flags(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0))
    except OSError:
        return 0
    try:
        return struct.unpack('i', fcntl.ioctl(fd, FS_IOC_GETFLAGS, bytes(8))[:4])[0]
    except (OSError, IOError, struct.error):
        return 0
    finally:
        os.close(fd)


def check_writable(path, what=None):
    """Raise KeystoreError unless ``path`` (resolved) can be replaced now: a
    temporary file can be created (and is removed) beside it, and the file is
    not immutable or append-only."""
    what = what or path
    target = write_target(path)
    directory = os.path.dirname(target)
    try:
        st = os.lstat(target)
    except OSError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise InvalidInputError('%s exists and is not a regular file' % what)
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix='.tmp', dir=directory)
    except OSError as exc:
        raise KeystoreError('cannot write %s: cannot create a file in %s: %s' % (what, directory, exc.strerror)) from exc
    os.close(fd)
    try:
        os.unlink(tmp)
    except OSError:
        pass
    if st is not None and _inode_flags(target) & (FS_IMMUTABLE_FL | FS_APPEND_FL):
        raise KeystoreError('cannot write %s: it is marked immutable or append-only (chattr +i/+a)' % what)


# ---------------------------------------------------------------- atomic write

def atomic_write(path, data, mode=None, force_mode=False, owner=None, group=None, private=False):
    """Replace ``path`` (a symbolic link: its target) with ``data`` atomically.

    Owner and group: those of the file replaced, or for a new file of its
    directory, unless ``owner``/``group`` are given (set as root; another user
    can only give its own groups). Mode: the old file's; a new file gets
    ``mode`` (default 0600), and so does an existing one with ``force_mode``
    (set before the rename: a secrets file that was 0644 is never 0644 with its
    new content). ``private`` (implies ``force_mode``): ``private_mode``, and a
    reader that would lose access is refused (``check_private_readers``).
    Extended attributes (ACLs, SELinux label) of the old file are kept.
    Returns nothing; raises KeystoreError on failure after removing the
    temporary file, leaving the old file untouched.
    """
    target = write_target(path)
    directory = os.path.dirname(target)
    try:
        st = os.stat(target)
    except OSError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise InvalidInputError('%s exists and is not a regular file' % path)
    unchanged = 'the previous file is unchanged' if st is not None else 'nothing was written'
    if private:
        final_mode = private_mode(0o600 if mode is None else mode, st, target)
        check_private_readers(target, st, final_mode, what=path)
    elif st is not None and not (force_mode and mode is not None):
        final_mode = stat.S_IMODE(st.st_mode)
    else:
        final_mode = 0o600 if mode is None else mode
    try:
        uid, gid = wanted_owner(st, directory, owner, group)
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix='.tmp', dir=directory)  # created 0600
    except OSError as exc:
        raise KeystoreError('cannot write %s: cannot create a temporary file in %s: %s; %s'
                            % (path, directory, exc.strerror, unchanged)) from exc
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            _set_owner(fd, uid, gid)
            if st is not None:
                copy_xattrs(target, fd, path)
            os.fchmod(fd, final_mode)
        finally:
            os.close(fd)
        os.rename(tmp, target)
    except (OSError, KeystoreError) as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, KeystoreError):
            raise KeystoreError('%s; %s' % (exc, unchanged)) from exc
        raise KeystoreError('cannot write %s: %s; %s' % (path, exc.strerror, unchanged)) from exc
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - some file systems cannot fsync a directory
        pass


# ---------------------------------------------------------------- several files as one change

class _Change(object):
    def __init__(self, path, data, mode, force_mode, private, backup, owner, group):
        self.path = path
        self.data = data
        self.mode = mode
        self.force_mode = force_mode
        self.private = private
        self.backup = backup
        self.owner = owner
        self.group = group
        self.before = None
        self.before_stat = None
        self.written = False


class WriteSet(object):
    """Several files changed as one: ``add()`` each in the order they must be
    written (a file that names another comes after it), then ``commit()``.

    Before the first write every file is checked writable (a temporary file is
    created and removed beside each, as this user; immutable files are
    refused) and its content read. When a later write still fails, the files
    already written are put back, newest first, from that content; the error
    says exactly which files were restored and which (if a restore failed too)
    keep their new content, and carries ``changed`` for the module result.
    The caller holds the locks (``locked``) of every directory.
    """

    def __init__(self):
        self.changes = []

    def add(self, path, data, mode=None, force_mode=False, private=False, backup=False, owner=None, group=None):
        self.changes.append(_Change(path, data, mode, force_mode, private, backup, owner, group))

    def commit(self):
        """Write every file; returns {path: backup file} for the backups made."""
        for c in self.changes:
            try:
                check_writable(c.path)
            except InvalidInputError:
                raise
            except KeystoreError as exc:
                raise PartialWriteError('%s; nothing was changed' % exc) from exc
            target = write_target(c.path)
            try:
                c.before_stat = os.stat(target)
            except OSError:
                c.before_stat = None
            if c.before_stat is not None:
                c.before = read_file(target, what=c.path)
            if c.private:
                final = private_mode(0o600 if c.mode is None else c.mode, c.before_stat, target)
                check_private_readers(target, c.before_stat, final, what=c.path)
        backups = {}
        for c in self.changes:
            if c.backup and c.before_stat is not None:
                backups[c.path] = make_backup(c.path)
        for n, c in enumerate(self.changes):
            try:
                atomic_write(c.path, c.data, mode=c.mode, force_mode=c.force_mode, private=c.private,
                             owner=c.owner, group=c.group)
            except KeystoreError as exc:
                raise self._undo(self.changes[:n], exc, backups)
            c.written = True
        return backups

    def _undo(self, written, exc, backups):
        first = str(exc).replace('; the previous file is unchanged', '').replace('; nothing was written', '')
        if not written:
            return PartialWriteError(str(exc), changed=False, backup_files=backups)
        restored, kept, failure = [], [], None
        for c in reversed(written):
            if failure is None:
                try:
                    if c.before_stat is None:
                        os.unlink(write_target(c.path))
                    else:
                        atomic_write(c.path, c.before, mode=stat.S_IMODE(c.before_stat.st_mode), force_mode=True)
                    restored.append(c.path)
                    continue
                except (OSError, KeystoreError) as undo_exc:
                    failure = (c.path, getattr(undo_exc, 'strerror', None) or str(undo_exc))
            kept.append(c.path)
        msg = '%s; that file is unchanged' % first
        if restored:
            msg += '; %s, written before it, %s put back as %s before this task' % (
                _and(list(reversed(restored))), 'was' if len(restored) == 1 else 'were', 'it was' if len(restored) == 1 else 'they were')
        if kept:
            msg += '; putting %s back failed (%s), so %s %s the new content' % (
                failure[0], failure[1], _and(list(reversed(kept))), 'keeps' if len(kept) == 1 else 'keep')
        return PartialWriteError(msg, changed=bool(kept), backup_files=backups)


def _and(names):
    return names[0] if len(names) == 1 else '%s and %s' % (', '.join(names[:-1]), names[-1])


# ---------------------------------------------------------------- backups

def _random_token():
    return binascii.hexlify(os.urandom(6)).decode('ascii')


def backup_name(target, token):
    """``FILE.PID.YYYY-mm-dd@HH:MM:SS.RANDOM~`` beside the file; the rollback
    playbook finds backups by ``FILE.<digits>.*~``."""
    return '%s.%d.%s.%s~' % (target, os.getpid(), time.strftime('%Y-%m-%d@%H:%M:%S', time.localtime(time.time())),
                             token)


def make_backup(path):
    """Copy ``path`` (a symbolic link: its target) to a new file beside it and
    return the backup's path.

    The backup is created with ``O_CREAT|O_EXCL|O_NOFOLLOW`` and mode 0600, so
    nothing found at its name (a planted link, dangling or not, a file someone
    made) is ever followed, reused or written; its name has a random part, and
    a taken name is skipped for a new one. The content is synced, then the
    original's owner, group, extended attributes and mode (and times) are set
    on the open descriptor.
    """
    target = write_target(path)
    cloexec = getattr(os, 'O_CLOEXEC', 0)
    try:
        src = os.open(target, os.O_RDONLY | cloexec)
    except OSError as exc:
        raise KeystoreError('cannot back up %s: %s; nothing was changed' % (path, exc.strerror)) from exc
    name = None
    try:
        st = os.fstat(src)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInputError('%s is not a regular file' % path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | cloexec
        for dummy in range(BACKUP_ATTEMPTS):
            candidate = backup_name(target, _random_token())
            try:
                fd = os.open(candidate, flags, 0o600)
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ELOOP):
                    continue
                raise
            name = candidate
            break
        else:
            raise KeystoreError('cannot back up %s: %d candidate names beside it were all taken; nothing was changed'
                                % (path, BACKUP_ATTEMPTS))
        try:
            while True:
                chunk = os.read(src, 1024 * 1024)
                if not chunk:
                    break
                view = memoryview(chunk)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            os.fsync(fd)
            _set_owner(fd, st.st_uid, st.st_gid)
            copy_xattrs(target, fd, path)
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(fd)
    except (OSError, KeystoreError) as exc:
        if name is not None:
            try:
                os.unlink(name)
            except OSError:
                pass
        if isinstance(exc, KeystoreError):
            raise
        raise KeystoreError('cannot back up %s to %s: %s; nothing was changed'
                            % (path, name or os.path.dirname(target), exc.strerror)) from exc
    finally:
        os.close(src)
    return name


def backup(module, path):
    """``make_backup(path)``; ``module`` is not used (kept for callers)."""
    return make_backup(path)


def remove_stale_temporaries(path, older_than=60):
    """Delete temporary files an interrupted write left beside ``path``."""
    directory = os.path.dirname(resolve(path))
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
