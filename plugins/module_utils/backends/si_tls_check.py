# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_tls_check: the certificate TLS listeners serve, verified (nothing is written)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket
import ssl
import time

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.common import Backend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore


def context_for(p):
    """An SSL context verifying against the truststore ``truststore_path``, or verifying nothing without one."""
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


def handshake(p, ctx, port, deadline):
    """(DER of the served certificate, protocol), retrying until ``deadline``."""
    server_name = p['server_name'] or p['host']
    while True:
        try:
            # a listener that accepts and stays silent must not hold the task past its timeout
            with socket.create_connection((p['host'], port), timeout=max(1, min(10, deadline - time.time()))) as sock:
                with ctx.wrap_socket(sock, server_hostname=server_name) as tls:
                    return tls.getpeercert(binary_form=True), tls.version()
        except ssl.SSLCertVerificationError as exc:
            raise KeystoreError('the certificate served on %s:%d does not verify: %s'
                                % (p['host'], port, exc.verify_message or exc.reason))
        except (OSError, ssl.SSLError) as exc:
            if time.time() >= deadline:
                raise KeystoreError('no TLS listener answered on %s:%d within %d seconds (%s)'
                                    % (p['host'], port, p['timeout'], exc))
            time.sleep(1)


def probe(p, ctx, port, deadline):
    """The facts of the certificate served on ``port``, checked against ``expected_fingerprint``."""
    der, protocol = handshake(p, ctx, port, deadline)
    cert = certs.load_certificates(der)[0]
    result = dict(port=port, fingerprint_sha256=certs.fingerprint(cert), subject=certs.name_to_string(cert.subject),
                  not_after=certs.iso(certs.not_after(cert)), protocol=protocol)
    expected = (p['expected_fingerprint'] or '').replace(':', '').upper()
    if expected and expected != result['fingerprint_sha256'].replace(':', ''):
        raise KeystoreError('%s:%d serves the certificate %s (%s), not the expected %s'
                            % (p['host'], port, result['fingerprint_sha256'], result['subject'],
                               p['expected_fingerprint']))
    return result


class TlsCheckBackend(Backend):

    def __init__(self, module):
        super(TlsCheckBackend, self).__init__(module)
        self.ports = []
        self.ctx = None
        self.listeners = []

    def check(self):
        p = self.params
        if p['ports'] is not None and not p['ports']:
            raise InvalidInputError('ports must name at least one port')
        self.ports = p['ports'] or [p['port']]
        for port in self.ports:
            if not 1 <= port <= 65535:
                raise InvalidInputError('port %d is not a TCP port (1 to 65535)' % port)
        if p['timeout'] <= 0:
            raise InvalidInputError('timeout must be more than 0 seconds (got %d)' % p['timeout'])

    def read(self):
        self.ctx = context_for(self.params)
        deadline = time.time() + self.params['timeout']
        self.listeners = [probe(self.params, self.ctx, port, deadline) for port in self.ports]

    def dump(self):
        result = dict((k, v) for k, v in self.listeners[0].items() if k != 'port')
        result.update(changed=False, listeners=self.listeners)
        return result
