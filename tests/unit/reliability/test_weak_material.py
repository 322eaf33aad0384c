# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Weak or out-of-date material, and options out of range (issue 13.5 and 13.6),
each run as a real module process.

One policy for every module: a key shorter than RSA 2048 / EC 256 bits is
refused wherever it would be kept, requested, signed or served (opt-out:
``allow_weak_keys``, which warns); a certificate that has expired or is not
valid yet is refused wherever it would be trusted or served (opt-out:
``allow_expired``, which warns). A refusal is one sentence and writes nothing.
Options out of range (validity_days, ports, timeouts, key_size with EC, SANs
that are not DNS names, IP addresses, URIs or email addresses) are refused the
same way, never with a traceback."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError

pytestmark = h.needs_layout

PW = 'Store.pass-1'
VAULT_PW = 'Vault.pass-2'
# found by the fuzz run: a PKCS#7 ContentInfo that is not signed data
PKCS7_NOT_SIGNED = bytes.fromhex('300a06082a864886f70d0107')


def dated(key, cn, start_days, end_days):
    """A self-signed certificate valid from now + start_days to now + end_days."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return (x509.CertificateBuilder()
            .subject_name(h.name(cn)).issuer_name(h.name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=start_days))
            .not_valid_after(now + datetime.timedelta(days=end_days))
            .sign(key, hashes.SHA256()))


class Material(object):
    def __init__(self):
        self.weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        self.weak_cert = dated(self.weak_key, 'weak.example.com', -1, 365)
        self.key = h.rsa_key(0)
        self.expired = dated(self.key, 'expired.example.com', -400, -35)
        self.future = dated(self.key, 'future.example.com', 10, 740)
        self.good = dated(self.key, 'good.example.com', -1, 365)
        self.weak_csr = certs.csr_to_pem(certs.build_csr(self.weak_key, certs.parse_name('CN=weak.example.com')))


@pytest.fixture(scope='module')
def mat():
    return Material()


def warnings_of(r):
    return ' '.join(w.get('msg', str(w)) if isinstance(w, dict) else str(w) for w in r.json.get('warnings', []))


def refused_then_allowed(tmp_path, module, args, option, pattern):
    """Refused with one sentence naming the option, nothing written; accepted with a warning when it is set."""
    before = h.snapshot(tmp_path)
    r = h.run_module(module, args, tmp_path)
    h.assert_clean_failure(r, pattern)
    assert option in r.msg
    assert h.snapshot(tmp_path) == before
    r = h.run_module(module, dict(args, **{option: True}), tmp_path)
    h.assert_ok(r)
    assert option in warnings_of(r)
    return r


# ---------------------------------------------------------------- 13.5: one policy

def si_home_with_tls(tmp_path, key, cert):
    home = h.si_home(tmp_path, PW, PW, VAULT_PW)
    sec = os.path.join(home, 'resources', 'security')
    h.make_store(os.path.join(sec, 'si-tls.jks'), PW, keys=[('si-tls', key, [cert])])
    h.make_store(os.path.join(sec, 'si-trust.jks'), PW, trusted=[('si-tls', cert)], mode=0o644)
    return dict(si_home=home, keystore={'path': os.path.join(sec, 'si-tls.jks'), 'password': PW},
                truststore={'path': os.path.join(sec, 'si-trust.jks'), 'password': PW})


@pytest.mark.parametrize('which, option, pattern', [
    ('expired', 'allow_expired', r'expired on \d{4}-'),
    ('future', 'allow_expired', r'is not valid before \d{4}-'),
    ('weak', 'allow_weak_keys', r'1024-bit RSA key'),
])
def test_si_config_refuses_to_serve_weak_or_out_of_date_material(tmp_path, mat, which, option, pattern):
    key, cert = {'expired': (mat.key, mat.expired), 'future': (mat.key, mat.future),
                 'weak': (mat.weak_key, mat.weak_cert)}[which]
    args = si_home_with_tls(tmp_path, key, cert)
    refused_then_allowed(tmp_path, 'si_config', args, option, r'^validation failed: .*' + pattern)


def test_si_keystore_refuses_to_keep_or_import_a_weak_key(tmp_path, mat):
    path = h.make_store(str(tmp_path / 'ks.jks'), PW, keys=[('si', mat.weak_key, [mat.weak_cert])])
    r = refused_then_allowed(tmp_path, 'si_keystore', dict(path=path, password=PW, alias='si'),
                             'allow_weak_keys', r"the key entry 'si' of .* has a 1024-bit RSA key")
    assert not r.json['changed']
    imported = dict(path=str(tmp_path / 'new.jks'), password=PW, alias='si', certificate=h.pem(mat.weak_cert),
                    private_key=h.key_pem(mat.weak_key))
    refused_then_allowed(tmp_path, 'si_keystore', imported, 'allow_weak_keys',
                         r'1024-bit RSA key')


def test_si_csr_refuses_a_weak_key(tmp_path, mat):
    path = h.make_store(str(tmp_path / 'ks.jks'), PW, keys=[('si', mat.weak_key, [mat.weak_cert])])
    refused_then_allowed(tmp_path, 'si_csr', dict(path=path, password=PW, alias='si', dest=str(tmp_path / 'si.csr')),
                         'allow_weak_keys', r'1024-bit RSA key')


def test_si_ca_refuses_to_sign_a_weak_request(tmp_path, mat):
    args = dict(ca_dir=str(tmp_path / 'ca'), csr=mat.weak_csr, dest=str(tmp_path / 'si.pem'), ca_key_type='ec', create=True)
    r = h.run_module('si_ca', args, tmp_path)  # the CA itself is made first
    h.assert_clean_failure(r, r'the certificate signing request has a 1024-bit RSA key')
    assert not os.path.exists(str(tmp_path / 'si.pem'))
    r = h.run_module('si_ca', dict(args, allow_weak_keys=True), tmp_path)
    h.assert_ok(r)
    assert 'allow_weak_keys' in warnings_of(r) and os.path.exists(str(tmp_path / 'si.pem'))


@pytest.mark.parametrize('which', ['expired', 'future'])
def test_si_truststore_refuses_out_of_date_certificates(tmp_path, mat, which):
    cert = getattr(mat, which)
    args = dict(path=str(tmp_path / 'trust.jks'), password=PW,
                certificates=[{'alias': 'good', 'content': h.pem(mat.good)}, {'alias': which, 'content': h.pem(cert)}])
    refused_then_allowed(tmp_path, 'si_truststore', args, 'allow_expired',
                         r"the certificate for alias '%s': the certificate CN=%s.example.com %s"
                         % (which, which, {'expired': 'expired on', 'future': 'is not valid before'}[which]))
    assert sorted(h.load_store(args['path'], PW).entries) == sorted([which, 'good'])


def test_si_keystore_info_reports_not_yet_valid(tmp_path, mat):
    path = h.make_store(str(tmp_path / 'ks.jks'), PW, keys=[('future', mat.key, [mat.future])],
                        trusted=[('expired', mat.expired), ('good', mat.good)])
    r = h.run_module('si_keystore_info', dict(path=path, password=PW), tmp_path)
    h.assert_ok(r)
    facts = dict((e['alias'], (e['expired'], e['not_yet_valid'])) for e in r.json['entries'])
    assert facts == {'future': (False, True), 'expired': (True, False), 'good': (False, False)}


# ---------------------------------------------------------------- 13.6: one sentence, never a traceback

def ks_args(tmp_path, **extra):
    args = dict(path=str(tmp_path / 'ks.jks'), password=PW, alias='si', subject='CN=si.example.com')
    args.update(extra)
    return args


def ca_args(tmp_path, mat, **extra):
    csr = certs.csr_to_pem(certs.build_csr(mat.key, certs.parse_name('CN=si.example.com')))
    args = dict(ca_dir=str(tmp_path / 'ca'), csr=csr, dest=str(tmp_path / 'si.pem'), ca_key_type='ec', create=True)
    args.update(extra)
    return args


OUT_OF_RANGE = [
    ('keystore-validity-0', 'si_keystore', lambda t, m: ks_args(t, validity_days=0), r'validity_days must be .*got 0'),
    ('keystore-validity-negative', 'si_keystore', lambda t, m: ks_args(t, validity_days=-5), r'validity_days'),
    ('keystore-validity-huge', 'si_keystore', lambda t, m: ks_args(t, validity_days=3000000), r'validity_days'),
    ('keystore-renew-negative', 'si_keystore', lambda t, m: ks_args(t, renew_before_days=-1), r'renew_before_days'),
    ('keystore-key-size-with-ec', 'si_keystore', lambda t, m: ks_args(t, key_type='ec', key_size=2048),
     r'key_size applies to RSA keys only'),
    ('keystore-curve-with-rsa', 'si_keystore', lambda t, m: ks_args(t, key_type='rsa', curve='secp384r1'),
     r'curve applies to EC keys only'),
    ('keystore-key-size-1024', 'si_keystore', lambda t, m: ks_args(t, key_size=1024), r'shorter than 2048'),
    ('keystore-key-size-huge', 'si_keystore', lambda t, m: ks_args(t, key_size=1000000), r'at most 16384'),
    ('keystore-san-space', 'si_keystore', lambda t, m: ks_args(t, subject_alt_names=['DNS:not a host']), r'not valid'),
    ('keystore-san-dns-unicode', 'si_keystore', lambda t, m: ks_args(t, subject_alt_names=[u'DNS:b\u00fccher.de']),
     r'not valid'),
    ('keystore-san-dns-label', 'si_keystore', lambda t, m: ks_args(t, subject_alt_names=['DNS:-bad-.example.com']),
     r'not valid'),
    ('keystore-san-ip', 'si_keystore', lambda t, m: ks_args(t, subject_alt_names=['IP:999.1.1.1']), r'not valid'),
    ('keystore-san-uri', 'si_keystore', lambda t, m: ks_args(t, subject_alt_names=['URI:no scheme here']),
     r'not valid'),
    ('keystore-san-email', 'si_keystore', lambda t, m: ks_args(t, subject_alt_names=['email:nobody']), r'not valid'),
    ('csr-san-email-domain', 'si_csr', None, r'not valid'),
    ('ca-validity-negative', 'si_ca', lambda t, m: ca_args(t, m, validity_days=-5), r'validity_days'),
    ('ca-validity-huge', 'si_ca', lambda t, m: ca_args(t, m, validity_days=3000000), r'validity_days'),
    ('ca-ca-validity-huge', 'si_ca', lambda t, m: ca_args(t, m, ca_validity_days=3000000), r'ca_validity_days'),
    ('ca-key-size-with-ec', 'si_ca', lambda t, m: ca_args(t, m, ca_key_size=4096),
     r'ca_key_size applies to RSA keys only'),
    ('ca-renew-negative', 'si_ca', lambda t, m: ca_args(t, m, renew_before_days=-1), r'renew_before_days'),
    ('tls-port-0', 'si_tls_check', lambda t, m: dict(port=0), r'port 0 is not a TCP port'),
    ('tls-port-huge', 'si_tls_check', lambda t, m: dict(port=70000), r'port 70000 is not a TCP port'),
    ('tls-ports-one-bad', 'si_tls_check', lambda t, m: dict(ports=[443, -1]), r'port -1 is not a TCP port'),
    ('tls-timeout-0', 'si_tls_check', lambda t, m: dict(port=443, timeout=0), r'timeout must be more than 0'),
    ('info-warning-days', 'si_keystore_info', None, r'expiry_warning_days must be 0 or more'),
    ('truststore-pkcs7-not-signed', 'si_truststore', None, r'is not a certificate in PEM, DER or PKCS#7 form'),
]


def _special(case_id, tmp_path, mat):
    if case_id == 'csr-san-email-domain':
        path = h.make_store(str(tmp_path / 'ks.jks'), PW, keys=[('si', mat.key, [mat.good])])
        return dict(path=path, password=PW, alias='si', subject_alt_names=['email:someone@not a domain'])
    if case_id == 'info-warning-days':
        path = h.make_store(str(tmp_path / 'ks.jks'), PW, trusted=[('good', mat.good)])
        return dict(path=path, password=PW, expiry_warning_days=-1)
    if case_id == 'truststore-pkcs7-not-signed':
        source = h.write(str(tmp_path / 'odd.p7b'), PKCS7_NOT_SIGNED)
        return dict(path=str(tmp_path / 'trust.jks'), password=PW, certificates=[{'alias': 'odd', 'path': source}])
    raise AssertionError(case_id)


@pytest.mark.parametrize('case_id, module, build, pattern', OUT_OF_RANGE, ids=[c[0] for c in OUT_OF_RANGE])
def test_out_of_range_is_one_sentence(tmp_path, mat, case_id, module, build, pattern):
    args = build(tmp_path, mat) if build is not None else _special(case_id, tmp_path, mat)
    before = h.snapshot(tmp_path)
    r = h.run_module(module, args, tmp_path)
    assert 'Traceback' not in r.stdout + r.stderr, r
    h.assert_clean_failure(r, pattern)
    assert h.snapshot(tmp_path) == before


def test_pkcs7_that_is_not_signed_data_is_an_input_error():
    """Found by the fuzz run: cryptography raises UnsupportedAlgorithm ("Only basic signed
    structures are currently supported") for a PKCS#7 ContentInfo of another type."""
    with pytest.raises(InvalidInputError, match='the file odd.p7b is not a certificate'):
        certs.load_certificates(PKCS7_NOT_SIGNED, what='the file odd.p7b')


@pytest.mark.parametrize('san', ['DNS:si.example.com', 'DNS:*.example.com', 'DNS:localhost', 'DNS:a-1.b2.',
                                 'IP:10.0.0.1', 'IP:::1', 'URI:https://si.example.com/x?y=1', 'URI:urn:uuid:1234',
                                 'email:ops@example.com', 'email:first.last+tag@mail.example.com'])
def test_valid_sans_still_parse(san):
    assert certs.parse_san(san) is not None


# ---------------------------------------------------------------- issue 16.3: key rotation by age

def test_si_keystore_rotates_a_key_older_than_key_max_age_days(tmp_path, mat):
    old = dated(mat.key, 'si.example.com', -200, 165)
    path = h.make_store(str(tmp_path / 'ks.jks'), PW, keys=[('si', mat.key, [old])])
    kept = h.run_module('si_keystore', dict(path=path, password=PW, alias='si', key_max_age_days=201), tmp_path)
    h.assert_ok(kept)
    assert not kept.json['changed']
    before = h.sha256_file(path)
    checked = h.run_module('si_keystore', dict(path=path, password=PW, alias='si', key_max_age_days=200), tmp_path,
                           check=True)
    h.assert_ok(checked)
    assert checked.json['changed'] and h.sha256_file(path) == before  # check mode predicts it, writes nothing
    rotated = h.run_module('si_keystore', dict(path=path, password=PW, alias='si', key_max_age_days=200,
                                               backup=True), tmp_path)
    h.assert_ok(rotated)
    assert rotated.json['changed']
    store = h.load_store(path, PW)
    entry = store.get('si')
    assert not certs.public_keys_equal(entry.certificate.public_key(), mat.key.public_key())
    assert entry.certificate.subject == old.subject  # the entry's subject is kept
    # the backup holds the old key
    backup = h.load_store(rotated.json['backup_file'], PW).get('si')
    assert certs.public_keys_equal(backup.certificate.public_key(), mat.key.public_key())
    again = h.run_module('si_keystore', dict(path=path, password=PW, alias='si', key_max_age_days=200), tmp_path)
    h.assert_ok(again)
    assert not again.json['changed']
