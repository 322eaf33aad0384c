#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Pebble (Let's Encrypt's ACME test server) and its mock DNS on loopback, for one test run.

Pebble validates challenges for real (no PEBBLE_VA_ALWAYS_VALID): its
validation authority resolves each name through pebble-challtestsrv's DNS
(records added with ``add_a``) and fetches http-01 answers on ``http_port`` of
the address. Every port is picked free; nothing is fixed, so parallel runs do
not meet. External Account Binding is required, with a key made for the run.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request


def free_port(address='127.0.0.1', udp_too=False):
    for dummy in range(50):
        tcp = socket.socket()
        tcp.bind((address, 0))
        port = tcp.getsockname()[1]
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if udp_too:
                udp.bind((address, port))
            return port
        except OSError:
            continue
        finally:
            tcp.close()
            udp.close()
    raise RuntimeError('no free port')


def _tls_material(directory):
    """A throw-away CA and a certificate for 127.0.0.1 for Pebble's own HTTPS."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Pebble HTTPS test CA')])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'localhost')]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName('localhost'),
                                                        x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {n: os.path.join(directory, n) for n in ('https-ca.pem', 'https-cert.pem', 'https-key.pem')}
    with open(paths['https-ca.pem'], 'wb') as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths['https-cert.pem'], 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths['https-key.pem'], 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class Pebble(object):
    def __init__(self, directory):
        for tool in ('pebble', 'pebble-challtestsrv'):
            if not shutil.which(tool):
                raise FileNotFoundError(tool)
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.procs = []
        tls = _tls_material(directory)
        self.ca_bundle = tls['https-ca.pem']
        self.acme_port, self.mgmt_port, self.http_port = free_port(), free_port(), free_port()
        self.dns_port, self.dns_mgmt_port = free_port(udp_too=True), free_port()
        self.eab_kid = 'kid-' + secrets.token_hex(4)
        self.eab_hmac = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode('ascii').rstrip('=')
        config = {'pebble': {
            'listenAddress': '127.0.0.1:%d' % self.acme_port,
            'managementListenAddress': '127.0.0.1:%d' % self.mgmt_port,
            'certificate': tls['https-cert.pem'], 'privateKey': tls['https-key.pem'],
            'httpPort': self.http_port, 'tlsPort': free_port(), 'ocspResponderURL': '',
            'externalAccountBindingRequired': True,
            'externalAccountMACKeys': {self.eab_kid: self.eab_hmac}}}
        config_path = os.path.join(directory, 'pebble-config.json')
        fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            json.dump(config, f)
        # an address nothing listens on answers every name not added
        self._start('challtestsrv', ['pebble-challtestsrv', '-defaultIPv4', '127.0.0.254', '-defaultIPv6', '',
                                     '-dns01', '127.0.0.1:%d' % self.dns_port, '-http01', '', '-https01', '',
                                     '-tlsalpn01', '', '-management', '127.0.0.1:%d' % self.dns_mgmt_port], {})
        # real validation: no PEBBLE_VA_ALWAYS_VALID; no random sleeps, nonce rejections or authorization reuse
        self._start('pebble', ['pebble', '-config', config_path, '-strict=false',
                               '-dnsserver', '127.0.0.1:%d' % self.dns_port],
                    {'PEBBLE_VA_NOSLEEP': '1', 'PEBBLE_WFE_NONCEREJECT': '0', 'PEBBLE_AUTHZREUSE': '0'})
        self.directory = 'https://127.0.0.1:%d/dir' % self.acme_port
        context = ssl.create_default_context(cafile=self.ca_bundle)
        mgmt = ssl.create_default_context()
        mgmt.check_hostname = False
        mgmt.verify_mode = ssl.CERT_NONE  # Pebble's management interface, on loopback, with the same test certificate
        # every interface is ready (the ACME one, the mock DNS, the management one, which may open later)
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.directory, context=context, timeout=5).read()
                self._post_dns('/add-a', {'host': 'ready.test', 'addresses': ['127.0.0.254']})
                self.root_pem = urllib.request.urlopen('https://127.0.0.1:%d/roots/0' % self.mgmt_port, context=mgmt,
                                                       timeout=5).read().decode('ascii')
                break
            except OSError:
                if time.time() > deadline or any(p.poll() is not None for p in self.procs):
                    self.stop()
                    raise RuntimeError('pebble did not start; see %s' % directory)
                time.sleep(0.1)

    def _start(self, name, argv, extra_env):
        log = open(os.path.join(self.dir, name + '.log'), 'wb')
        self.procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           env=dict(os.environ, **extra_env), start_new_session=True))
        log.close()

    def _post_dns(self, path, body):
        req = urllib.request.Request('http://127.0.0.1:%d%s' % (self.dns_mgmt_port, path),
                                     data=json.dumps(body).encode('ascii'), method='POST')
        urllib.request.urlopen(req, timeout=5).read()

    def add_a(self, name, address):
        self._post_dns('/add-a', {'host': name.rstrip('.') + '.', 'addresses': [address]})

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []
