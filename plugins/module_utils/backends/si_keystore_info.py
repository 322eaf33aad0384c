# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_keystore_info: the facts of a store's entries (the store is only read)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.common import Backend
from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import shipped_entries
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, WrongKeyPasswordError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import normalize_alias
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import StoreFile


def certificate_facts(cert, now):
    remaining = certs.not_after(cert) - now
    key_type, key_size = certs.key_description(cert.public_key())[:2]
    return {
        'subject': certs.name_to_string(cert.subject),
        'issuer': certs.name_to_string(cert.issuer),
        'serial': '%x' % cert.serial_number,
        'not_before': certs.iso(certs.not_before(cert)),
        'not_after': certs.iso(certs.not_after(cert)),
        'days_remaining': remaining.days,
        'expired': remaining.total_seconds() < 0,
        'not_yet_valid': certs.not_before(cert) > now,
        'self_signed': certs.is_self_signed(cert),
        'fingerprint_sha1': certs.fingerprint(cert, 'sha1'),
        'fingerprint_sha256': certs.fingerprint(cert),
        'key_type': key_type,
        'key_size': key_size,
        'subject_alt_names': certs.subject_alt_names(cert),
        'certificate': certs.cert_to_pem(cert),
    }


def key_password_valid(entry, key_password, password):
    """Whether ``key_password`` (or the store password) opens the entry's key."""
    try:
        entry.open(key_password, password).checked_private_key()
    except WrongKeyPasswordError:
        return False
    return True


class KeystoreInfoBackend(Backend):

    def __init__(self, module):
        super(KeystoreInfoBackend, self).__init__(module)
        self.store = None
        self.selected = []
        self.entries = []
        self.expiring = []

    def check(self):
        if self.params['expiry_warning_days'] < 0:
            raise InvalidInputError('expiry_warning_days must be 0 or more (got %d)'
                                    % self.params['expiry_warning_days'])

    def read(self):
        p = self.params
        self.store = StoreFile(self.module, p['path'], p['password'], p['store_type']).open_existing()
        if p['alias'] is not None:
            alias = normalize_alias(p['alias'])
            self.selected = [self.store.entries[alias]] if alias in self.store.entries else []
        else:
            self.selected = [self.store.entries[a] for a in sorted(self.store.entries)]

    def decide(self):
        now = certs.utcnow()
        for entry in self.selected:
            facts, chain_facts = self.entry_facts(entry, now)
            if any(f['days_remaining'] < self.params['expiry_warning_days'] for f in chain_facts):
                self.expiring.append(entry.alias)
            self.entries.append(facts)

    def entry_facts(self, entry, now):
        """(the entry's facts, the facts of each certificate of its chain)."""
        p = self.params
        facts = {'alias': entry.alias, 'kind': entry.kind}
        if not entry.chain:
            # a secret key, or another entry without a certificate: what it is, never its content
            facts.update(entry.facts())
            return facts, []
        facts.update(certificate_facts(entry.chain[0], now))
        chain_facts = [facts] + [certificate_facts(c, now) for c in entry.chain[1:]]
        if entry.kind == 'private_key':
            facts['chain'] = [dict((k, v) for k, v in f.items() if k not in ('alias', 'kind')) for f in chain_facts]
            facts['chain_length'] = len(entry.chain)
            if p['key_password'] is not None:
                facts['key_password_valid'] = key_password_valid(entry, p['key_password'], p['password'])
        return facts, chain_facts

    def dump(self):
        defaults = [found.alias for found in shipped_entries(self.store, [entry.alias for entry in self.selected])]
        return dict(changed=False, entries=self.entries, expiring=self.expiring, uses_default_wso2_key=bool(defaults),
                    default_wso2_aliases=defaults, store_type=self.store.store_type)
