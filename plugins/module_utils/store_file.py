# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What every store-handling module does around its own logic: the shared
options, opening the store once (with ``old_password`` for rotation), saving it
once (locked, atomic, with an optional backup), file attributes, diffs, and
turning the error root into ``fail_json``.

A module's ``main()`` is then::

    module = argspec.store().merge(...).create_ansible_module(...)
    run(module, MyBackend.execute)

where ``MyBackend.execute(module)`` (``backends/``) returns the result dict; the
shared options are in ``argspec.py``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import shipped_entries
from ansible_collections.wso2si.keystores.plugins.module_utils.deps import check_dependencies
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    InvalidInputError, KeystoreError, UnsupportedContentError, WrongPasswordError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import (
    PartialWriteError, atomic_write, locked, make_backup, os_error_sentence, read_file, remove_stale_temporaries,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore, check_password, normalize_alias

# the shipped WSO2 password (docs/si-reference.md section 4): using it protects nothing
DEFAULT_WSO2_PASSWORD = 'wso2carbon'


def default_store_type(path):
    return 'pkcs12' if path.lower().endswith(('.p12', '.pfx', '.pkcs12')) else 'jks'


class StoreFile(object):
    """One store on disk, opened once and saved once per task."""

    def __init__(self, module, path, password, store_type=None, old_password=None):
        self.module = module
        self.path = path
        self.password = password
        self.wanted_type = store_type
        self.old_password = old_password
        self.exists = False
        self.password_changed = False
        self.converted = False
        self.backup_file = None
        self.store = None
        self.create = True

    def open(self, create=True, missing_ok=False):
        """Load the store. A missing file gives an empty store that is created
        on save when ``create``, and that is never written when ``missing_ok``
        (removing entries from a store that does not exist changes nothing);
        otherwise a missing file is an error. Returns the ``Keystore``."""
        self.create = create
        data = read_file(self.path, what='the keystore %s' % self.path)
        what = 'the keystore %s' % self.path
        if data is None:
            if not (create or missing_ok):
                raise InvalidInputError('%s does not exist' % what)
            check_password(self.password)
            self.store = Keystore(self.wanted_type or default_store_type(self.path), password=self.password)
            return self.store
        self.exists = True
        try:
            self.store = Keystore.loads(data, self.password, what=what)
        except WrongPasswordError:
            if self.old_password is None:
                raise
            try:
                self.store = Keystore.loads(data, self.old_password, what=what)
            except WrongPasswordError:
                raise WrongPasswordError('neither password nor old_password opens %s' % what)
            check_password(self.password)
            self.password_changed = True
        if self.wanted_type and self.wanted_type != self.store.store_type:
            self.converted = True
        return self.store

    def open_existing(self):
        """Open a store that must exist, for reading: a ``store_type`` that is
        not the file's is an error here, not a conversion."""
        store = self.open(create=False)
        if self.converted:
            raise UnsupportedContentError('the keystore %s is a %s store, not %s'
                                          % (self.path, store.store_type.upper(), self.wanted_type.upper()))
        return store

    def key_entry(self, alias, why):
        """The key entry under ``alias``; a missing alias, or a trusted entry
        (``why`` says what needs a key), is an error."""
        alias = normalize_alias(alias)
        entry = self.store.entries.get(alias)
        if entry is None:
            raise InvalidInputError('the keystore %s has no entry %r' % (self.path, alias))
        if entry.kind != 'private_key':
            raise InvalidInputError('the entry %r is a trusted certificate, not a key entry: %s' % (alias, why))
        return entry

    @property
    def store_type(self):
        return self.wanted_type or self.store.store_type

    def needs_write(self):
        if not self.exists:
            return self.create
        return self.store.modified or self.password_changed or self.converted

    def save(self, backup=False, new_file_mode=0o600):
        """Write the store when its content, password or type changed (never in
        check mode). Returns True when a write is (or would be) made."""
        if not self.needs_write():
            return False
        if self.module.check_mode:
            return True
        data = self.store.dumps(self.password, self.store_type)
        if backup and self.exists:
            self.backup_file = make_backup(self.path)
        # owner/group options (when the module has them) are given before the rename, the rest by fileio's rule
        atomic_write(self.path, data, mode=new_file_mode,
                     owner=self.module.params.get('owner'), group=self.module.params.get('group'))
        return True

    def apply_file_attributes(self, changed, diff=None):
        """Apply owner, group and mode options; returns the new changed flag."""
        if not os.path.exists(self.path):
            return changed
        file_args = self.module.load_file_common_arguments(self.module.params, path=self.path)
        return self.module.set_fs_attributes_if_different(file_args, changed, diff)


def warn_on_default_password(module, password, what='the store password', strict=None):
    """Warn loudly when ``password`` is the shipped WSO2 password; with ``strict``
    (default: the module's ``strict_defaults`` option, when it has one) fail instead,
    before anything is written."""
    if password != DEFAULT_WSO2_PASSWORD:
        return
    # the password itself is not repeated: Ansible masks every no_log value in the output anyway
    msg = '%s is the shipped WSO2 default password, which every SI download contains: choose your own' % what
    if strict is None:
        strict = bool(module.params.get('strict_defaults'))
    if strict:
        raise InvalidInputError('%s (strict_defaults is set; nothing was changed)' % msg)
    module.warn(msg)


def warn_on_shipped_keys(module, store, path, strict=None):
    """Warn loudly when ``store`` (as it is about to be left) holds shipped WSO2 material
    (``defaults.shipped_entries``: a key entry or trusted certificate whose certificate
    or public key is a shipped one); everyone has those private keys. With ``strict``
    (default: the ``strict_defaults`` option) fail instead, before anything is written."""
    found = [f.sentence() for f in shipped_entries(store)]
    if not found:
        return
    msg = ('the store %s %s, whose private key every SI download contains: remove it and use your own'
           % (path, '; it '.join(found)))
    if strict is None:
        strict = bool(module.params.get('strict_defaults'))
    if strict:
        raise InvalidInputError('%s (strict_defaults is set; nothing was changed)' % msg)
    module.warn(msg)


def run(module, logic):
    """Check dependencies, run ``logic(module)``, exit with its result or with
    one plain sentence for any error of the collection, and for any ``OSError``
    (naming its file) that a step did not turn into one. A write of several
    files that failed part way also reports ``changed`` and its backups."""
    check_dependencies(module)
    path = module.params.get('path')
    try:
        if path:
            remove_stale_temporaries(path)
            with locked(path):
                result = logic(module)
        else:
            result = logic(module)
    except PartialWriteError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except KeystoreError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=os_error_sentence(exc))
    module.exit_json(**result)
