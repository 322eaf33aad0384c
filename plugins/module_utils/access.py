# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Can SI's user read every file SI opens at start?

A store SI cannot read stops SI at start (docs/si-reads.md), and a task run
with become-root sees no problem with a root-owned 0600 file. ``unreadable(path,
user)`` answers for a given user: with ``os.access`` when this process runs as
that user, otherwise from the owner, group, mode and POSIX access ACL of the file
and the search permission of every directory on the way to it, as the kernel
decides (acl(5) "access check algorithm"). ``startup_files(doc, ...)`` lists what
SI opens at start: deployment.yaml, every store it names, the vault keystore,
secrets.properties and master-keys.yaml.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import grp
import os
import pwd
import stat
import struct

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.si_deployment import profile_of
from ansible_collections.wso2si.keystores.plugins.module_utils.si_locations import (
    OPTIONAL_LOCATIONS, STORE_OF_ROLE, locations_for, resolve_config_path, vault_references,
)

READ, WRITE, EXECUTE = 4, 2, 1

# acl(5) entry tags, as the kernel stores them in the system.posix_acl_access attribute
ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ACL_XATTR = 'system.posix_acl_access'
ACL_XATTR_VERSION = 2


class User(object):
    """A user as the kernel sees it: uid and every group id."""

    def __init__(self, name, uid, gids):
        self.name = name
        self.uid = uid
        self.gids = frozenset(gids)

    def __repr__(self):
        return 'User(%r, %d)' % (self.name, self.uid)


def lookup_user(name_or_uid):
    """The User for a user name or numeric uid (InvalidInputError when unknown)."""
    text = str(name_or_uid)
    try:
        entry = pwd.getpwuid(int(text)) if text.isdigit() else pwd.getpwnam(text)
    except (KeyError, ValueError):
        raise InvalidInputError('the user %r does not exist on this host' % text)
    try:
        gids = os.getgrouplist(entry.pw_name, entry.pw_gid)
    except (AttributeError, OSError):  # pragma: no cover - platforms without getgrouplist
        gids = [entry.pw_gid] + [g.gr_gid for g in grp.getgrall() if entry.pw_name in g.gr_mem]
    return User(entry.pw_name, entry.pw_uid, gids)


def owner_of(path):
    """The User owning ``path`` (InvalidInputError when the uid has no passwd entry)."""
    uid = os.stat(path).st_uid
    try:
        return lookup_user(uid)
    except InvalidInputError:
        raise InvalidInputError('%s is owned by uid %d, which has no user on this host; set si_user to the user SI '
                                'runs as' % (path, uid))


def parse_acl(data):
    """[(tag, perm, id)] from the bytes of a system.posix_acl_access attribute (None when unreadable)."""
    if len(data) < 4 or (len(data) - 4) % 8:
        return None
    if struct.unpack('<I', data[:4])[0] != ACL_XATTR_VERSION:
        return None
    return [struct.unpack('<HHI', data[i:i + 8]) for i in range(4, len(data), 8)]


def read_acl(path):
    """The file's access ACL entries, or None when it has none beyond its mode."""
    getxattr = getattr(os, 'getxattr', None)
    if getxattr is None:  # pragma: no cover - not Linux
        return None
    try:
        data = getxattr(path, ACL_XATTR)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, getattr(errno, 'ENOATTR', errno.ENODATA), errno.ENOTSUP, errno.EOPNOTSUPP):
            return None
        raise
    return parse_acl(data)


def allowed(st, acl, user, want):
    """True when ``user`` has every permission bit in ``want`` (READ/EXECUTE...) on a file
    with stat ``st`` and access ACL ``acl`` (None: the mode alone), as acl(5) decides."""
    if user.uid == 0:
        # CAP_DAC_OVERRIDE: read and search always; execute of a file needs one x bit
        return not (want & EXECUTE) or stat.S_ISDIR(st.st_mode) or bool(st.st_mode & 0o111)
    mode = st.st_mode
    if not acl:
        if user.uid == st.st_uid:
            bits = mode >> 6
        elif st.st_gid in user.gids:
            bits = mode >> 3
        else:
            bits = mode
        return bits & want == want
    entries = dict(((tag, ident) if tag in (ACL_USER, ACL_GROUP) else (tag, None), perm) for tag, perm, ident in acl)
    mask = entries.get((ACL_MASK, None), 7)
    if user.uid == st.st_uid:
        return entries.get((ACL_USER_OBJ, None), mode >> 6) & want == want
    if (ACL_USER, user.uid) in entries:
        return entries[(ACL_USER, user.uid)] & mask & want == want
    groups = []
    if st.st_gid in user.gids:
        groups.append(entries.get((ACL_GROUP_OBJ, None), mode >> 3))
    groups.extend(perm for (tag, ident), perm in entries.items() if tag == ACL_GROUP and ident in user.gids)
    if groups:
        # a matching group entry that grants it; matching entries that do not grant it deny
        return any(perm & mask & want == want for perm in groups)
    return entries.get((ACL_OTHER, None), mode) & want == want


