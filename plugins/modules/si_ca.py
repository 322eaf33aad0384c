#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_ca
short_description: A small CA in one directory that signs the CSRs of SI hosts
version_added: 0.1.0
description:
  - Keeps a certificate authority in O(ca_dir) (C(ca.key), mode 0600, and C(ca.pem)), creating it when absent.
  - Signs a certificate signing request (O(csr)) into O(dest), copying the request's subject, subject alternative
    names, key usage and extended key usage. An existing O(dest) that this CA signed for the same key, subject and
    SANs, and that stays valid beyond O(renew_before_days), is kept.
  - Meant to run on the controller (C(delegate_to=localhost)), so that the CA key never leaves it. The role
    C(wso2si.keystores.rollout) uses it with C(rollout_ca_mode=ownca).
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store.ATTRIBUTES
  - wso2si.keystores.material
options:
  ca_dir:
    description: Directory of the CA. Created (mode 0700) when missing.
    type: path
    required: true
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
    description: Passphrase that encrypts C(ca.key). Needed to use an encrypted CA.
    type: str
  csr:
    description: A certificate signing request (PEM or DER) to sign. Without it the module only ensures the CA.
    type: str
  dest:
    description: Where to write the issued certificate (PEM). Required with O(csr). Its directory is created (mode
      C(0700)) when missing.
    type: path
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
- name: Sign each host's CSR on the controller
  wso2si.keystores.si_ca:
    ca_dir: "{{ playbook_dir }}/ca"
    csr: "{{ csr_result.csr }}"
    dest: "{{ playbook_dir }}/ca/issued/{{ inventory_hostname }}.pem"
  delegate_to: localhost
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

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.deps import check_dependencies
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import atomic_write, locked, read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.ownca import OwnCA, load_csr


def check_options(p):
    """Range checks, before anything is read or written."""
    if p['ca_key_size'] is not None:
        if p['ca_key_type'] != 'rsa':
            raise InvalidInputError('ca_key_size applies to RSA keys only (ca_key_type is %s)' % p['ca_key_type'])
        if not certs.MIN_RSA_KEY_BITS <= p['ca_key_size'] <= 16384:
            raise InvalidInputError('ca_key_size must be from %d to 16384 bits (asked for %d)'
                                    % (certs.MIN_RSA_KEY_BITS, p['ca_key_size']))
    certs.check_validity_days(p['ca_validity_days'], 'ca_validity_days')
    certs.check_validity_days(p['validity_days'])
    if p['renew_before_days'] < 0:
        raise InvalidInputError('renew_before_days must be 0 or more (got %d)' % p['renew_before_days'])


def ensure(module):
    p = module.params
    ca = OwnCA(p['ca_dir'], p['ca_passphrase'])
    changed = created = False
    if not ca.load():
        ca.create(p['ca_subject'], p['ca_key_type'], p['ca_key_size'] or 3072, None, p['ca_validity_days'],
                  write=not module.check_mode)
        changed = created = True
    result = dict(ca_certificate=certs.cert_to_pem(ca.cert), ca_fingerprint_sha256=certs.fingerprint(ca.cert),
                  ca_created=created)
    if p['csr']:
        if not p['dest']:
            raise InvalidInputError('dest is required to sign a CSR')
        csr = load_csr(p['csr'])
        # a weak request is refused before an issued certificate for it is even looked at
        certs.check_key_strength(csr.public_key(), 'the certificate signing request', p['allow_weak_keys'],
                                 module.warn)
        data = read_file(p['dest'], what='the issued certificate %s' % p['dest'])
        issued = certs.load_certificates(data)[0] if data else None
        if issued is None or not ca.issued_matches(issued, csr, p['renew_before_days']):
            issued = ca.sign(csr, p['validity_days'], allow_weak_keys=p['allow_weak_keys'])
            changed = True
            if not module.check_mode:
                atomic_write(p['dest'], certs.cert_to_pem(issued).encode('ascii'), mode=0o644)
        result.update(certificate=certs.cert_to_pem(issued), fingerprint_sha256=certs.fingerprint(issued),
                      not_after=certs.iso(certs.not_after(issued)))
    result['changed'] = changed
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ca_dir=dict(type='path', required=True),
            ca_subject=dict(type='str', default='CN=WSO2 SI Rollout CA'),
            ca_key_type=dict(type='str', choices=['rsa', 'ec'], default='rsa'),
            ca_key_size=dict(type='int'),
            ca_validity_days=dict(type='int', default=3650),
            ca_passphrase=dict(type='str', no_log=True),
            csr=dict(type='str'),
            dest=dict(type='path'),
            validity_days=dict(type='int', default=365),
            renew_before_days=dict(type='int', default=30),
            allow_weak_keys=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    check_dependencies(module)
    p = module.params
    try:
        check_options(p)  # before the CA directory is made
        for directory in (p['ca_dir'], os.path.dirname(p['dest'] or '') or None):
            if directory and not os.path.isdir(directory) and not module.check_mode:
                os.makedirs(directory, 0o700, exist_ok=True)
        if os.path.isdir(p['ca_dir']):
            with locked(os.path.join(p['ca_dir'], 'ca.pem')):
                result = ensure(module)
        else:
            result = ensure(module)
    except KeystoreError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg='cannot prepare the CA directory %s: %s' % (p['ca_dir'], exc.strerror))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
