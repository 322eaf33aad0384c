# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The CSR helpers of certificates.py: key usages, requests, comparison."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError

SUBJECT = 'CN=si.example.com, OU=Integration, O=Example, C=US'
SANS = ['DNS:si.example.com', 'IP:10.0.0.5']
KU = ['digitalSignature', 'keyEncipherment']
EKU = ['serverAuth', 'clientAuth']


@pytest.fixture(scope='module')
def rsa_key():
    return certs.generate_private_key('rsa', 2048)


@pytest.fixture(scope='module')
def other_key():
    return certs.generate_private_key('rsa', 2048)


def request(key, subject=SUBJECT, sans=None, ku=None, eku=None, digest='sha256'):
    return certs.build_csr(key, certs.parse_name(subject), SANS if sans is None else sans, KU if ku is None else ku,
                           EKU if eku is None else eku, digest)


@pytest.mark.parametrize('names, expected', [
    (['digitalSignature', 'keyEncipherment'], ['digitalSignature', 'keyEncipherment']),
    (['keyEncipherment', 'digitalSignature', 'digitalSignature'], ['digitalSignature', 'keyEncipherment']),
    (['DigitalSignature', 'key_encipherment', 'nonRepudiation'], ['digitalSignature', 'contentCommitment', 'keyEncipherment']),
    (['keyAgreement', 'encipherOnly'], ['keyAgreement', 'encipherOnly']),
    (['keyCertSign', 'cRLSign'], ['keyCertSign', 'cRLSign']),
])
def test_key_usage_round_trip(names, expected):
    assert certs.format_key_usage(certs.parse_key_usage(names)) == expected


@pytest.mark.parametrize('names', [[], None])
def test_no_key_usage(names):
    assert certs.parse_key_usage(names) is None
    assert certs.parse_extended_key_usage(names) is None


@pytest.mark.parametrize('names, message', [
    (['signEverything'], 'unknown key usage'),
    (['decipherOnly'], 'need keyAgreement'),
])
def test_bad_key_usage(names, message):
    with pytest.raises(InvalidInputError, match=message):
        certs.parse_key_usage(names)


@pytest.mark.parametrize('names, expected', [
    (['serverAuth', 'clientAuth'], ['serverAuth', 'clientAuth']),
    (['SERVERAUTH', 'serverAuth', 'ocspsigning'], ['serverAuth', 'OCSPSigning']),
    (['1.3.6.1.4.1.311.10.3.4', 'codeSigning'], ['1.3.6.1.4.1.311.10.3.4', 'codeSigning']),
])
def test_extended_key_usage_round_trip(names, expected):
    assert certs.format_extended_key_usage(certs.parse_extended_key_usage(names)) == expected


@pytest.mark.parametrize('name, message', [
    ('webServer', 'unknown extended key usage'),
    ('3.1.2', 'unknown extended key usage'),
    ('x.1', 'unknown extended key usage'),
    ('1.40.1', 'not a valid OID'),
])
def test_bad_extended_key_usage(name, message):
    with pytest.raises(InvalidInputError, match=message):
        certs.parse_extended_key_usage([name])


def test_signature_hash(rsa_key):
    assert certs.signature_hash(rsa_key).name == 'sha256'
    assert certs.signature_hash(rsa_key, 'SHA-384').name == 'sha384'
    assert certs.signature_hash(ed25519.Ed25519PrivateKey.generate(), 'sha512') is None
    with pytest.raises(InvalidInputError, match='unsupported digest'):
        certs.signature_hash(rsa_key, 'md5')


def test_build_csr_facts(rsa_key):
    csr = request(rsa_key)
    assert csr.is_signature_valid
    assert certs.csr_facts(csr) == {
        'subject': SUBJECT,
        'subject_alt_names': SANS,
        'key_usage': KU,
        'extended_key_usage': EKU,
        'public_key_sha256': certs.public_key_sha256(rsa_key),
        'digest': 'sha256',
    }
    ku = csr.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert not csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).critical


def test_build_csr_without_extensions(rsa_key):
    csr = request(rsa_key, sans=[], ku=[], eku=[])
    assert len(csr.extensions) == 0
    facts = certs.csr_facts(csr)
    assert facts['subject_alt_names'] == facts['key_usage'] == facts['extended_key_usage'] == []


@pytest.mark.parametrize('key', [
    ec.generate_private_key(ec.SECP256R1()),
    ed25519.Ed25519PrivateKey.generate(),
])
def test_build_csr_other_keys(key):
    csr = request(key, digest='sha384')
    assert csr.is_signature_valid
    assert certs.public_keys_equal(csr.public_key(), key)


def test_general_names_pass_through(rsa_key):
    other_name = x509.OtherName(x509.ObjectIdentifier('1.3.6.1.4.1.311.20.2.3'), b'\x0c\x03abc')
    csr = request(rsa_key, sans=[x509.DNSName('a.example.com'), other_name])
    names = list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    assert names == [x509.DNSName('a.example.com'), other_name]


def test_csr_pem_round_trip(rsa_key):
    csr = request(rsa_key)
    pem = certs.csr_to_pem(csr)
    assert pem.startswith('-----BEGIN CERTIFICATE REQUEST-----')
    assert certs.csr_equal(certs.load_csr(pem), csr)
    from cryptography.hazmat.primitives import serialization
    assert certs.csr_equal(certs.load_csr(csr.public_bytes(serialization.Encoding.DER)), csr)


@pytest.mark.parametrize('data', ['', 'not a request', b'\x30\x03\x02\x01\x00',
                                  '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'])
def test_load_csr_garbage(data):
    with pytest.raises(InvalidInputError, match='not a PEM or DER certificate request'):
        certs.load_csr(data, what='the file x')


def test_csr_equal_ignores_order_of_key_usages(rsa_key):
    assert certs.csr_equal(request(rsa_key), request(rsa_key, ku=list(reversed(KU))))


@pytest.mark.parametrize('change', [
    dict(subject='CN=other.example.com, OU=Integration, O=Example, C=US'),
    dict(sans=['DNS:si.example.com']),
    dict(sans=list(reversed(SANS))),
    dict(ku=['digitalSignature']),
    dict(eku=['serverAuth']),
    dict(eku=[]),
    dict(digest='sha512'),
])
def test_csr_equal_sees_changes(rsa_key, change):
    assert not certs.csr_equal(request(rsa_key), request(rsa_key, **change))


def test_csr_equal_sees_another_key(rsa_key, other_key):
    assert not certs.csr_equal(request(rsa_key), request(other_key))


def test_csr_equal_sees_criticality(rsa_key):
    builder = (x509.CertificateSigningRequestBuilder().subject_name(certs.parse_name(SUBJECT))
               .add_extension(x509.SubjectAlternativeName([certs.parse_san(s) for s in SANS]), critical=False)
               .add_extension(certs.parse_key_usage(KU), critical=False)
               .add_extension(certs.parse_extended_key_usage(EKU), critical=False))
    assert not certs.csr_equal(request(rsa_key), builder.sign(rsa_key, hashes.SHA256()))


def test_san_general_names(rsa_key):
    cert = certs.self_signed_certificate(rsa_key, certs.parse_name('CN=a'), sans=SANS)
    assert [certs.format_san(gn) for gn in certs.san_general_names(cert)] == SANS
    bare = certs.self_signed_certificate(rsa_key, certs.parse_name('CN=a'))
    assert certs.san_general_names(bare) == []
