# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_rollout_state: record what a completed rollout left on a host, or tell
whether the host is still so (module_utils/rollout_state.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import rollout_state as rs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.common import Backend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import atomic_write, read_file


class RolloutStateBackend(Backend):

    def __init__(self, module):
        super(RolloutStateBackend, self).__init__(module)
        self.path = rs.record_path(module.params['si_home'])
        self.record_data = None
        self.files = {}
        self.reasons = []
        self.recorded = {}
        self.leaf = None
        self.home = None

    def check(self):
        p = self.params
        if not re.match(r'^[0-9a-f]{64}$', p['inputs_digest']):
            raise InvalidInputError('inputs_digest must be a SHA-256 digest in lower-case hex (64 characters)')
        for name in ('renew_before_days', 'key_max_age_days'):
            if p[name] < 0:
                raise InvalidInputError('%s must be 0 or more (got %d)' % (name, p[name]))
        self.home = rs.home_facts(p['si_home'])
        if p['state'] == 'present' and not self.home['deployment_exists']:
            raise InvalidInputError('%s is not an SI home: %s is missing'
                                    % (p['si_home'], os.path.join(p['si_home'], 'conf', 'server', 'deployment.yaml')))

    def stores(self):
        """(what, options, needs a key entry) of each store given."""
        p = self.params
        return [(what, p[name], key) for what, name, key in (
            ('the keystore', 'keystore', True), ('the truststore', 'truststore', False),
            ('the secure vault keystore', 'vault_keystore', True)) if p[name]]

    def read(self):
        if not self.home['deployment_exists']:
            self.reasons.append('%s is not an SI home' % self.params['si_home'])
            return
        self.record_data = read_file(self.path, what='the rollout record %s' % self.path)
        try:
            paths = rs.managed_files(self.params['si_home'], [o['path'] for _w, o, _k in self.stores()])
        except KeystoreError as exc:
            self.reasons.append(str(exc))
            return
        self.files = rs.files_state(paths)

    def decide(self):
        if self.params['state'] == 'present':
            return
        p = self.params
        if not self.home['deployment_exists']:
            return
        if self.files:
            recorded, reasons = rs.unchanged_since(self.record_data, p['inputs_digest'], self.files)
            self.recorded = recorded or {}
            self.reasons.extend(reasons)
        for what, options, needs_key in self.stores():
            store, why = rs.open_store(options['path'], options['password'], what)
            if store is None:
                self.reasons.append(why)
                continue
            if not needs_key:
                continue
            entry, why = rs.key_entry(store, options['alias'], what)
            if entry is None:
                self.reasons.append(why)
                continue
            if what == 'the keystore':
                self.leaf = entry.certificate
                self.reasons.extend(rs.due_reasons(entry, p['renew_before_days'], p['key_max_age_days'], what))
            else:
                # the vault's key is re-issued when its certificate expires (si_keystore's default)
                self.reasons.extend(rs.due_reasons(entry, 0, 0, what))

    def write(self):
        p = self.params
        if p['state'] != 'present':
            return
        data = rs.make_record(p['inputs_digest'], self.files, p['facts'])
        if data == self.record_data:
            return
        self.changed = True
        if not self.module.check_mode:
            atomic_write(self.path, data, mode=0o600, force_mode=True, owner=p['owner'], group=p['group'])

    def dump(self):
        result = dict(changed=self.changed, record_path=self.path, si_home=self.home)
        if self.params['state'] == 'present':
            return result
        result.update(unchanged=not self.reasons, reasons=self.reasons, recorded=self.recorded,
                      certificate=certs.cert_to_pem(self.leaf) if self.leaf is not None else '',
                      fingerprint_sha256=certs.fingerprint(self.leaf) if self.leaf is not None else '')
        return result
