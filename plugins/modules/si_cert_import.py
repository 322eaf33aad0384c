#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_cert_import
short_description: Import a CA's reply into a key entry of a Java keystore
version_added: 0.1.0
description:
  - Installs the certificate a CA signed for a key entry's request (see M(wso2si.keystores.si_csr)) in a JKS or
    PKCS#12 keystore, with its whole chain, as C(keytool -importcert -trustcacerts) does with a CA reply, and stricter.
  - The reply's public key must be the key entry's; otherwise the task fails and nothing is written.
  - The chain is built and ordered leaf to root, whatever the input order, from the reply, O(ca_certificates), the
    CA certificates already trusted in the store and those of the key entry's current chain.
    Every link's issuer name and signature are verified.
  - With O(validate), the chain must end at a self-signed root that is in O(ca_certificates) or already trusted in the
    store (a root that only the reply or the current chain carries is not trusted), and every issuer must be a CA.
  - The key entry ends with the chain C([leaf, intermediates..., root]); the private key and every other entry are
    untouched. Importing the same reply again changes nothing; a new reply for the same key (a renewal) replaces
    the chain.
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store
  - wso2si.keystores.store.BACKUP
  - wso2si.keystores.store.ATTRIBUTES
  - ansible.builtin.files
options:
  alias:
    description:
      - The alias of the key entry the reply is for. Java stores aliases in lower case.
    type: str
    required: true
  key_password:
    description:
      - The password of the key entry, when it differs from the store password. The entry keeps its password.
      - Defaults to O(password). PKCS#12 stores have no separate key password.
    type: str
  certificate:
    description:
      - The CA's reply; PEM with one or several certificates, DER, or PKCS#7.
      - Exactly one of O(certificate) and O(certificate_path) is required.
    type: str
  certificate_path:
    description:
      - A file on the managed host holding the CA's reply (PEM, DER or PKCS#7).
      - Exactly one of O(certificate) and O(certificate_path) is required.
    type: path
  ca_certificates:
    description:
      - The CA certificates of the chain (the root and the intermediates), in any order.
      - A root given here is trusted for this import.
      - Each item has an O(ca_certificates[].alias) and the certificate as O(ca_certificates[].content) or
        O(ca_certificates[].path). An item holding a bundle of N certificates names them C(ALIAS), C(ALIAS-2), ... C(ALIAS-N).
    type: list
    elements: dict
    default: []
    suboptions:
      alias:
        description: The alias of the trusted entry, when O(trust_ca_certificates=true).
        type: str
        required: true
      content:
        description: The certificate in PEM, DER or PKCS#7. Give either this or O(ca_certificates[].path).
        type: str
      path:
        description: A file on the managed host holding the certificate. Give either this or O(ca_certificates[].content).
        type: path
  trust_ca_certificates:
    description:
      - Also store O(ca_certificates) as trusted certificate entries.
      - An alias that already holds the same certificate is left alone; a certificate already trusted under another
        alias is not added again.
      - JKS and PKCS#12 stores alike hold them next to the key entry (a PKCS#12 trusted entry carries Java's
        trusted-key-usage attribute, as keytool writes it).
    type: bool
    default: true
  validate:
    description:
      - Require a complete chain that ends at a trusted self-signed root, issued by CA certificates only.
      - With V(false), the chain holds what can be linked by verified signatures, whatever its end. The reply's
        public key must still be the key entry's.
    type: bool
    default: true
  allow_expired:
    description:
      - Import even when a certificate of the chain has expired or is not valid yet.
    type: bool
    default: false
  mode:
    description:
      - The permissions of the store. An existing file keeps its mode unless this is set.
notes:
  - SI's HTTPS listeners and databridge need the key password to equal the store password.
seealso:
  - module: wso2si.keystores.si_csr
  - module: wso2si.keystores.si_keystore
  - module: wso2si.keystores.si_keystore_info
  - module: wso2si.keystores.si_truststore
'''

EXAMPLES = r'''
- name: Install the signed certificate with its chain in SI's keystore
  wso2si.keystores.si_cert_import:
    path: /opt/wso2si/resources/security/wso2carbon.jks
    password: "{{ vault_keystore_password }}"
    alias: si-tls
    certificate_path: /opt/wso2si/resources/security/si-tls.crt
    ca_certificates:
      - alias: corp-root-ca
        content: "{{ lookup('ansible.builtin.file', 'pki/root-ca.pem') }}"
      - alias: corp-issuing-ca
        content: "{{ lookup('ansible.builtin.file', 'pki/issuing-ca.pem') }}"
    backup: true

- name: The reply is a PKCS#7 bundle with the whole chain; the root is already trusted in the store
  wso2si.keystores.si_cert_import:
    path: /opt/wso2si/resources/security/wso2carbon.jks
    password: "{{ vault_keystore_password }}"
    alias: si-tls
    certificate: "{{ lookup('ansible.builtin.file', 'replies/' ~ inventory_hostname ~ '.p7b') }}"
  register: imported

- name: Show the chain
  ansible.builtin.debug:
    msg: "{{ imported.chain | map(attribute='subject') | list }}"
'''

RETURN = r'''
chain:
  description: The key entry's chain afterwards, leaf first.
  returned: always
  type: list
  elements: dict
  contains:
    subject:
      description: The certificate's subject.
      type: str
      sample: CN=si.example.com, O=Example, C=US
    issuer:
      description: The certificate's issuer.
      type: str
      sample: CN=Example Issuing CA, O=Example, C=US
    fingerprint_sha256:
      description: The certificate's SHA-256 fingerprint.
      type: str
      sample: 8A:CE:...:28
    not_after:
      description: The end of the certificate's validity (UTC, ISO 8601).
      type: str
      sample: "2027-12-09T12:00:00Z"
trusted_added:
  description: Aliases of the trusted CA entries added.
  returned: always
  type: list
  elements: str
  sample: [corp-root-ca, corp-issuing-ca]
trusted_replaced:
  description: Aliases of trusted entries whose certificate was replaced by the given CA certificate.
  returned: always
  type: list
  elements: str
  sample: []
backup_file:
  description: The backup made before the change.
  returned: changed and O(backup=true)
  type: str
  sample: /opt/wso2si/resources/security/wso2carbon.jks.2403.2026-11-27@13:45:01~
'''

from ansible_collections.wso2si.keystores.plugins.module_utils import argspec
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_cert_import import CertImportBackend
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run


def argument_spec():
    return argspec.store().merge(
        argspec.store_key_password(), argspec.store_backup(), argspec.material_expired(),
    ).update_argspec(
        alias=dict(type='str', required=True),
        certificate=dict(type='str'),
        certificate_path=dict(type='path'),
        ca_certificates=dict(type='list', elements='dict', default=[], options=dict(
            alias=dict(type='str', required=True),
            content=dict(type='str'),
            path=dict(type='path'),
        )),
        trust_ca_certificates=dict(type='bool', default=True),
        validate=dict(type='bool', default=True),
    ).update(
        required_one_of=[('certificate', 'certificate_path')],
        mutually_exclusive=[('certificate', 'certificate_path')],
    )


def main():
    module = argument_spec().create_ansible_module(supports_check_mode=True, add_file_common_args=True)
    run(module, CertImportBackend.execute)


if __name__ == '__main__':
    main()
