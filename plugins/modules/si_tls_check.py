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

import socket
import ssl
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.deps import check_dependencies
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore


def context_for(module):
    p = module.params
    if not p['truststore_path']:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    data = read_file(p['truststore_path'], what='the truststore %s' % p['truststore_path'])
    if data is None:
        raise InvalidInputError('the truststore %s does not exist' % p['truststore_path'])
    store = Keystore.loads(data, p['truststore_password'] or '', what='the truststore %s' % p['truststore_path'])
    pem = ''.join(certs.cert_to_pem(e.certificate) for e in store.trusted_entries())
    if not pem:
        raise InvalidInputError('the truststore %s holds no trusted certificate' % p['truststore_path'])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=pem)
    ctx.check_hostname = True
    return ctx


def probe(module, ctx, port, deadline):
    p = module.params
    server_name = p['server_name'] or p['host']
    while True:
        try:
            # a listener that accepts and stays silent must not hold the task past its timeout
            with socket.create_connection((p['host'], port), timeout=max(1, min(10, deadline - time.time()))) as sock:
                with ctx.wrap_socket(sock, server_hostname=server_name) as tls:
                    der = tls.getpeercert(binary_form=True)
                    protocol = tls.version()
            break
        except ssl.SSLCertVerificationError as exc:
            raise KeystoreError('the certificate served on %s:%d does not verify: %s'
                                % (p['host'], port, exc.verify_message or exc.reason))
        except (OSError, ssl.SSLError) as exc:
            if time.time() >= deadline:
                raise KeystoreError('no TLS listener answered on %s:%d within %d seconds (%s)'
                                    % (p['host'], port, p['timeout'], exc))
            time.sleep(1)
    cert = certs.load_certificates(der)[0]
    result = dict(port=port, fingerprint_sha256=certs.fingerprint(cert), subject=certs.name_to_string(cert.subject),
                  not_after=certs.iso(certs.not_after(cert)), protocol=protocol)
    expected = (p['expected_fingerprint'] or '').replace(':', '').upper()
    if expected and expected != result['fingerprint_sha256'].replace(':', ''):
        raise KeystoreError('%s:%d serves the certificate %s (%s), not the expected %s'
                            % (p['host'], port, result['fingerprint_sha256'], result['subject'],
                               p['expected_fingerprint']))
    return result


def check(module):
    p = module.params
    if p['ports'] is not None and not p['ports']:
        raise InvalidInputError('ports must name at least one port')
    for port in p['ports'] or [p['port']]:
        if not 1 <= port <= 65535:
            raise InvalidInputError('port %d is not a TCP port (1 to 65535)' % port)
    if p['timeout'] <= 0:
        raise InvalidInputError('timeout must be more than 0 seconds (got %d)' % p['timeout'])
    ctx = context_for(module)
    deadline = time.time() + p['timeout']
    listeners = [probe(module, ctx, port, deadline) for port in (p['ports'] or [p['port']])]
    result = dict((k, v) for k, v in listeners[0].items() if k != 'port')
    result.update(changed=False, listeners=listeners)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', default='127.0.0.1'),
            port=dict(type='int'),
            ports=dict(type='list', elements='int'),
            server_name=dict(type='str'),
            expected_fingerprint=dict(type='str'),
            truststore_path=dict(type='path'),
            truststore_password=dict(type='str', no_log=True),
            timeout=dict(type='int', default=30),
        ),
        required_one_of=[('port', 'ports')],
        mutually_exclusive=[('port', 'ports')],
        supports_check_mode=True,
    )
    check_dependencies(module)
    try:
        result = check(module)
    except KeystoreError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
