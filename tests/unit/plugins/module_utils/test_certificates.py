# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    InvalidInputError, KeyMismatchError, UnsupportedContentError,
)


def make_ca_chain(depth=4):
    """[leaf, intermediate..., root] signed in order."""
    keys = [certs.generate_private_key('ec') for dummy in range(depth)]
    chain = []
    issuer_name, issuer_key = None, None
    now = certs.utcnow()
    for level in range(depth - 1, -1, -1):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'level %d' % level)])
        builder = (x509.CertificateBuilder().subject_name(name)
                   .issuer_name(issuer_name or name).public_key(keys[level].public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30)))
        if level:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        cert = builder.sign(issuer_key or keys[level], hashes.SHA256())
        chain.insert(0, cert)
        issuer_name, issuer_key = name, keys[level]
    return chain, keys


@pytest.mark.parametrize('text, expected', [
    ('CN=host1, OU=IT, O=Org, L=City, ST=State, C=US', 'CN=host1, OU=IT, O=Org, L=City, ST=State, C=US'),
    ('CN=host1,OU=IT,O=Org,L=City,S=State,C=US', 'CN=host1, OU=IT, O=Org, L=City, ST=State, C=US'),
    ('cn=a\\, b, o=Org', 'CN=a\\, b, O=Org'),
    ('CN="quoted, value", O=Org', 'CN=quoted\\, value, O=Org'),
    ('CN=x, EMAILADDRESS=a@b.c', 'CN=x, EMAILADDRESS=a@b.c'),
    ('CN=x, E=a@b.c', 'CN=x, EMAILADDRESS=a@b.c'),
])
def test_subject_round_trip(text, expected):
    name = certs.parse_name(text)
    assert certs.name_to_string(name) == expected
    assert certs.parse_name(certs.name_to_string(name)) == name


def test_subject_order_matches_keytool():
    """keytool's -dname lists most specific first; the DER order is the reverse."""
    name = certs.parse_name('CN=host, O=Org, C=US')
    assert name.rdns[0].get_attributes_for_oid(NameOID.COUNTRY_NAME)
    assert name.rfc4514_string() == 'CN=host,O=Org,C=US'


def test_subject_dict():
    assert certs.parse_name({'CN': 'host', 'O': 'Org', 'C': 'LK'}) == certs.parse_name('CN=host, O=Org, C=LK')


@pytest.mark.parametrize('bad', ['', 'CN', 'XX=1', 'C=USA', 'CN=', 42])
def test_subject_errors(bad):
    with pytest.raises(InvalidInputError):
        certs.parse_name(bad)


@pytest.mark.parametrize('text, expected', [
    ('DNS:host.example.com', 'DNS:host.example.com'),
    ('dns:host', 'DNS:host'),
    ('IP:127.0.0.1', 'IP:127.0.0.1'),
    ('IP:::1', 'IP:::1'),
    ('URI:https://x.example/', 'URI:https://x.example/'),
    ('email:ops@example.com', 'email:ops@example.com'),
])
def test_san_round_trip(text, expected):
    assert certs.format_san(certs.parse_san(text)) == expected


@pytest.mark.parametrize('bad', ['host', 'DNS:', 'IP:300.1.1.1', 'RID:1.2.3', 'X400:foo'])
def test_san_errors(bad):
    with pytest.raises(InvalidInputError):
        certs.parse_san(bad)


def test_self_signed_certificate_facts():
    key = certs.generate_private_key('rsa', 2048)
    cert = certs.self_signed_certificate(key, certs.parse_name('CN=h'), ['DNS:h', 'IP:10.0.0.1'], 90)
    assert certs.is_self_signed(cert)
    assert certs.subject_alt_names(cert) == ['DNS:h', 'IP:10.0.0.1']
    assert certs.validity_days_of(cert) == 90
    assert certs.key_description(cert.public_key()) == ('RSA', 2048, None)
    fp = certs.fingerprint(cert)
    assert len(fp) == 95 and fp == fp.upper() and fp.count(':') == 31
    assert len(certs.fingerprint(cert, 'sha1')) == 59
    certs.check_key_matches(key, cert)
    with pytest.raises(KeyMismatchError):
        certs.check_key_matches(certs.generate_private_key('ec'), cert)


def test_rsa_below_2048_refused():
    with pytest.raises(InvalidInputError, match='2048'):
        certs.generate_private_key('rsa', 1024)


@pytest.mark.parametrize('curve, expected', [('secp256r1', 'secp256r1'), ('secp384r1', 'secp384r1'), ('p-521', 'secp521r1')])
def test_ec_curves(curve, expected):
    key = certs.generate_private_key('ec', curve=curve)
    assert certs.key_description(key)[2] == expected
    assert certs.key_matches_request(key, 'ec', 2048, curve)
    assert not certs.key_matches_request(key, 'rsa', 2048, None)


def test_load_certificates_formats():
    chain, dummy = make_ca_chain(3)
    pem = ''.join(certs.cert_to_pem(c) for c in chain)
    assert [certs.fingerprint(c) for c in certs.load_certificates(pem)] == [certs.fingerprint(c) for c in chain]
    assert certs.load_certificates(certs.cert_to_der(chain[0]))[0] == chain[0]
    p7_der = pkcs7.serialize_certificates(chain, serialization.Encoding.DER)
    p7_pem = pkcs7.serialize_certificates(chain, serialization.Encoding.PEM)
    assert len(certs.load_certificates(p7_der)) == 3
    assert len(certs.load_certificates(p7_pem)) == 3
    # trailing garbage after a PEM block is ignored, as openssl does
    assert len(certs.load_certificates(pem + 'trailing garbage\n')) == 3


@pytest.mark.parametrize('bad', [b'', b'garbage', b'-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n',
                                 b'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', b'\x30\x03\x02\x01\x01'])
def test_load_certificates_garbage(bad):
    with pytest.raises(InvalidInputError):
        certs.load_certificates(bad)


def test_load_certificates_wrong_pem_label():
    with pytest.raises(UnsupportedContentError):
        certs.load_certificates(b'-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')


def test_load_private_key_forms():
    key = certs.generate_private_key('rsa')
    enc = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(b'passphrase'))
    assert certs.public_keys_equal(certs.load_private_key(enc, 'passphrase'), key)
    with pytest.raises(InvalidInputError, match='encrypted'):
        certs.load_private_key(enc)
    with pytest.raises(InvalidInputError, match='passphrase'):
        certs.load_private_key(enc, 'wrong')
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    assert certs.public_keys_equal(certs.load_private_key(der), key)
    with pytest.raises(InvalidInputError):
        certs.load_private_key(b'not a key')


def test_build_chain_stops_at_missing_link():
    chain, dummy = make_ca_chain(4)
    partial = certs.build_chain(chain[0], [chain[1], chain[3]])
    assert partial == chain[:2]
    assert not certs.is_self_signed(partial[-1])


def test_signed_by_rejects_name_only_match():
    chain, dummy = make_ca_chain(2)
    impostor_key = certs.generate_private_key('ec')
    impostor = certs.self_signed_certificate(impostor_key, chain[1].subject)
    assert certs.signed_by(chain[0], chain[1])
    assert not certs.signed_by(chain[0], impostor)
