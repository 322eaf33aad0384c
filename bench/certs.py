# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Test material for the benchmarks, made once and cached.

    certificates(cache_dir, n)  -> [path of ca-0000.pem, ...]   (n self-signed CA certificates)
    identity(cache_dir)         -> (key.pem, cert.pem)          (an RSA 2048 key and its certificate)

The CA certificates all share one RSA 2048 key (a JDK cacerts entry is an RSA
certificate of about this size; one key keeps making 5000 of them to a few
seconds) and differ in subject and serial number, so every one has its own
fingerprint. They are cached under the cache directory and made again only
when the cache has fewer than asked for or an older layout.
"""

from __future__ import annotations

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

LAYOUT = 'v1'


def _write(path, data):
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


def _key(directory):
    path = os.path.join(directory, 'ca-key.pem')
    if os.path.exists(path):
        with open(path, 'rb') as f:
            return serialization.load_pem_private_key(f.read(), None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return key


def _ca_certificate(key, n, now):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Bench Root CA %04d' % n),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'wso2si.keystores benchmark'),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, 'LK')])
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1000 + n)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))


def certificates(cache_dir, n):
    """Paths of ``n`` cached CA certificates (PEM), made on first use."""
    directory = os.path.join(cache_dir, 'ca-' + LAYOUT)
    os.makedirs(directory, exist_ok=True)
    paths = [os.path.join(directory, 'ca-%04d.pem' % i) for i in range(n)]
    missing = [i for i, p in enumerate(paths) if not os.path.exists(p)]
    if missing:
        key = _key(directory)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        for i in missing:
            _write(paths[i], _ca_certificate(key, i, now).public_bytes(serialization.Encoding.PEM))
    return paths


def identity(cache_dir):
    """(private key path, certificate path): an RSA 2048 key with a self-signed
    server certificate, the input java_keystore and si_keystore's PEM mode take."""
    directory = os.path.join(cache_dir, 'identity-' + LAYOUT)
    os.makedirs(directory, exist_ok=True)
    key_path = os.path.join(directory, 'key.pem')
    cert_path = os.path.join(directory, 'cert.pem')
    if not (os.path.exists(key_path) and os.path.exists(cert_path)):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'bench.example.com')])
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=365))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName('bench.example.com')]), critical=False)
                .sign(key, hashes.SHA256()))
        _write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
