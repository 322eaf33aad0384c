# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_csr: a certificate signing request for a key entry (the store is only read)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.common import Backend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import atomic_write, read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import effective_key_password
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import StoreFile


def existing_request(path):
    """The request in ``path``, or None when the file is missing or holds no request."""
    data = read_file(path, what='the file %s' % path)
    if data is None:
        return None
    try:
        return certs.load_csr(data, what='the file %s' % path)
    except KeystoreError:
        return None


class CsrBackend(Backend):

    def __init__(self, module):
        super(CsrBackend, self).__init__(module)
        self.entry = None
        self.current = None
        self.request = None
        self.subject = None
        self.sans = None

    def read(self):
        p = self.params
        sf = StoreFile(self.module, p['path'], p['password'], p['store_type'])
        sf.open_existing()
        self.entry = sf.key_entry(p['alias'], 'a certificate request needs a private key')
        self.entry.open(effective_key_password(p['key_password'], p['password']))

    def decide(self):
        p = self.params
        cert = self.entry.certificate
        certs.check_key_strength(cert.public_key(), 'the key entry %r of %s' % (self.entry.alias, p['path']),
                                 p['allow_weak_keys'], self.module.warn)
        self.subject = certs.parse_name(p['subject']) if p['subject'] is not None else cert.subject
        if p['subject_alt_names'] is None:
            self.sans = certs.san_general_names(cert)
        else:
            self.sans = certs.san_names(p['subject_alt_names'])
        self.current = existing_request(p['dest']) if p['dest'] else None
        # a request made only to compare with the one on disk is signed without validating the RSA key first
        if self.current is not None and certs.csr_equal(self.current, self.build(self.entry.unchecked_private_key())):
            self.request = self.current

    def build(self, key):
        p = self.params
        return certs.build_csr(key, self.subject, self.sans, p['key_usage'], p['extended_key_usage'], p['digest'])

    def produce(self):
        if self.request is None:
            self.request = self.build(self.entry.checked_private_key())

    def write(self):
        dest = self.params['dest']
        if not dest or self.request is self.current:
            return
        self.changed = True
        if not self.module.check_mode:
            atomic_write(dest, certs.csr_to_pem(self.request).encode('ascii'), mode=0o644)

    def dump(self):
        p = self.params
        result = dict(changed=self.changed)
        if p['dest']:
            result['dest'] = p['dest']
            if self.module._diff:
                result['diff'] = dict(before=certs.csr_facts(self.current) if self.current is not None else {},
                                      after=certs.csr_facts(self.request))
            result['changed'] = apply_file_attributes(self.module, p['dest'], result['changed'], result.get('diff'))
        facts = certs.csr_facts(self.request)
        result.update(csr=certs.csr_to_pem(self.request), subject=facts['subject'],
                      subject_alt_names=facts['subject_alt_names'], public_key_sha256=facts['public_key_sha256'])
        return result


def apply_file_attributes(module, path, changed, diff=None):
    if not os.path.exists(path):
        return changed
    file_args = module.load_file_common_arguments(module.params, path=path)
    return module.set_fs_attributes_if_different(file_args, changed, diff)
