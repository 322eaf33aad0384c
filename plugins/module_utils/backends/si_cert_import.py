# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_cert_import: a CA's reply, with its chain, into the key entry it was requested for."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.common import StoreBackend, TrustTally
from ansible_collections.wso2si.keystores.plugins.module_utils.ca_reply import certificate_items, load_input, reply_chain
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import effective_key_password


def entry_facts(entry):
    facts = {'alias': entry.alias, 'kind': entry.kind}
    if entry.kind == 'private_key':
        facts['chain'] = [certs.summary(c) for c in entry.chain]
    elif entry.certificate is not None:
        facts.update(certs.summary(entry.certificate))
    return facts


class CertImportBackend(StoreBackend):

    new_file_mode = 0o600

    def __init__(self, module):
        super(CertImportBackend, self).__init__(module)
        self.entry = None
        self.reply = None
        self.given = []
        self.chain = None
        self.before = {}
        self.touched = []
        self.tally = None

    def read(self):
        p = self.params
        self.open_store(create=False)
        self.entry = self.sf.key_entry(p['alias'], 'a CA reply is imported into the key entry it was requested for')
        self.entry.open(effective_key_password(p['key_password'], p['password']))
        self.reply = load_input(p['certificate'], p['certificate_path'], what='the certificate reply')
        self.given = certificate_items(p['ca_certificates'])

    def decide(self):
        p = self.params
        trusted = [e.certificate for e in self.store.trusted_entries()]
        # the CA certificates of the current chain may link a renewal, but are not trusted for it
        self.chain, unused = reply_chain(self.reply, self.entry.public_key(), [cert for _alias, cert in self.given],
                                         trusted, validate=p['validate'], allow_expired=p['allow_expired'],
                                         intermediates=self.entry.chain[1:])
        for cert in unused:
            self.module.warn('the reply\'s certificate %s is not part of the chain and was not imported'
                             % certs.name_to_string(cert.subject))

    def produce(self):
        alias = self.entry.alias
        self.before = {alias: entry_facts(self.entry)}
        self.store.set_chain(alias, self.chain)
        self.touched = [alias] if self.store.modified else []
        self.tally = TrustTally(self.store)
        if self.params['trust_ca_certificates']:
            for ca_alias, cert in self.given:
                self.tally.trust(ca_alias, cert)  # a certificate already trusted under another alias is not added
        self.before.update((a, entry_facts(e)) for a, e in self.tally.previous.items())
        self.touched += self.tally.touched

    def dump(self):
        result = dict(chain=[certs.summary(c) for c in self.chain],
                      trusted_added=self.tally.added, trusted_replaced=self.tally.replaced)
        diff = dict(
            before={'entries': [self.before[a] for a in sorted(self.touched) if a in self.before]},
            after={'entries': [entry_facts(self.store.entries[a]) for a in sorted(self.touched)]},
        )
        return self.finish(result, diff)
