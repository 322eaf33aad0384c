# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The verbs every module backend has (after community.crypto's ``module_backends``).

A backend is made from a module (anything with ``params``, ``check_mode``,
``_diff`` and ``warn``: tests give a stand-in) and runs, in this order:

- ``check()``: refuse bad options, before anything is read;
- ``read()``: read the current state (the store, the files);
- ``decide()``: decide what to change, from the options and that state; nothing is made yet;
- ``produce()``: make the change in memory (keys, certificates, entries);
- ``write()``: write it (never in check mode); sets ``changed``;
- ``dump()``: the module's result.

``execute(module)`` runs them all; a module's ``main`` hands it to
``store_file.run`` (or its own runner), which turns errors into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import StoreFile


class Backend(object):

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.changed = False

    def check(self):
        """Refuse bad options before anything is read or written."""

    def read(self):
        """Read the current state."""

    def decide(self):
        """Decide what to change; nothing is made yet."""

    def produce(self):
        """Make the decided change in memory."""

    def write(self):
        """Write the change (never in check mode) and set ``changed``."""

    def dump(self):
        """The module's result."""
        return dict(changed=self.changed)

    @classmethod
    def execute(cls, module):
        backend = cls(module)
        backend.check()
        backend.read()
        backend.decide()
        backend.produce()
        backend.write()
        return backend.dump()


class StoreBackend(Backend):
    """A backend for a module that opens one store (options of ``argspec.store()``)."""

    new_file_mode = 0o600

    def __init__(self, module):
        super(StoreBackend, self).__init__(module)
        self.sf = None
        self.store = None

    def open_store(self, create, missing_ok=False, old_password=None):
        p = self.params
        self.sf = StoreFile(self.module, p['path'], p['password'], p['store_type'], old_password)
        self.store = self.sf.open(create=create, missing_ok=missing_ok)
        return self.store

    def write(self):
        self.changed = self.sf.save(backup=self.params['backup'], new_file_mode=self.new_file_mode)

    def finish(self, result, diff=None):
        """``result`` with ``changed``, the backup made, the diff (in diff mode) and the file attributes applied."""
        result['changed'] = self.changed
        if self.sf.backup_file:
            result['backup_file'] = self.sf.backup_file
        if diff is not None and self.module._diff:
            result['diff'] = diff
        result['changed'] = self.sf.apply_file_attributes(result['changed'], result.get('diff'))
        return result


class TrustTally(object):
    """Trusted certificates put into a store, with the tally of aliases added and replaced (si_truststore,
    si_cert_import): a certificate already trusted under another alias is not added a second time."""

    def __init__(self, store):
        self.store = store
        self._index = None  # made at the first trust(), after any removal
        self.added = []
        self.replaced = []
        self.previous = {}  # alias: the entry as it was before this task first touched it

    def note(self, alias):
        entry = self.store.entries.get(alias)
        if entry is not None and alias not in self.previous:
            self.previous[alias] = entry

    def remove(self, alias):
        self.note(alias)
        return self.store.remove(alias)

    def trust(self, alias, cert):
        """Add or replace the trusted entry ``alias``. Returns the other aliases that already trust ``cert``
        when ``alias`` is new and it was therefore not added, otherwise []."""
        if self._index is None:
            self._index = self.store.fingerprint_index()
        fp = certs.fingerprint(cert)
        others = [a for a in self._index.get(fp, []) if a != alias]
        if others and alias not in self.store.entries:
            return others
        self.note(alias)
        outcome = self.store.set_trusted(alias, cert)
        if outcome == 'added':
            self.added.append(alias)
        elif outcome == 'replaced':
            self.replaced.append(alias)
        if outcome:
            self._index.setdefault(fp, []).append(alias)
        return []

    @property
    def touched(self):
        return self.added + self.replaced
