#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_csr
short_description: Make a certificate signing request from a key entry of a Java keystore
version_added: 0.1.0
description:
  - Makes a PKCS#10 certificate signing request (CSR) signed with the private key of a key entry in a JKS or PKCS#12
    keystore, such as the one WSO2 Streaming Integrator's HTTPS listeners use, as C(keytool -certreq) does.
  - The subject and the subject alternative names default to those of the key entry's certificate.
    Unlike C(keytool -certreq), which drops the SANs unless they are given again, the SANs are kept.
  - The request is returned and, with O(dest), written to a file on the managed host. An existing O(dest)
    that asks for the same thing (public key, subject, SANs, extensions and digest) is left alone.
  - The keystore itself is never written.
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store
  - wso2si.keystores.store.KEY_PASSWORD
  - wso2si.keystores.store.ATTRIBUTES
  - wso2si.keystores.material
  - ansible.builtin.files
options:
  store_type:
    description:
      - C(jks) or C(pkcs12). Only checked against the type read from the file's content; the store is never converted.
  alias:
    description:
      - The alias of the key entry. Java stores aliases in lower case.
      - An alias that holds a trusted certificate, not a private key, is refused.
    type: str
    required: true
  dest:
    description:
      - Where to write the request as PEM on the managed host.
      - Without it, the request is only returned in RV(csr) and the task never reports a change.
      - An existing file that holds another request, or no request, is replaced.
    type: path
  subject:
    description:
      - The subject, most specific first as keytool's C(-dname) takes it, for example C(CN=si.example.com, OU=IT, O=Example, C=US),
        or a dict of the same attributes in the same order (see the examples).
      - Defaults to the subject of the key entry's certificate.
    type: raw
  subject_alt_names:
    description:
      - Subject alternative names such as C(DNS:si.example.com) or C(IP:10.0.0.5) (also C(URI:) and C(email:)).
      - Defaults to the SANs of the key entry's certificate. An empty list asks for none.
    type: list
    elements: str
  digest:
    description:
      - The digest the request is signed with. Ignored for Ed25519 keys.
    type: str
    choices: [sha256, sha384, sha512]
    default: sha256
  key_usage:
    description:
      - The key usages to ask for, marked critical; an empty list asks for none.
      - Names as in RFC 5280, for example C(digitalSignature), C(keyEncipherment), C(keyAgreement).
      - The default fits a TLS server that is also a TLS client.
    type: list
    elements: str
    default: [digitalSignature, keyEncipherment]
  extended_key_usage:
    description:
      - The extended key usages to ask for; an empty list asks for none.
      - C(serverAuth), C(clientAuth), C(codeSigning), C(emailProtection), C(timeStamping), C(OCSPSigning), or a dotted OID.
      - The default fits a TLS server that is also a TLS client.
    type: list
    elements: str
    default: [serverAuth, clientAuth]
  mode:
    description:
      - The permissions of O(dest). A new file is created C(0644) unless this is set; an existing file keeps its mode.
notes:
  - The CA may not copy every requested extension into the certificate; check what it signed before importing it
    with M(wso2si.keystores.si_cert_import).
seealso:
  - module: wso2si.keystores.si_cert_import
  - module: wso2si.keystores.si_keystore
  - module: wso2si.keystores.si_keystore_info
'''

EXAMPLES = r'''
- name: Ask the company CA for a certificate for SI's HTTPS key (subject and SANs of the current certificate)
  wso2si.keystores.si_csr:
    path: /opt/wso2si/resources/security/wso2carbon.jks
    password: "{{ vault_keystore_password }}"
    alias: si-tls
    dest: /opt/wso2si/resources/security/si-tls.csr

- name: Fetch it to the controller for the CA
  ansible.builtin.fetch:
    src: /opt/wso2si/resources/security/si-tls.csr
    dest: csr/{{ inventory_hostname }}.csr
    flat: true

- name: A request with another subject and more names, returned only
  wso2si.keystores.si_csr:
    path: /opt/wso2si/resources/security/wso2carbon.jks
    password: "{{ vault_keystore_password }}"
    alias: si-tls
    subject: CN=si.example.com, OU=Integration, O=Example, C=US
    subject_alt_names:
      - DNS:si.example.com
      - DNS:{{ ansible_fqdn }}
      - IP:{{ ansible_default_ipv4.address }}
  register: request

- name: Show it
  ansible.builtin.debug:
    var: request.csr

- name: The subject as a dict
  wso2si.keystores.si_csr:
    path: /opt/wso2si/resources/security/wso2carbon.jks
    password: "{{ vault_keystore_password }}"
    alias: si-tls
    dest: /opt/wso2si/resources/security/si-tls.csr
    subject:
      CN: si.example.com
      O: Example
      C: US
'''

RETURN = r'''
csr:
  description: The request in PEM (the content of O(dest) when it was left alone).
  returned: always
  type: str
  sample: "-----BEGIN CERTIFICATE REQUEST-----\nMIIC...\n-----END CERTIFICATE REQUEST-----\n"
subject:
  description: The request's subject, most specific first.
  returned: always
  type: str
  sample: CN=si.example.com, OU=Integration, O=Example, C=US
subject_alt_names:
  description: The request's subject alternative names.
  returned: always
  type: list
  elements: str
  sample: [DNS:si.example.com, IP:10.0.0.5]
public_key_sha256:
  description: SHA-256 of the request's public key (DER SubjectPublicKeyInfo), the same for the key entry.
  returned: always
  type: str
  sample: 3C:5E:...:9A
dest:
  description: The file the request is in.
  returned: when O(dest) is set
  type: str
  sample: /opt/wso2si/resources/security/si-tls.csr
'''

from ansible_collections.wso2si.keystores.plugins.module_utils import argspec
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_csr import CsrBackend
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run


def argument_spec():
    return argspec.store().merge(argspec.store_key_password(), argspec.material()).update_argspec(
        dest=dict(type='path'),
        alias=dict(type='str', required=True),
        subject=dict(type='raw'),
        subject_alt_names=dict(type='list', elements='str'),
        digest=dict(type='str', choices=['sha256', 'sha384', 'sha512'], default='sha256'),
        key_usage=dict(type='list', elements='str', default=['digitalSignature', 'keyEncipherment']),
        extended_key_usage=dict(type='list', elements='str', default=['serverAuth', 'clientAuth']),
    )


def main():
    module = argument_spec().create_ansible_module(supports_check_mode=True, add_file_common_args=True)
    run(module, CsrBackend.execute)


if __name__ == '__main__':
    main()
