#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_tls_check
short_description: Check the certificate an SI TLS listener serves
version_added: 0.1.0
description:
  - Connects to a TLS listener (SI's HTTPS ports, databridge receivers) and returns the certificate it serves.
  - Fails when the served certificate is not O(expected_fingerprint), when its chain does not verify against the
    trusted certificates of O(truststore_path), or when it does not carry O(server_name) (a DNS name or an IP address).
  - Checks several listeners of one host in one task with O(ports).
  - Read-only; retries until O(timeout) so that it can follow a restart.
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store.ATTRIBUTES
options:
  host:
    description: Address to connect to.
    type: str
    default: 127.0.0.1
  port:
    description: TCP port of the listener (1 to 65535). One of O(port) and O(ports) is required.
    type: int
  ports:
    description:
      - TCP ports of several listeners, checked in order in one task, all against the same O(server_name),
        O(expected_fingerprint) and truststore. The task fails at the first listener that does not pass.
      - Without it, the one O(port) is checked.
    type: list
    elements: int
  server_name:
    description:
      - Name to send as SNI and to verify against the certificate's SANs. Defaults to O(host).
    type: str
  expected_fingerprint:
    description:
      - SHA-256 fingerprint the served certificate must have (keytool form; case and colons ignored).
      - Without it any certificate that verifies is accepted, and RV(fingerprint_sha256) tells which one it was.
    type: str
  truststore_path:
    description:
      - A JKS or PKCS#12 truststore whose trusted certificates the served chain must verify against, with its name
        checked against O(server_name).
      - Without it the chain and the name are not verified; only O(expected_fingerprint) is checked.
    type: path
  truststore_password:
    description: Password of O(truststore_path), needed with it.
    type: str
  timeout:
    description: Seconds to keep trying to connect (for all of O(ports) together); more than 0.
    type: int
    default: 30
'''

EXAMPLES = r'''
- name: The HTTPS listener serves the new certificate, trusted by the new truststore
  wso2si.keystores.si_tls_check:
    host: "{{ ansible_host | default(inventory_hostname) }}"
    port: 9443
    expected_fingerprint: "{{ keystore_result.fingerprint_sha256 }}"
    truststore_path: /opt/wso2si/resources/security/truststore.jks
    truststore_password: "{{ vault_truststore_password }}"

- name: Both HTTPS listeners (the API and the Siddhi store query API), in one task
  wso2si.keystores.si_tls_check:
    ports: [9443, 7443]
    server_name: si1.example.com
    expected_fingerprint: "{{ keystore_result.fingerprint_sha256 }}"
    truststore_path: /opt/wso2si/resources/security/truststore.jks
    truststore_password: "{{ vault_truststore_password }}"
'''

RETURN = r'''
listeners:
  description: One item per port checked, in order, with the keys below (and C(port)).
  returned: success
  type: list
  elements: dict
  sample:
    - port: 9443
      fingerprint_sha256: "3E:0A:...:91"
      subject: CN=si1.example.com
      not_after: "2027-11-27T16:18:48Z"
      protocol: TLSv1.3
fingerprint_sha256:
  description: SHA-256 fingerprint of the served certificate (of the first port checked).
  returned: success
  type: str
subject:
  description: Subject of the served certificate (of the first port checked).
  returned: success
  type: str
not_after:
  description: Expiry of the served certificate (of the first port checked).
  returned: success
  type: str
protocol:
  description: The negotiated TLS version (of the first port checked).
  returned: success
  type: str
'''

from ansible_collections.wso2si.keystores.plugins.module_utils.argspec import ArgumentSpec
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_tls_check import TlsCheckBackend
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run


def argument_spec():
    return ArgumentSpec(dict(
        host=dict(type='str', default='127.0.0.1'),
        port=dict(type='int'),
        ports=dict(type='list', elements='int'),
        server_name=dict(type='str'),
        expected_fingerprint=dict(type='str'),
        truststore_path=dict(type='path'),
        truststore_password=dict(type='str', no_log=True),
        timeout=dict(type='int', default=30),
    ), required_one_of=[('port', 'ports')], mutually_exclusive=[('port', 'ports')])


def main():
    module = argument_spec().create_ansible_module(supports_check_mode=True)
    run(module, TlsCheckBackend.execute)


if __name__ == '__main__':
    main()
