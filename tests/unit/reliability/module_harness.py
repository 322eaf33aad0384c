# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Run a module file as Ansible would, with fault injection from outside.

    python module_harness.py CONFIG_JSON MODULE_FILE ARGS_FILE

CONFIG_JSON (all keys optional):

``limits``  {"as": bytes, "cpu": seconds, "fsize": bytes} set with setrlimit
            before the module starts (SIGXFSZ is ignored, so an oversized
            write fails with EFBIG as on a full disk).
``kill``    {"op": "mkstemp"|"write"|"fsync"|"fchmod"|"rename",
             "when": "before"|"after"|"partial", "nth": 1, "dir": DIR}:
            SIGKILL this process at the nth such call on a file in DIR
            ("partial": a write of half the buffer, then the kill).
``fail``    {"op": "mkstemp"|"write"|"rename", "dir": DIR, "nth": [1, ...],
             "errno": 13}, or a list of them: the nth such calls on a file in DIR (counted
            apart from ``kill``) raise OSError(errno) instead of running,
            e.g. a directory that is not writable, or a rename refused.
``record``  a file: one JSON line per write to, and rename of, a temporary
            file of the collection, and per backup copy, with the file's mode
            at that moment.
``umask``   the process umask (e.g. 0o022, the common default).
``shipped`` SHA-256 certificate fingerprints, and ``shipped_keys`` public key
            SHA-256s, the module must treat as shipped WSO2 ones (so tests
            need no real WSO2 key).

Nothing in the collection knows about this file: the module code runs unchanged.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os
import re
import resource
import runpy
import signal
import sys
import tempfile

TEMP_PREFIX = '.wso2si-'
# FILE.PID.YYYY-mm-dd@HH:MM:SS[.RANDOM]~
BACKUP_NAME = re.compile(r'^(.*)\.[0-9]+\.[0-9]{4}-[0-9]{2}-[0-9]{2}@[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9a-f]+)?~$')


def fd_path(fd):
    try:
        return os.readlink('/proc/self/fd/%d' % fd)
    except OSError:
        return ''


def main():
    config = json.loads(sys.argv[1])
    module_file, args_file = sys.argv[2], sys.argv[3]

    limits = config.get('limits') or {}
    if limits.get('as'):
        resource.setrlimit(resource.RLIMIT_AS, (limits['as'], limits['as']))
    if limits.get('cpu'):
        resource.setrlimit(resource.RLIMIT_CPU, (limits['cpu'], limits['cpu'] + 5))
    if limits.get('fsize'):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits['fsize'], limits['fsize']))

    if config.get('umask') is not None:
        os.umask(config['umask'])

    kill = config.get('kill')
    record = config.get('record')
    fails = config.get('fail') or []
    fails = [fails] if isinstance(fails, dict) else fails
    counts = {}
    fail_counts = {}

    def fail_now(op, path):
        for n, fail in enumerate(fails):
            if fail['op'] != op or not path:
                continue
            if os.path.dirname(os.path.abspath(path)) != os.path.abspath(fail['dir']):
                continue
            fail_counts[n] = fail_counts.get(n, 0) + 1
            if fail_counts[n] in fail.get('nth', [1]):
                code = fail.get('errno', errno.EACCES)
                raise OSError(code, os.strerror(code), path)

    def in_scope(path):
        if not kill or not path:
            return False
        return os.path.dirname(os.path.abspath(path)) == os.path.abspath(kill['dir'])

    def maybe_kill(op, path, when):
        if not in_scope(path) or kill['op'] != op:
            return
        if when == 'before':
            counts[op] = counts.get(op, 0) + 1
        if counts.get(op) == kill.get('nth', 1) and kill.get('when', 'before') == when:
            os.kill(os.getpid(), signal.SIGKILL)

    def note(event, path, **extra):
        if not record:
            return
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = None
        line = dict(event=event, path=path, mode=mode)
        line.update(extra)
        with open(record, 'a') as f:
            f.write(json.dumps(line) + '\n')

    real_write, real_fsync, real_fchmod, real_rename = os.write, os.fsync, os.fchmod, os.rename
    real_mkstemp = tempfile.mkstemp

    def write(fd, data):
        path = fd_path(fd)
        if os.path.basename(path).startswith(TEMP_PREFIX):
            note('write', path, size=len(data))
        backup_of = BACKUP_NAME.match(path)
        if backup_of:
            # a backup the collection writes itself (fileio.make_backup): its content goes in here
            note('backup', path, source=backup_of.group(1))
        fail_now('write', path)
        if kill and kill['op'] == 'write' and in_scope(path):
            counts['write'] = counts.get('write', 0) + 1
            if counts['write'] == kill.get('nth', 1):
                when = kill.get('when', 'before')
                if when == 'partial':
                    real_write(fd, bytes(memoryview(data)[:max(1, len(data) // 2)]))
                if when in ('before', 'partial'):
                    os.kill(os.getpid(), signal.SIGKILL)
                written = real_write(fd, data)
                os.kill(os.getpid(), signal.SIGKILL)
                return written
        return real_write(fd, data)

    def fsync(fd):
        path = fd_path(fd)
        maybe_kill('fsync', path, 'before')
        out = real_fsync(fd)
        maybe_kill('fsync', path, 'after')
        return out

    def fchmod(fd, mode):
        path = fd_path(fd)
        maybe_kill('fchmod', path, 'before')
        out = real_fchmod(fd, mode)
        maybe_kill('fchmod', path, 'after')
        return out

    def rename(src, dst, *args, **kwargs):
        if os.path.basename(str(src)).startswith(TEMP_PREFIX):
            note('rename', str(src), dest=str(dst))
        maybe_kill('rename', str(dst), 'before')
        fail_now('rename', str(dst))
        out = real_rename(src, dst, *args, **kwargs)
        maybe_kill('rename', str(dst), 'after')
        return out

    def mkstemp(*args, **kwargs):
        directory = kwargs.get('dir') or tempfile.gettempdir()
        probe = os.path.join(directory, 'x')
        maybe_kill('mkstemp', probe, 'before')
        fail_now('mkstemp', probe)
        fd, path = real_mkstemp(*args, **kwargs)
        if os.path.basename(path).startswith(TEMP_PREFIX):
            note('create', path)
        maybe_kill('mkstemp', probe, 'after')
        return fd, path

    os.write, os.fsync, os.fchmod, os.rename = write, fsync, fchmod, rename
    tempfile.mkstemp = mkstemp

    if record:
        import shutil
        real_copystat = shutil.copystat

        def copystat(src, dst, *args, **kwargs):
            # a backup (AnsibleModule.backup_local: shutil.copy2) holds the whole content here
            note('backup', str(dst), source=str(src))
            return real_copystat(src, dst, *args, **kwargs)
        shutil.copystat = copystat

    if config.get('shipped') or config.get('shipped_keys'):
        from ansible_collections.wso2si.keystores.plugins.module_utils import defaults
        for fp in config.get('shipped') or []:
            defaults.SHIPPED_WSO2_CERT_SHA256[fp] = 'a test certificate standing in for a shipped WSO2 key'
        for fp in config.get('shipped_keys') or []:
            defaults.SHIPPED_WSO2_PUBLIC_KEY_SHA256[fp] = 'a test key standing in for a shipped WSO2 key'

    sys.argv = [module_file, args_file]
    runpy.run_path(module_file, run_name='__main__')


if __name__ == '__main__':
    main()
