# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import hashlib
import json

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import acme_client
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.deps import hashes, serialization, x509
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError

pytestmark = pytest.mark.skipif(acme_client.ACME_IMPORT_ERROR is not None, reason='acme/josepy not installed')

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope='module')
def pki():
    """A root, an intermediate, a host key and its CSR."""
    root_key = certs.generate_private_key('ec')
    root = certs.self_signed_certificate(root_key, certs.parse_name('CN=ACME Root'), [], 3650)
    int_key = certs.generate_private_key('ec')
    inter = issue(root_key, root, int_key.public_key(), 'CN=ACME Intermediate', [], NOW - 10 * DAY, NOW + 1000 * DAY, ca=True)
    host_key = certs.generate_private_key('ec')
    csr = certs.build_csr(host_key, certs.parse_name('CN=si1'), ['DNS:si1', 'IP:127.0.0.2'])
    return dict(root_key=root_key, root=root, int_key=int_key, inter=inter, host_key=host_key, csr=csr)


def issue(issuer_key, issuer, public_key, subject, sans, not_before, not_after, ca=False, serial=None):
    builder = (x509.CertificateBuilder().subject_name(certs.parse_name(subject)).issuer_name(issuer.subject)
               .public_key(public_key).serial_number(serial or x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([certs.parse_san(s) for s in sans]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def leaf(pki, not_before=None, not_after=None, key=None, sans=('DNS:si1', 'IP:127.0.0.2'), subject='CN=si1'):
    return issue(pki['int_key'], pki['inter'], (key or pki['host_key']).public_key(), subject, list(sans),
                 not_before or NOW - 10 * DAY, not_after or NOW + 80 * DAY)


# ---------------------------------------------------------------- account key

def test_account_keys_map_to_their_jws_algorithms():
    jwk, alg = acme_client.account_jwk(pem(certs.generate_private_key('rsa', 2048)))
    assert alg.name == 'RS256' and jwk.typ == 'RSA'
    jwk, alg = acme_client.account_jwk(pem(certs.generate_private_key('ec')))
    assert alg.name == 'ES256' and jwk.typ == 'EC'


@pytest.mark.parametrize('text, words', [
    ('', 'empty'),
    ('   \n', 'empty'),
    ('-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n', 'ACME account key'),
])
def test_a_bad_account_key_is_one_sentence_without_its_content(text, words):
    with pytest.raises(InvalidInputError) as err:
        acme_client.account_jwk(text)
    assert words in str(err.value)
    assert 'bm90IGEga2V5' not in str(err.value)


def test_a_short_rsa_account_key_is_refused():
    from cryptography.hazmat.primitives.asymmetric import rsa
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(InvalidInputError, match='RSA 1024'):
        acme_client.account_jwk(pem(small))


# ---------------------------------------------------------------- ACME Renewal Information

def test_ari_cert_id_is_the_rfc_9773_example():
    """RFC 9773, section 4.1: AKI 69:88:5B:..:D4 and serial 00:87:65:43:21 give aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE."""
    aki = bytes.fromhex('69885B6B87464041E1B37B847BA0AE2CDE01C8D4')
    key = certs.generate_private_key('ec')
    name = certs.parse_name('CN=example')
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(0x87654321).not_valid_before(NOW).not_valid_after(NOW + DAY)
            .add_extension(x509.AuthorityKeyIdentifier(aki, None, None), critical=False)
            .sign(key, hashes.SHA256()))
    assert acme_client.ari_cert_id(cert) == 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE'


def test_ari_cert_id_agrees_with_the_library(pki):
    from acme import client as lib
    cert = leaf(pki)
    assert acme_client.ari_cert_id(cert) == lib._renewal_info_path_component(cert)  # pylint: disable=protected-access


def test_no_ari_id_without_an_authority_key_identifier(pki):
    assert acme_client.ari_cert_id(pki['root']) is None


# ---------------------------------------------------------------- renewal decision

def reason(pki, current, **kw):
    kw.setdefault('renew_before_days', 30)
    return acme_client.renewal_reason(current, pki['csr'], now=NOW, **kw)


def test_a_fresh_ca_issued_certificate_for_the_csr_is_kept(pki):
    assert reason(pki, [leaf(pki), pki['inter']], trusted_roots=[pki['root']]) is None


@pytest.mark.parametrize('case, expected', [
    ('none', 'no certificate'),
    ('self-signed', 'self-signed'),
    ('other key', "not for the host's key"),
    ('other names', 'names differ'),
    ('other subject', 'names differ'),
    ('other CA', 'does not chain'),
    ('days', 'expires within 30 days'),
])
def test_a_certificate_is_replaced_when(pki, case, expected):
    other_key = certs.generate_private_key('ec')
    other_root_key = certs.generate_private_key('ec')
    other_root = certs.self_signed_certificate(other_root_key, certs.parse_name('CN=Other'), [], 3650)
    current = {
        'none': [],
        'self-signed': [certs.self_signed_certificate(pki['host_key'], certs.parse_name('CN=si1'), ['DNS:si1'], 30)],
        'other key': [leaf(pki, key=other_key), pki['inter']],
        'other names': [leaf(pki, sans=['DNS:si1']), pki['inter']],
        'other subject': [leaf(pki, subject='CN=si9'), pki['inter']],
        'other CA': [issue(other_root_key, other_root, pki['host_key'].public_key(), 'CN=si1',
                           ['DNS:si1', 'IP:127.0.0.2'], NOW - DAY, NOW + 300 * DAY)],
        'days': [leaf(pki, not_after=NOW + 29 * DAY), pki['inter']],
    }[case]
    assert expected in reason(pki, current, trusted_roots=[pki['root']])


def test_the_percentage_window(pki):
    # 100 days of lifetime, 20 left: inside a 25 % window, outside a 10 % one
    current = [leaf(pki, not_before=NOW - 80 * DAY, not_after=NOW + 20 * DAY), pki['inter']]
    assert reason(pki, current, renew_before_days=5, renew_before_percent=10) is None
    assert 'last 25% of its lifetime' in reason(pki, current, renew_before_days=5, renew_before_percent=25)


def test_the_ari_window_renews_from_its_start(pki):
    current = [leaf(pki), pki['inter']]
    assert reason(pki, current, ari_window=(NOW + DAY, NOW + 2 * DAY)) is None
    assert 'ACME Renewal Information' in reason(pki, current, ari_window=(NOW - DAY, NOW + DAY))


def test_without_trusted_roots_the_issuer_is_not_checked(pki):
    assert reason(pki, [leaf(pki)]) is None


# ---------------------------------------------------------------- challenges

def test_dns01_value_is_the_sha256_of_the_key_authorization():
    value = acme_client.dns01_value('token.thumbprint')
    assert value == base64.urlsafe_b64encode(hashlib.sha256(b'token.thumbprint').digest()).decode().rstrip('=')


def token(seed):
    """A token as CAs make them: base64url of 32 bytes."""
    return base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode().rstrip('=')


def order_resource(challenge_types, status='pending'):
    from acme import messages
    authz = messages.Authorization.from_json({
        'identifier': {'type': 'dns', 'value': 'si1'}, 'status': status,
        'challenges': [{'type': t, 'url': 'https://ca/chall/%s' % t, 'token': token(t),
                        'status': 'pending'} for t in challenge_types]})
    return messages.OrderResource(authorizations=[messages.AuthorizationResource(uri='https://ca/authz/1', body=authz)])


def session():
    s = acme_client.AcmeSession.__new__(acme_client.AcmeSession)
    s.jwk, dummy = acme_client.account_jwk(pem(certs.generate_private_key('ec')))
    return s


def test_http01_facts_name_the_path_and_key_authorization():
    s = session()
    facts = s.challenge_facts(order_resource(['http-01', 'dns-01']), 'http-01')
    assert len(facts) == 1
    fact = facts[0]
    assert fact['path'] == '/.well-known/acme-challenge/' + token('http-01')
    assert fact['identifier'] == 'si1' and fact['type'] == 'http-01'
    thumb = base64.urlsafe_b64encode(s.jwk.thumbprint()).decode().rstrip('=')
    assert fact['key_authorization'] == token('http-01') + '.' + thumb
    json.dumps(facts)  # plain data for Ansible


def test_dns01_facts_name_the_txt_record():
    fact = session().challenge_facts(order_resource(['http-01', 'dns-01']), 'dns-01')[0]
    assert fact['record'] == '_acme-challenge.si1'
    assert fact['value'] == acme_client.dns01_value(fact['key_authorization'])


def test_valid_authorizations_need_no_answer():
    assert session().challenge_facts(order_resource(['http-01'], status='valid'), 'http-01') == []


def test_a_challenge_type_the_ca_does_not_offer_is_one_sentence():
    with pytest.raises(acme_client.AcmeError, match='offers no dns-01 challenge for si1 .it offers: http-01.'):
        session().challenge_facts(order_resource(['http-01']), 'dns-01')


def test_a_failed_validation_is_one_sentence_per_identifier():
    from acme import errors, messages
    authz = messages.Authorization.from_json({
        'identifier': {'type': 'dns', 'value': 'si3'}, 'status': 'invalid',
        'challenges': [{'type': 'http-01', 'url': 'https://ca/c', 'token': token('http-01'), 'status': 'invalid',
                        'error': {'type': 'urn:ietf:params:acme:error:connection',
                                  'detail': 'connection refused'}}]})
    exc = errors.ValidationError([messages.AuthorizationResource(uri='https://ca/a', body=authz)])
    text = acme_client.AcmeSession._validation_sentence(exc, 'http-01')  # pylint: disable=protected-access
    assert text == 'The ACME CA could not validate the http-01 challenge for si3 (connection refused)'
    assert '\n' not in text


def test_an_unreachable_directory_is_one_sentence():
    with pytest.raises(acme_client.AcmeError) as err:
        acme_client.AcmeSession('https://127.0.0.1:1/dir', pem(certs.generate_private_key('ec')), timeout=5)
    assert str(err.value).startswith('The ACME directory https://127.0.0.1:1/dir cannot be used: it cannot be reached')
    assert '\n' not in str(err.value)
