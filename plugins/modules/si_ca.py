#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_ca
short_description: A small CA, in one directory or given as content, that signs the CSRs of SI hosts
version_added: 0.1.0
description:
  - Keeps a certificate authority in O(ca_dir) (C(ca.key), mode 0600, and C(ca.pem)), or uses one given as content
    (O(ca_certificate) and O(ca_private_key), for instance from Ansible Vault or an automation controller credential).
  - A CA is created only when asked to (O(create=true)); a missing CA fails, saying where it was looked for and how
    to provide it. A CA given as content is only held in memory, never written anywhere.
  - O(ca_dir) is refused inside an installed collection, and inside a git work tree unless git ignores it.
  - Signs a certificate signing request (O(csr)) into O(dest), copying the request's subject, subject alternative
    names, key usage and extended key usage. An existing O(dest) or O(current_certificate) that this CA signed for
    the same key, subject and SANs, and that stays valid beyond O(renew_before_days), is kept.
  - With O(served_certificates), fails when a host serves a certificate issued by another CA than this one and those
    in O(accepted_issuers), before anything is signed or written.
  - Meant to run on the controller (C(delegate_to=localhost)), so that the CA key never leaves it. The role
    C(wso2si.keystores.rollout) uses it with C(rollout_ca_mode=ownca).
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store.ATTRIBUTES
  - wso2si.keystores.material
options:
  ca_dir:
    description:
      - Directory of the CA. Created (mode 0700) when missing.
      - One of O(ca_dir) and O(ca_certificate) is required.
    type: path
  ca_certificate:
    description:
      - The CA certificate (PEM), given as content with O(ca_private_key) instead of O(ca_dir).
    type: str
  ca_private_key:
    description:
      - The CA private key (PEM, optionally encrypted with O(ca_passphrase)), given as content with
        O(ca_certificate). It is only held in memory. Run the task with pipelining (the role sets
        C(ansible_pipelining=true) on it) so that Ansible does not write the module's arguments to a temporary
        file either.
    type: str
  create:
    description:
      - Create the CA in O(ca_dir) when the directory holds none. Without it a missing CA is an error.
      - Not valid with a CA given as content.
    type: bool
    default: false
  ca_subject:
    description: Subject of a new CA certificate, keytool style.
    type: str
    default: CN=WSO2 SI Rollout CA
  ca_key_type:
    description: Key type of a new CA.
    type: str
    choices: [rsa, ec]
    default: rsa
  ca_key_size:
    description:
      - RSA key size of a new CA; 3072 unless set. From 2048 to 16384.
      - Only for RSA; with O(ca_key_type=ec) the task fails.
    type: int
  ca_validity_days:
    description: Validity of a new CA certificate, in days (1 to 36500).
    type: int
    default: 3650
  ca_passphrase:
    description: Passphrase that encrypts the CA key (C(ca.key) or O(ca_private_key)). Needed to use an encrypted CA.
    type: str
  csr:
    description: A certificate signing request (PEM or DER) to sign. Without it the module only ensures the CA.
    type: str
  dest:
    description: Where to write the issued certificate (PEM). Its directory is created (mode C(0700)) when missing.
      Without it the certificate is only returned.
    type: path
  current_certificate:
    description:
      - The certificate the host holds now (PEM). Kept, instead of a new one, when this CA issued it for O(csr) and it
        stays valid beyond O(renew_before_days); this is what keeps a rerun from a fresh controller (no O(dest))
        from re-issuing every certificate.
    type: str
  served_certificates:
    description:
      - Host names and the certificate (PEM, or empty when the host has none yet) each serves now.
      - The module fails, naming them, when any of them was issued by a CA that is neither this CA nor one of
        O(accepted_issuers). Self-signed certificates are accepted. When O(create) is about to make a new CA, every
        CA-issued certificate not in O(accepted_issuers) is refused.
    type: dict
  accepted_issuers:
    description:
      - CA certificates (PEM) whose certificates O(served_certificates) may hold besides this CA's, such as the old
        CA in phase 2 of a CA rotation.
    type: list
    elements: str
    default: []
  validity_days:
    description: Validity of issued certificates, in days (1 to 36500; never beyond the CA's own expiry).
    type: int
    default: 365
  renew_before_days:
    description: Re-issue a certificate that expires within this many days.
    type: int
    default: 30
'''

EXAMPLES = r'''
- name: Create the CA, once, in a per-user directory outside any checkout
  wso2si.keystores.si_ca:
    ca_dir: "~/.local/share/wso2si-keystores/rollout-ca"
    create: true
  delegate_to: localhost
  run_once: true

- name: Sign each host's CSR on the controller
  wso2si.keystores.si_ca:
    ca_dir: "~/.local/share/wso2si-keystores/rollout-ca"
    csr: "{{ csr_result.csr }}"
    dest: "~/.local/share/wso2si-keystores/rollout-ca/issued/{{ inventory_hostname }}.pem"
  delegate_to: localhost

- name: Sign with a CA kept in Ansible Vault (or a controller credential), in memory only
  wso2si.keystores.si_ca:
    ca_certificate: "{{ vault_ca_certificate }}"
    ca_private_key: "{{ vault_ca_private_key }}"
    csr: "{{ csr_result.csr }}"
    current_certificate: "{{ current_certificate_pem }}"
  delegate_to: localhost
  vars:
    ansible_pipelining: true
'''

RETURN = r'''
ca_certificate:
  description: The CA certificate (PEM).
  returned: always
  type: str
ca_fingerprint_sha256:
  description: SHA-256 fingerprint of the CA certificate.
  returned: always
  type: str
ca_created:
  description: Whether the CA was created by this run.
  returned: always
  type: bool
ca_dir_state:
  description: Whether O(ca_dir) held a CA (V(present)) or not (V(absent), only with O(create) in check mode).
  returned: when O(ca_dir) is given
  type: str
certificate:
  description: The issued certificate (PEM).
  returned: when O(csr) is given
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the issued certificate.
  returned: when O(csr) is given
  type: str
not_after:
  description: Expiry of the issued certificate.
  returned: when O(csr) is given
  type: str
'''

from ansible_collections.wso2si.keystores.plugins.module_utils import argspec
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_ca import run


def argument_spec():
    return argspec.material().update_argspec(
        ca_dir=dict(type='path'),
        ca_certificate=dict(type='str'),
        ca_private_key=dict(type='str', no_log=True),
        create=dict(type='bool', default=False),
        ca_subject=dict(type='str', default='CN=WSO2 SI Rollout CA'),
        ca_key_type=dict(type='str', choices=['rsa', 'ec'], default='rsa'),
        ca_key_size=dict(type='int'),
        ca_validity_days=dict(type='int', default=3650),
        ca_passphrase=dict(type='str', no_log=True),
        csr=dict(type='str'),
        dest=dict(type='path'),
        current_certificate=dict(type='str'),
        served_certificates=dict(type='dict'),
        accepted_issuers=dict(type='list', elements='str', default=[]),
        validity_days=dict(type='int', default=365),
        renew_before_days=dict(type='int', default=30),
    ).update(
        required_one_of=[('ca_dir', 'ca_certificate')],
        mutually_exclusive=[('ca_dir', 'ca_certificate'), ('ca_dir', 'ca_private_key')],
        required_together=[('ca_certificate', 'ca_private_key')],
    )


def main():
    run(argument_spec().create_ansible_module(supports_check_mode=True))


if __name__ == '__main__':
    main()
