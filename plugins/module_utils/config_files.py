# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Several of SI's configuration files changed as one: locked together, read as
text, written as one change (fileio's rules: atomic, owner and ACLs kept, a
private file never readable by others).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import WriteSet, locked, private_mode, read_file


@contextlib.contextmanager
def locked_all(paths):
    """Hold ``fileio.locked`` on the directory of every path, each directory once,
    taken in sorted order so two tasks never wait on each other crosswise."""
    directories = sorted(set(os.path.dirname(os.path.realpath(os.path.abspath(p))) for p in paths if p))
    with contextlib.ExitStack() as stack:
        for directory in directories:
            # locked() locks the directory holding its argument
            stack.enter_context(locked(os.path.join(directory, 'any-file-in-it')))
        yield


def write_files(files):
    """Write several files as one change (``fileio.WriteSet``), in the order given:
    each a dict(path, data, mode=None, backup=False, enforce_mode=False). Returns
    {path: backup file}."""
    ws = WriteSet()
    for f in files:
        private = bool(f.get('enforce_mode')) and f.get('mode') is not None
        ws.add(f['path'], f['data'], mode=f.get('mode'), private=private, backup=bool(f.get('backup')))
    return ws.commit()


def mode_differs(path, mode):
    """True when ``path`` exists and its mode is not what a write with
    ``enforce_mode`` would give it (``fileio.private_mode``)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_mode & 0o7777) != private_mode(mode, st, os.path.realpath(path))


def read_text(path, what):
    """The UTF-8 text of ``path``, or None when it does not exist."""
    data = read_file(path, what=what)
    if data is None:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise ConfigError('%s is not UTF-8 text' % what) from exc
