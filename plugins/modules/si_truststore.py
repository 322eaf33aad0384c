#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_truststore
short_description: Ensure trusted certificates in a Java truststore
version_added: 0.1.0
description:
  - Adds, replaces and removes trusted certificate entries in a JKS or PKCS#12 truststore,
    such as WSO2 Streaming Integrator's C(client-truststore.jks), creating the store when it is missing.
  - A whole list of certificates is handled in one task, which loads the store once and saves it once.
  - An entry is identified by alias and fingerprint. The same alias with another certificate is replaced
    (and reported in RV(replaced)); a certificate already present under another alias is reported in a
    warning and not added a second time.
  - Key entries are never touched.
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store
  - wso2si.keystores.store.OLD_PASSWORD
  - wso2si.keystores.store.BACKUP
  - wso2si.keystores.store.STRICT_DEFAULTS
  - wso2si.keystores.store.ATTRIBUTES
  - wso2si.keystores.material.EXPIRED
  - ansible.builtin.files
options:
  certificates:
    description:
      - The certificates to ensure (O(state=present)) or to remove (O(state=absent)).
      - Each item has an O(certificates[].alias) and the certificate as O(certificates[].content) or O(certificates[].path),
        or a TLS endpoint as O(certificates[].url) with the pin of its certificate in O(certificates[].sha256).
      - An item whose content holds a bundle of N certificates stores them as C(ALIAS), C(ALIAS-2), ... C(ALIAS-N),
        in the bundle's order.
    type: list
    elements: dict
    default: []
    suboptions:
      alias:
        description:
          - The entry's alias. Java stores aliases in lower case.
          - With O(state=absent), an item may give only the alias.
        type: str
        required: true
      content:
        description: The certificate in PEM (one or several), DER or PKCS#7. Give either this or O(certificates[].path).
        type: str
      path:
        description: A file on the managed host holding the certificate (PEM, DER or PKCS#7). Give either this or O(certificates[].content).
        type: path
      url:
        description:
          - A TLS endpoint, V(host:port) (or V([IPv6]:port); the port defaults to 443), whose served certificate
            is trusted when it matches O(certificates[].sha256). Give this, O(certificates[].content) or
            O(certificates[].path).
          - The managed host connects to it (also in check mode, which only reads) and reads the certificate chain the
            endpoint serves, without verifying it (server name indication V(host)); the certificate of that chain
            whose SHA-256 fingerprint is the pin is the one added. The pin may name the leaf, or a CA certificate the
            endpoint sends with it (the leaf can then be renewed under that CA without a new pin).
          - When no served certificate has the pin (the endpoint's certificate changed, or another server answers),
            the task fails naming the alias, the endpoint, the pinned and the served fingerprints, and nothing is
            written. An endpoint that cannot be reached fails the task the same way.
          - The whole chain needs Python 3.10 or newer on the managed host; older Pythons see the leaf only.
          - With O(state=absent), only the alias of the item is used; nothing is fetched.
        type: str
        version_added: 0.4.0
      sha256:
        description:
          - The pin of O(certificates[].url), required with it, the SHA-256 fingerprint of the certificate
            to trust (of its DER encoding, as C(keytool -list -v) and C(openssl x509 -noout -fingerprint -sha256)
            print it).
          - 64 hex digits in either case, with or without colons; a V(sha256:) or V(SHA256 Fingerprint=) prefix
            is accepted.
        type: str
        version_added: 0.4.0
      timeout:
        description: Seconds to wait for O(certificates[].url) to connect and answer.
        type: float
        default: 10
        version_added: 0.4.0
  state:
    description:
      - V(present) ensures the certificates; V(absent) removes entries with the given aliases, and entries holding
        the given certificates under any alias.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), remove every trusted certificate entry that is not listed.
      - Key entries are never removed.
    type: bool
    default: false
  mode:
    description:
      - The permissions of the store. A new truststore is created C(0644) unless this is set;
        an existing file keeps its mode.
seealso:
  - module: wso2si.keystores.si_keystore
  - module: wso2si.keystores.si_keystore_info
'''

EXAMPLES = r'''
- name: Trust the company CA and its intermediate in SI's client truststore
  wso2si.keystores.si_truststore:
    path: /opt/wso2si/resources/security/truststore.jks
    password: "{{ vault_truststore_password }}"
    certificates:
      - alias: corp-root-ca
        path: /etc/pki/corp/root-ca.pem
      - alias: corp-issuing-ca
        content: "{{ lookup('ansible.builtin.file', 'files/issuing-ca.pem') }}"

- name: A truststore with exactly these two CAs and nothing else
  wso2si.keystores.si_truststore:
    path: /opt/wso2si/resources/security/truststore.jks
    password: "{{ vault_truststore_password }}"
    exclusive: true
    certificates:
      - alias: corp-root-ca
        path: /etc/pki/corp/root-ca.pem
      - alias: partner-root-ca
        path: /etc/pki/partner/root-ca.pem

- name: Trust a partner's TLS endpoint, pinned (fails, writing nothing, if it serves another certificate)
  wso2si.keystores.si_truststore:
    path: /opt/wso2si/resources/security/client-truststore.jks
    password: "{{ vault_truststore_password }}"
    certificates:
      - alias: partner-broker
        url: broker.partner.example:9443
        sha256: "3A:7F:0C:91:5D:22:B8:4E:6A:1C:F0:93:27:DE:88:41:B5:6C:0A:19:E4:7D:32:9F:AB:60:15:C8:72:E3:4D:90"

- name: Stop trusting the shipped WSO2 certificate
  wso2si.keystores.si_truststore:
    path: /opt/wso2si/resources/security/client-truststore.jks
    password: "{{ vault_truststore_password }}"
    state: absent
    certificates:
      - alias: wso2carbon
'''

RETURN = r'''
added:
  description: Aliases added.
  returned: always
  type: list
  elements: str
  sample: [corp-root-ca]
replaced:
  description: Aliases whose certificate was replaced by another one.
  returned: always
  type: list
  elements: str
  sample: []
removed:
  description: Aliases removed.
  returned: always
  type: list
  elements: str
  sample: [wso2carbon]
entries:
  description: Number of entries in the store afterwards.
  returned: always
  type: int
  sample: 98
store_type:
  description: The store's type afterwards.
  returned: always
  type: str
  sample: jks
backup_file:
  description: The backup made before the change.
  returned: changed and O(backup=true)
  type: str
  sample: /opt/wso2si/resources/security/truststore.jks.2403.2026-11-27@13:45:01~
'''

from ansible_collections.wso2si.keystores.plugins.module_utils import argspec
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_truststore import TruststoreBackend
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run


def argument_spec():
    return argspec.store().merge(
        argspec.store_old_password(), argspec.store_backup(), argspec.store_strict_defaults(),
        argspec.material_expired(),
    ).update_argspec(
        certificates=dict(type='list', elements='dict', default=[], options=dict(
            alias=dict(type='str', required=True),
            content=dict(type='str'),
            path=dict(type='path'),
            url=dict(type='str'),
            sha256=dict(type='str'),
            timeout=dict(type='float', default=10),
        )),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        exclusive=dict(type='bool', default=False),
    )


def main():
    module = argument_spec().create_ansible_module(supports_check_mode=True, add_file_common_args=True)
    run(module, TruststoreBackend.execute)


if __name__ == '__main__':
    main()
