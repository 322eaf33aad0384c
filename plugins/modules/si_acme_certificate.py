#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_acme_certificate
short_description: Get a certificate for a CSR from an ACME CA (RFC 8555), in two steps around the challenge
version_added: 0.4.0
description:
  - Speaks ACME with any ACME CA (Let's Encrypt, step-ca, Vault/OpenBao PKI, EJBCA, Pebble...) through the
    C(acme) and C(josepy) Python libraries (certbot's ACME client). Meant to run on the controller
    (C(delegate_to=localhost)) with the CSR the managed host made with M(wso2si.keystores.si_csr); the host's
    private key never leaves it; the ACME account key stays on the controller.
  - O(step=order) decides whether the certificate the host serves (O(current_certificate)) must be replaced (no
    certificate, self-signed, another key or other names, not chaining to O(trusted_roots), inside the renewal
    window, or inside the window of the CA's ACME Renewal Information, RFC 9773, when the directory offers it).
    When it must, it finds or registers the account (with External Account Binding when given) and opens an order,
    returning the challenges to answer on the host.
  - O(step=finalize) tells the CA the challenges are ready, waits for validation, finalizes the order with the
    CSR and returns the issued certificate and its chain.
  - The account key and the EAB HMAC key are only held in memory; run the task with pipelining (the role sets
    C(ansible_pipelining=true) on it) so that Ansible does not write the module's arguments to a file either.
author: wso2si.keystores contributors (@wso2si)
requirements:
  - acme >= 5.0.0 and josepy >= 2.0.0 on the controller (where the task runs)
  - cryptography >= 41.0.0
attributes:
  check_mode:
    support: full
    description: Decides whether to renew (reading ACME Renewal Information) and opens no order.
  diff_mode:
    support: none
    description: Nothing it does is shown as a diff.
  idempotent:
    support: full
    description: O(step=order) opens an order only when the current certificate must be replaced.
options:
  step:
    description: V(order) decides and opens an order; V(finalize) completes an order whose challenges are answered.
    type: str
    choices: [order, finalize]
    required: true
  directory:
    description: The ACME directory URL of the CA.
    type: str
    required: true
  account_key:
    description: The ACME account's private key (PEM, RSA 2048 or more, or EC P-256/P-384/P-521), as content.
    type: str
    required: true
  ca_bundle:
    description: CA certificates (a PEM file on the controller) that sign the ACME server's own TLS certificate, for an
      internal CA. Default is the system's trust.
    type: path
  contact:
    description: Contact URLs of a new account (C(mailto:ops@example.com)).
    type: list
    elements: str
    default: []
  terms_agreed:
    description: Agree to the CA's terms of service when registering a new account (some CAs require it).
    type: bool
    default: false
  eab_kid:
    description:
      - Key identifier of the External Account Binding (most internal ACME CAs require one), with O(eab_hmac_key).
      - Without it a new account is registered without External Account Binding.
    type: str
  eab_hmac_key:
    description:
      - HMAC key of the External Account Binding (base64url, as the CA gives it), with O(eab_kid).
      - Without it a new account is registered without External Account Binding.
    type: str
  csr:
    description: The host's certificate signing request (PEM).
    type: str
    required: true
  challenge_type:
    description: The challenge to answer, V(http-01), or V(dns-01) with a user-supplied task file.
    type: str
    choices: [http-01, dns-01]
    default: http-01
  current_certificate:
    description: The certificate the host serves now and its chain (PEM, leaf first); empty when it has none.
      Only with O(step=order).
    type: str
    default: ''
  trusted_roots:
    description: Root certificates (PEM) of the ACME CA. When given, a current certificate that does not chain to one
      of them is replaced (the host moves from another CA).
    type: list
    elements: str
    default: []
  renew_before_days:
    description: Replace a certificate that expires within this many days.
    type: int
    default: 30
  renew_before_percent:
    description: Replace a certificate in the last this-many percent of its lifetime (0 to 100; 0 is off).
    type: int
    default: 0
  force:
    description: Replace the certificate whatever its state.
    type: bool
    default: false
  order_url:
    description: The order that O(step=order) opened. Required with O(step=finalize).
    type: str
  timeout:
    description: Seconds to wait for validation and issuance (O(step=finalize)), and for each HTTP request.
    type: int
    default: 90
'''

EXAMPLES = r'''
- name: Decide and open an order
  wso2si.keystores.si_acme_certificate:
    step: order
    directory: https://acme.internal.example.com/directory
    account_key: "{{ vault_acme_account_key }}"
    eab_kid: "{{ vault_acme_eab_kid }}"
    eab_hmac_key: "{{ vault_acme_eab_hmac_key }}"
    csr: "{{ csr.csr }}"
    current_certificate: "{{ served_chain }}"
  vars:
    ansible_pipelining: true
  delegate_to: localhost
  register: acme_order

- name: Complete it, once the challenges are answered on the host
  wso2si.keystores.si_acme_certificate:
    step: finalize
    directory: https://acme.internal.example.com/directory
    account_key: "{{ vault_acme_account_key }}"
    csr: "{{ csr.csr }}"
    order_url: "{{ acme_order.order_url }}"
  vars:
    ansible_pipelining: true
  delegate_to: localhost
  when: acme_order.renew
'''

RETURN = r'''
renew:
  description: Whether the certificate is to be replaced (O(step=order)).
  returned: always
  type: bool
reason:
  description: Why it is replaced, or why it is kept.
  returned: always
  type: str
  sample: the certificate expires within 30 days
renewal_window:
  description: The renewal window the CA suggests (ACME Renewal Information), when it offers one.
  returned: when the directory has renewalInfo and a current certificate was given
  type: dict
account_url:
  description: The account's URL at the CA.
  returned: when an order was opened or finalized
  type: str
order_url:
  description: The order's URL, for O(step=finalize).
  returned: when an order was opened
  type: str
challenges:
  description:
    - The challenges to answer, one per identifier not yet validated, each with C(type), C(identifier), C(token),
      C(key_authorization) and, for http-01, C(path) (to serve over plain HTTP on port 80 of the identifier), for
      dns-01, C(record) and C(value) (the TXT record).
  returned: always (empty unless an order was opened)
  type: list
  elements: dict
certificate:
  description: The issued certificate (PEM).
  returned: O(step=finalize)
  type: str
chain:
  description: The issuing CA certificates the server returned (PEM), leaf excluded, nearest first.
  returned: O(step=finalize)
  type: list
  elements: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the issued certificate.
  returned: O(step=finalize)
  type: str
not_after:
  description: The end of the issued certificate's validity (UTC, ISO 8601).
  returned: O(step=finalize)
  type: str
  sample: "2026-09-01T12:00:00Z"
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.wso2si.keystores.plugins.module_utils import acme_client
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.deps import check_dependencies
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError


def decide(module, p):
    csr = certs.load_csr(p['csr'])
    current = certs.load_certificates(p['current_certificate'], what='the current certificate') \
        if p['current_certificate'].strip() else []
    roots = [c for pem in p['trusted_roots'] if pem and pem.strip()
             for c in certs.load_certificates(pem, what='a trusted root')]
    if not 0 <= p['renew_before_percent'] <= 100:
        raise InvalidInputError('renew_before_percent must be from 0 to 100')
    session = acme_client.AcmeSession(p['directory'], p['account_key'], p['ca_bundle'], timeout=p['timeout'])
    window = session.ari_window(current[0]) if current else None
    reason = 'forced' if p['force'] else acme_client.renewal_reason(
        current, csr, p['renew_before_days'], p['renew_before_percent'], roots, window)
    result = dict(changed=reason is not None, renew=reason is not None,
                  reason=reason or 'the certificate is kept: CA-issued for this key and names, outside the renewal window',
                  challenges=[])
    if window is not None:
        result['renewal_window'] = dict(start=certs.iso(window[0]), end=certs.iso(window[1]))
    if reason is None or module.check_mode:
        return result
    result['account_url'] = session.account(p['contact'], p['eab_kid'], p['eab_hmac_key'], p['terms_agreed'])
    result.update(session.order(p['csr'], p['challenge_type']))
    return result


def finalize(module, p):
    if not p['order_url']:
        raise InvalidInputError('step=finalize needs the order_url that step=order returned')
    certs.load_csr(p['csr'])
    result = dict(changed=True, renew=True, reason='issued', challenges=[])
    if module.check_mode:
        return result
    session = acme_client.AcmeSession(p['directory'], p['account_key'], p['ca_bundle'], timeout=p['timeout'])
    result['account_url'] = session.account(create=False)
    chain = session.finalize(p['order_url'], p['csr'], p['challenge_type'], timeout=p['timeout'])
    leaf = certs.load_certificates(chain[0])[0]
    result.update(certificate=chain[0], chain=chain[1:],
                  fingerprint_sha256=certs.fingerprint(leaf), not_after=certs.iso(certs.not_after(leaf)))
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            step=dict(type='str', choices=['order', 'finalize'], required=True),
            directory=dict(type='str', required=True),
            account_key=dict(type='str', required=True, no_log=True),
            ca_bundle=dict(type='path'),
            contact=dict(type='list', elements='str', default=[]),
            terms_agreed=dict(type='bool', default=False),
            eab_kid=dict(type='str'),
            eab_hmac_key=dict(type='str', no_log=True),
            csr=dict(type='str', required=True),
            challenge_type=dict(type='str', choices=['http-01', 'dns-01'], default='http-01'),
            current_certificate=dict(type='str', default=''),
            trusted_roots=dict(type='list', elements='str', default=[]),
            renew_before_days=dict(type='int', default=30),
            renew_before_percent=dict(type='int', default=0),
            force=dict(type='bool', default=False),
            order_url=dict(type='str'),
            timeout=dict(type='int', default=90),
        ),
        required_together=[('eab_kid', 'eab_hmac_key')],
        supports_check_mode=True,
    )
    check_dependencies(module)
    if acme_client.ACME_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib('acme >= %s and josepy (on the controller)' % acme_client.MINIMUM_ACME_VERSION),
                         exception=acme_client.ACME_IMPORT_ERROR)
    p = module.params
    try:
        result = decide(module, p) if p['step'] == 'order' else finalize(module, p)
    except KeystoreError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
