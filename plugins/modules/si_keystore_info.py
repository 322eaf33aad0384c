#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_keystore_info
short_description: Describe the entries of a Java keystore or truststore
version_added: 0.1.0
description:
  - Lists the entries of a JKS or PKCS#12 store, such as WSO2 Streaming Integrator's C(wso2carbon.jks) or
    C(client-truststore.jks), with the facts of each certificate, the chain of each key entry, the entries that
    expire soon, and whether the store still holds one of the certificates every SI download ships.
  - The store is only read, never written, and key entries' chains are read without decrypting their keys,
    so no key password is needed.
  - Every entry is listed, also those the other modules do not manage, such as the secret keys of a PKCS#12 store
    (C(keytool -genseckey)), with their alias, kind, algorithm and size, never the key.
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store
options:
  store_type:
    description:
      - C(jks) or C(pkcs12). Only checked against the type read from the file's content.
  alias:
    description:
      - Describe only this entry. RV(entries) is empty when the store has no such entry.
    type: str
  key_password:
    description:
      - A key password to check. When given, each key entry described reports in RV(entries[].key_password_valid)
        whether this password (or the store password) decrypts its key.
    type: str
  expiry_warning_days:
    description:
      - An entry is listed in RV(expiring) when its certificate, or a certificate of its chain, expires within this many days
        (or has expired).
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: The module never changes anything.
  idempotent:
    support: full
    description: The module never changes anything.
seealso:
  - module: wso2si.keystores.si_keystore
  - module: wso2si.keystores.si_truststore
  - module: wso2si.keystores.si_cert_import
'''

EXAMPLES = r'''
- name: Describe SI's keystore
  wso2si.keystores.si_keystore_info:
    path: /opt/wso2si/resources/security/wso2carbon.jks
    password: "{{ vault_keystore_password }}"
  register: keystore

- name: Refuse a host that still uses a key every SI download ships
  ansible.builtin.assert:
    that: not keystore.uses_default_wso2_key
    fail_msg: "{{ inventory_hostname }} still uses a shipped WSO2 certificate"

- name: Warn about certificates that expire within 60 days
  wso2si.keystores.si_keystore_info:
    path: /opt/wso2si/resources/security/client-truststore.jks
    password: "{{ vault_truststore_password }}"
    expiry_warning_days: 60
  register: truststore

- name: Show them
  ansible.builtin.debug:
    var: truststore.expiring
'''

RETURN = r'''
entries:
  description:
    - The entries, sorted by alias. The certificate facts are those of the entry's certificate (a key entry's leaf).
    - Secret keys and other entries without a certificate have only RV(entries[].alias), RV(entries[].kind)
      and RV(entries[].algorithm) and RV(entries[].key_size) or RV(entries[].description).
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The entry's alias (lower case).
      type: str
      sample: wso2carbon
    kind:
      description:
        - The kind of entry. C(secret_key) is a secret key of a PKCS#12 store; C(other) is an entry this
          collection does not model, which it keeps as it is when it rewrites the store.
      type: str
      choices: [private_key, trusted_certificate, secret_key, other]
      sample: private_key
    algorithm:
      description: The algorithm of a secret key, as Java names it (C(AES), C(HmacSHA256), ...).
      type: str
      returned: for secret keys
      sample: AES
    description:
      description: What an entry of kind C(other) is.
      type: str
      returned: for entries of kind C(other)
      sample: a PKCS#12 bag of type 1.2.840.113549.1.12.10.1.4
    subject:
      description: The certificate's subject, most specific first.
      type: str
      sample: CN=localhost, O=WSO2, L=Mountain View, ST=CA, C=US
    issuer:
      description: The certificate's issuer.
      type: str
      sample: CN=localhost, O=WSO2, L=Mountain View, ST=CA, C=US
    serial:
      description: The serial number in lower-case hexadecimal, as keytool prints it.
      type: str
      sample: 4ba1d8d8
    not_before:
      description: The start of the validity (UTC, ISO 8601).
      type: str
      sample: "2017-12-11T06:12:43Z"
    not_after:
      description: The end of the validity (UTC, ISO 8601).
      type: str
      sample: "2027-12-09T06:12:43Z"
    days_remaining:
      description: Whole days left until RV(entries[].not_after); negative once expired.
      type: int
      sample: 380
    expired:
      description: Whether the certificate has expired.
      type: bool
      sample: false
    not_yet_valid:
      description:
        - Whether the certificate is not valid yet (its RV(entries[].not_before) is in the future); such a certificate
          is not expired and has days remaining, yet no TLS peer accepts it.
      type: bool
      sample: false
    self_signed:
      description: Whether the certificate is self-signed.
      type: bool
      sample: true
    fingerprint_sha1:
      description: SHA-1 fingerprint.
      type: str
      sample: "2B:...:1E"
    fingerprint_sha256:
      description: SHA-256 fingerprint.
      type: str
      sample: "8A:CE:6D:...:0B:28"
    key_type:
      description: The type of the certificate's public key (C(RSA), C(EC), C(Ed25519)).
      type: str
      sample: RSA
    key_size:
      description: The size of the certificate's public key in bits; for a secret key, the size of the key.
      type: int
      sample: 2048
    subject_alt_names:
      description: The certificate's subject alternative names.
      type: list
      elements: str
      sample: [DNS:localhost]
    certificate:
      description: The certificate in PEM.
      type: str
      sample: "-----BEGIN CERTIFICATE-----\nMIID...\n-----END CERTIFICATE-----\n"
    chain:
      description: For key entries, the chain leaf first, each certificate with the same facts as the entry
        (RV(entries[].subject) to RV(entries[].certificate)).
      type: list
      elements: dict
      returned: for key entries
    chain_length:
      description: The number of certificates in the chain.
      type: int
      returned: for key entries
      sample: 1
    key_password_valid:
      description: Whether O(key_password) (or the store password) decrypts the entry's key.
      type: bool
      returned: for key entries, when O(key_password) is given
      sample: true
expiring:
  description: Aliases of the entries (of those described) with a certificate that expires within O(expiry_warning_days) or has expired.
  returned: always
  type: list
  elements: str
  sample: []
uses_default_wso2_key:
  description:
    - Whether an entry (of those described) holds shipped WSO2 material, whose private keys everyone has - one of the
      certificates shipped with SI, or any certificate (a key entry's, one of its chain, or a trusted one) that
      carries one of their public keys, such as a certificate re-issued on the shipped key.
  returned: always
  type: bool
  sample: true
default_wso2_aliases:
  description: Aliases of the entries that hold shipped WSO2 material (see RV(uses_default_wso2_key)).
  returned: always
  type: list
  elements: str
  sample: [wso2carbon]
store_type:
  description: The store's type, read from its content.
  returned: always
  type: str
  sample: jks
'''

from ansible_collections.wso2si.keystores.plugins.module_utils import argspec
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_keystore_info import KeystoreInfoBackend
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run


def argument_spec():
    return argspec.store().merge(argspec.store_key_password()).update_argspec(
        alias=dict(type='str'),
        expiry_warning_days=dict(type='int', default=30),
    )


def main():
    module = argument_spec().create_ansible_module(supports_check_mode=True)
    run(module, KeystoreInfoBackend.execute)


if __name__ == '__main__':
    main()
