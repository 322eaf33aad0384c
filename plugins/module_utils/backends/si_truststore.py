# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_truststore: trusted certificate entries added, replaced and removed in one load and one save."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.common import StoreBackend, TrustTally
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import normalize_alias
from ansible_collections.wso2si.keystores.plugins.module_utils.peers import resolve as resolve_peers
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import (
    warn_on_default_password, warn_on_shipped_keys,
)


def item_certificates(item, alias):
    """The certificates of one ``certificates`` item, or None when it gives only an alias."""
    if item.get('content') and item.get('path'):
        raise InvalidInputError('certificate %r: give content or path, not both' % alias)
    if item.get('path'):
        data = read_file(item['path'], what='the certificate file %s' % item['path'])
        if data is None:
            raise InvalidInputError('the certificate file %s for alias %r does not exist' % (item['path'], alias))
        return certs.load_certificates(data, what='the certificate file %s' % item['path'])
    if item.get('content'):
        return certs.load_certificates(item['content'], what='the certificate for alias %r' % alias)
    return None


def wanted_entries(items):
    """[(alias, certificate)] from the ``certificates`` option; bundles become ALIAS, ALIAS-2, ..."""
    out = []
    for item in items:
        alias = normalize_alias(item['alias'])
        found = item_certificates(item, alias)
        if found is None:
            out.append((alias, None))
            continue
        out.append((alias, found[0]))
        out.extend(('%s-%d' % (alias, n), cert) for n, cert in enumerate(found[1:], start=2))
    return out


def entry_facts(entry):
    facts = certs.summary(entry.certificate)
    facts['alias'] = entry.alias
    return facts


class TruststoreBackend(StoreBackend):

    new_file_mode = 0o644

    def __init__(self, module):
        super(TruststoreBackend, self).__init__(module)
        self.wanted = []
        self.removals = []
        self.tally = None

    def read(self):
        p = self.params
        self.open_store(create=p['state'] == 'present', missing_ok=True, old_password=p['old_password'])
        warn_on_default_password(self.module, p['password'])
        self.wanted = wanted_entries(resolve_peers(p['certificates'], p['state']))
        self.tally = TrustTally(self.store)

    def decide(self):
        if self.params['state'] == 'present':
            self.check_wanted()
            self.removals = self.unlisted() if self.params['exclusive'] else []
        else:
            self.removals = self.listed()

    def check_wanted(self):
        missing = [alias for alias, cert in self.wanted if cert is None]
        if missing:
            raise InvalidInputError('certificate %r needs content or path' % missing[0])
        for alias, cert in self.wanted:
            certs.check_validity([cert], 'the certificate for alias %r' % alias, self.params['allow_expired'],
                                 self.module.warn)

    def unlisted(self):
        """Trusted entries that are not listed (exclusive)."""
        listed = set(alias for alias, dummy in self.wanted)
        return [e.alias for e in self.store.trusted_entries() if e.alias not in listed]

    def listed(self):
        """Trusted entries to remove (state=absent): by alias, and by certificate under any alias."""
        fingerprints = set(certs.fingerprint(cert) for dummy, cert in self.wanted if cert is not None)
        candidates = [a for a, dummy in self.wanted] + [
            e.alias for e in self.store.trusted_entries() if e.fingerprint() in fingerprints]
        return [a for a in candidates
                if a in self.store.entries and self.store.entries[a].kind == 'trusted_certificate']

    def produce(self):
        for alias in self.removals:
            self.tally.remove(alias)
        if self.params['state'] == 'present':
            for alias, cert in self.wanted:
                others = self.tally.trust(alias, cert)
                if others:
                    self.module.warn('the certificate for alias %r is already trusted as %s; it was not added again'
                                     % (alias, ', '.join(repr(a) for a in others)))
        warn_on_shipped_keys(self.module, self.store, self.params['path'])

    def dump(self):
        result = dict(added=self.tally.added, replaced=self.tally.replaced, removed=sorted(set(self.removals)),
                      entries=len(self.store.entries), store_type=self.sf.store_type)
        diff = dict(
            before={'entries': [entry_facts(e) for dummy, e in sorted(self.tally.previous.items())]},
            after={'entries': [entry_facts(self.store.entries[a]) for a in sorted(set(self.tally.touched))]},
        )
        return self.finish(result, diff)