def describe(path, st):
    def name(lookup, ident):
        try:
            return lookup(ident)[0]
        except KeyError:
            return str(ident)
    return '%s:%s %04o' % (name(pwd.getpwuid, st.st_uid), name(grp.getgrgid, st.st_gid), stat.S_IMODE(st.st_mode))


def _directories(path):
    """Every directory the kernel searches to open ``path``, following symbolic links."""
    seen = []
    for p in (os.path.abspath(path), os.path.realpath(path)):
        d = os.path.dirname(p)
        chain = []
        while True:
            chain.append(d)
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
        for d in reversed(chain):
            if d not in seen:
                seen.append(d)
    return seen


def unreadable(path, user, new_file=None):
    """None when ``user`` can read ``path``, otherwise the reason in a few words.
    ``new_file``: (uid, gid, mode) of a file this task is about to create there."""
    if user.uid == os.geteuid() and new_file is None:
        if os.access(path, os.R_OK, effective_ids=os.access in os.supports_effective_ids):
            return None
        return 'cannot read it'
    for d in _directories(path):
        try:
            st = os.stat(d)
        except OSError:
            continue  # a missing directory is not this check's business
        if not allowed(st, read_acl(d), user, EXECUTE):
            return 'cannot enter the directory %s (%s)' % (d, describe(d, st))
    if new_file is not None:
        uid, gid, mode = new_file
        st = os.stat_result((stat.S_IFREG | mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))
        if not allowed(st, None, user, READ):
            return 'the file would be created as %s' % describe(path, st)
        return None
    st = os.stat(path)
    if not allowed(st, read_acl(path), user, READ):
        return 'the file is %s' % describe(path, st)
    return None


def new_file_owner(path, mode):
    """(uid, gid, mode) a module of this collection gives a file it creates at ``path``:
    the directory's owner when running as root (fileio's rule), this process otherwise."""
    dst = os.stat(os.path.dirname(os.path.abspath(path)))
    if os.geteuid() == 0:
        return dst.st_uid, dst.st_gid, mode
    gid = dst.st_gid if dst.st_mode & stat.S_ISGID else os.getegid()
    return os.geteuid(), gid, mode


def startup_files(doc, si_home, deployment_path):
    """[(path, what)]: the files SI opens at start, as ``doc`` (a DeploymentConfig) names them."""
    out = [(deployment_path, 'the configuration')]
    for loc in locations_for(profile_of(doc), doc) + OPTIONAL_LOCATIONS:
        values = doc.values(loc) or {}
        for key, role in loc.keys:
            if role in ('keystore_path', 'truststore_path') and key in values:
                out.append((resolve_config_path(values[key], si_home), 'the %s named at %s > %s'
                            % (STORE_OF_ROLE[role], loc.label, key)))
    vault = vault_references(doc, si_home)
    if vault.keystore_location:
        out.append((vault.keystore, 'the secure vault keystore'))
    out.append((vault.secrets_file, 'the secrets file'))
    out.append((vault.master_keys_file, 'the master keys file'))
    seen, files = set(), []
    for path, what in out:
        if path is not None and path not in seen:
            seen.add(path)
            files.append((path, what))
    return files


def startup_access_problems(doc, si_home, deployment_path, user, new_files=None):
    """[(path, what, reason)] for every file SI opens at start that ``user`` cannot read.
    Files that do not exist are left to the other checks, unless ``new_files`` (path ->
    (uid, gid, mode)) says this task creates them."""
    new_files = new_files or {}
    problems = []
    for path, what in startup_files(doc, si_home, deployment_path):
        created = new_files.get(path)
        if created is None and not os.path.exists(path):
            continue
        reason = unreadable(path, user, created if created is not None and not os.path.exists(path) else None)
        if reason:
            problems.append((path, what, reason))
    return problems


def problem_sentence(user, path, what, reason):
    return 'SI runs as %s, who cannot read %s %s: %s; SI would not start' % (user.name, what, path, reason)
