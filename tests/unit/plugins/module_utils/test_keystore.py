# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    CorruptKeystoreError, InvalidInputError, UnsupportedContentError, WrongKeyPasswordError, WrongPasswordError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore, detect_type

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
SHARED_SI = os.environ.get('SI_FIXTURES') or os.path.join(REPO, '..', 'shared', 'fixtures', 'si')
# the collection may be tested from a copy at .build/ansible_collections/wso2si/keystores
if not os.path.isdir(SHARED_SI):
    SHARED_SI = os.path.join(REPO, '..', '..', '..', '..', '..', 'shared', 'fixtures', 'si')
needs_fixtures = pytest.mark.skipif(not os.path.isdir(SHARED_SI), reason='shared SI fixtures absent')
needs_keytool = pytest.mark.skipif(shutil.which('keytool') is None, reason='keytool absent')

PW = 'changeit-1'


def identity(cn='host', key_type='rsa'):
    key = certs.generate_private_key(key_type)
    return key, certs.self_signed_certificate(key, certs.parse_name('CN=%s' % cn), ['DNS:%s' % cn])


def keytool(*args, password=PW):
    env = dict(os.environ, KT_PW=password)
    return subprocess.run(['keytool'] + list(args), env=env, check=True, capture_output=True, text=True).stdout


def read_fixture(name):
    with open(os.path.join(SHARED_SI, 'server', 'resources', 'security', name), 'rb') as f:
        return f.read()


@pytest.mark.parametrize('store_type', ['jks', 'pkcs12'])
def test_key_store_round_trip(store_type):
    key, cert = identity()
    store = Keystore(store_type, password=PW)
    assert store.set_key('Host', key, [cert]) is True
    assert store.modified
    loaded = Keystore.loads(store.dumps(PW), PW)
    assert loaded.store_type == store_type
    entry = loaded.get('HOST')
    assert entry.alias == 'host' and entry.kind == 'private_key'
    entry.open(PW).checked_private_key()
    assert certs.public_keys_equal(entry.checked_private_key(), key)
    assert entry.fingerprint() == certs.fingerprint(cert)
    assert loaded.set_key('host', entry.checked_private_key(), [cert]) is False
    assert not loaded.modified


@pytest.mark.parametrize('store_type', ['jks', 'pkcs12'])
def test_trust_store_round_trip(store_type):
    store = Keystore(store_type, password=PW)
    cas = [identity('ca%d' % i)[1] for i in range(5)]
    for i, ca in enumerate(cas):
        assert store.set_trusted('CA%d' % i, ca) == 'added'
    assert store.set_trusted('ca0', cas[0]) is None
    assert store.set_trusted('ca0', cas[1]) == 'replaced'
    loaded = Keystore.loads(store.dumps(PW), PW)
    assert sorted(e.alias for e in loaded.trusted_entries()) == ['ca0', 'ca1', 'ca2', 'ca3', 'ca4']
    assert loaded.get('ca0').fingerprint() == certs.fingerprint(cas[1])
    assert loaded.fingerprint_index()[certs.fingerprint(cas[1])] == ['ca0', 'ca1']


def test_pkcs12_mixed_store_round_trips():
    key, cert = identity()
    ca = identity('ca')[1]
    store = Keystore('pkcs12', password=PW)
    store.set_key('k', key, [cert])
    store.set_trusted('ca', ca)
    loaded = Keystore.loads(store.dumps(PW), PW)
    assert {e.alias: e.kind for e in loaded.entries.values()} == {'k': 'private_key', 'ca': 'trusted_certificate'}
    assert loaded.get('ca').fingerprint() == certs.fingerprint(ca)


def test_pkcs12_with_two_keys_listed():
    """cryptography keeps only the first key of a multi-key PKCS#12: the container is read here, every key kept."""
    key, cert = identity('a')
    key2, cert2 = identity('b')
    p12 = pkcs12.serialize_key_and_certificates(b'a', key, cert, None, serialization.BestAvailableEncryption(PW.encode()))
    ks = Keystore.loads(p12, PW)
    assert len(ks.key_entries()) == 1
    two = Keystore.loads(_two_key_pkcs12(key, cert, key2, cert2), PW)
    assert sorted(e.alias for e in two.key_entries()) == ['k0', 'k1']
    assert certs.public_keys_equal(two.get('k1').public_key(), key2)
    assert two.get('k1').fingerprint() == certs.fingerprint(cert2)


def _two_key_pkcs12(key, cert, key2, cert2):
    if shutil.which('keytool') is None:
        pytest.skip('keytool absent')
    import tempfile
    d = tempfile.mkdtemp()
    try:
        for n, (k, c) in enumerate([(key, cert), (key2, cert2)]):
            p = os.path.join(d, '%d.p12' % n)
            with open(p, 'wb') as f:
                f.write(pkcs12.serialize_key_and_certificates(b'k%d' % n, k, c, None,
                                                              serialization.BestAvailableEncryption(PW.encode())))
            keytool('-importkeystore', '-srckeystore', p, '-srcstoretype', 'PKCS12', '-srcstorepass:env', 'KT_PW',
                    '-destkeystore', os.path.join(d, 'both.p12'), '-deststoretype', 'PKCS12', '-deststorepass:env', 'KT_PW',
                    '-noprompt')
        with open(os.path.join(d, 'both.p12'), 'rb') as f:
            return f.read()
    finally:
        shutil.rmtree(d)


def test_separate_key_password_kept_and_enforced():
    key, cert = identity()
    store = Keystore('jks', password=PW)
    store.set_key('k', key, [cert], key_password='key-secret')
    loaded = Keystore.loads(store.dumps(PW), PW)
    with pytest.raises(WrongKeyPasswordError):
        loaded.get('k').open(PW).checked_private_key()
    assert loaded.get('k').open('key-secret').checked_private_key() is not None
    # an untouched locked entry survives a save
    again = Keystore.loads(Keystore.loads(store.dumps(PW), PW).dumps(PW), PW)
    again.get('k').open('key-secret').checked_private_key()


def test_password_change_reprotects_keys_that_followed_the_store():
    key, cert = identity()
    key2, cert2 = identity('other')
    store = Keystore('jks', password=PW)
    store.set_key('k', key, [cert])
    store.set_key('own', key2, [cert2], key_password='own-secret')
    loaded = Keystore.loads(store.dumps(PW), PW)
    rotated = Keystore.loads(loaded.dumps('new-password'), 'new-password')
    rotated.get('k').open('new-password').checked_private_key()
    rotated.get('own').open('own-secret').checked_private_key()
    with pytest.raises(WrongPasswordError):
        Keystore.loads(loaded.dumps('new-password'), PW)


@pytest.mark.parametrize('data, error', [
    (b'', CorruptKeystoreError),
    (b'hello world', CorruptKeystoreError),
    (b'\xfe\xed\xfe\xed\x00\x00\x00\x02\x00\x00', CorruptKeystoreError),
    (b'\xce\xce\xce\xce\x00\x00\x00\x02', UnsupportedContentError),
])
def test_garbage(data, error):
    with pytest.raises(error):
        Keystore.loads(data, PW)


@pytest.mark.parametrize('store_type', ['jks', 'pkcs12'])
def test_wrong_password_and_truncation(store_type):
    key, cert = identity()
    store = Keystore(store_type, password=PW)
    store.set_key('k', key, [cert])
    data = store.dumps(PW)
    with pytest.raises(WrongPasswordError):
        Keystore.loads(data, 'wrong-password')
    with pytest.raises((CorruptKeystoreError, WrongPasswordError)):
        Keystore.loads(data[:len(data) // 2], PW)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    with pytest.raises((CorruptKeystoreError, WrongPasswordError)):
        Keystore.loads(bytes(flipped), PW)


def test_detect_type_by_content():
    key, cert = identity()
    for store_type in ('jks', 'pkcs12'):
        store = Keystore(store_type, password=PW)
        store.set_key('k', key, [cert])
        assert detect_type(store.dumps(PW)) == store_type
    assert detect_type(b'garbage') is None


@pytest.mark.parametrize('password', ['', 'short'])
def test_short_password_refused(password):
    with pytest.raises(InvalidInputError, match='6 characters'):
        Keystore('jks').dumps(password)


def test_alias_rules():
    store = Keystore('jks', password=PW)
    cert = identity()[1]
    with pytest.raises(InvalidInputError):
        store.set_trusted('', cert)
    with pytest.raises(InvalidInputError):
        store.set_trusted('a\nb', cert)
    with pytest.raises(InvalidInputError):
        store.set_trusted('x' * 300, cert)
    key, kcert = identity()
    store.set_key('k', key, [kcert])
    with pytest.raises(InvalidInputError, match='key entry'):
        store.set_trusted('k', cert)


def test_set_key_rejects_mismatch():
    key = identity()[0]
    other = identity()[1]
    from ansible_collections.wso2si.keystores.plugins.module_utils.errors import KeyMismatchError
    with pytest.raises(KeyMismatchError):
        Keystore('jks', password=PW).set_key('k', key, [other])


@needs_fixtures
def test_shipped_stores():
    ks = Keystore.loads(read_fixture('wso2carbon.jks'), 'wso2carbon')
    entry = ks.get('wso2carbon')
    entry.open('wso2carbon').checked_private_key()
    assert entry.fingerprint() == ('8A:CE:6D:B1:DF:A6:24:6F:D6:D7:32:80:49:09:06:23:'
                                   'F0:59:34:AD:71:65:F2:F2:2A:44:61:2B:A7:34:0B:28')
    vault = Keystore.loads(read_fixture('securevault.jks'), 'wso2carbon')
    assert len(vault.key_entries()) == 1 and len(vault.trusted_entries()) == 35
    trust = Keystore.loads(read_fixture('client-truststore.jks'), 'wso2carbon')
    assert len(trust.trusted_entries()) == 97
    # a save without changes keeps every entry and every certificate
    again = Keystore.loads(trust.dumps('wso2carbon'), 'wso2carbon')
    assert {e.alias: e.fingerprint() for e in again.trusted_entries()} == \
        {e.alias: e.fingerprint() for e in trust.trusted_entries()}


@needs_keytool
@pytest.mark.parametrize('storetype', ['JKS', 'PKCS12'])
def test_keytool_store_with_separate_key_password(tmp_path, storetype):
    path = str(tmp_path / 'kt')
    args = ['-genkeypair', '-alias', 'kt', '-keyalg', 'RSA', '-keysize', '2048', '-dname', 'CN=kt',
            '-keystore', path, '-storetype', storetype, '-storepass:env', 'KT_PW']
    if storetype == 'JKS':
        args += ['-keypass:env', 'KT_KEYPW']
    env_pw = dict(os.environ, KT_PW=PW, KT_KEYPW='separate-key')
    subprocess.run(['keytool'] + args, env=env_pw, check=True, capture_output=True)
    with open(path, 'rb') as f:
        store = Keystore.loads(f.read(), PW)
    assert store.store_type == storetype.lower()
    entry = store.get('kt')
    entry.open('separate-key' if storetype == 'JKS' else PW).checked_private_key()
    store.set_trusted('extra', identity('extra')[1])
    with open(path, 'wb') as f:
        f.write(store.dumps(PW))
    out = keytool('-list', '-keystore', path, '-storepass:env', 'KT_PW')
    assert 'kt, ' in out and 'extra, ' in out
    if storetype == 'PKCS12':
        return
    # keytool can still use the key with its own password
    subprocess.run(['keytool', '-certreq', '-alias', 'kt', '-keystore', path, '-storepass:env', 'KT_PW',
                    '-keypass:env', 'KT_KEYPW'], env=env_pw, check=True, capture_output=True)


def test_open_checks_the_key_password_without_validating_the_key():
    key, cert = identity()
    store = Keystore('jks', password=PW)
    store.set_key('k', key, [cert], key_password='key-secret')
    entry = Keystore.loads(store.dumps(PW), PW).get('k')
    with pytest.raises(WrongKeyPasswordError):
        entry.open(PW)
    entry.open(PW, 'key-secret')
    assert entry.key_password == 'key-secret'
    assert entry._key is None  # opened, not yet validated
    assert entry.public_key().public_numbers() == key.public_key().public_numbers()
    assert entry.unchecked_private_key().private_numbers() == key.private_numbers()
    assert entry._key is None
    assert entry.checked_private_key().private_numbers() == key.private_numbers()  # validated on first use


def test_set_key_password_changes_only_the_protection():
    key, cert = identity()
    store = Keystore('jks', password=PW)
    store.set_key('k', key, [cert])
    loaded = Keystore.loads(store.dumps(PW), PW)
    loaded.get('k').open(PW)
    assert loaded.set_key_password('k') is False and not loaded.modified
    assert loaded.get('k')._key is None  # nothing changed: the key was never validated
    assert loaded.set_key_password('k', 'key-secret') is True and loaded.modified
    again = Keystore.loads(loaded.dumps(PW), PW)
    with pytest.raises(WrongKeyPasswordError):
        again.get('k').open(PW)
    assert again.get('k').open('key-secret').checked_private_key().private_numbers() == key.private_numbers()
    assert again.get('k').chain_der == [certs.cert_to_der(cert)]


def test_large_jks_save_is_one_join_and_reads_back():
    """5000 trusted entries: the save joins the entries once (pyjks's own saves() copies the store per entry)."""
    store = Keystore('jks', password=PW)
    cert = identity()[1]
    der = certs.cert_to_der(cert)
    from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import TrustedEntry
    for i in range(5000):
        store.entries['ca-%04d' % i] = TrustedEntry('ca-%04d' % i, der=der, timestamp=0)
    data = store.dumps(PW)
    loaded = Keystore.loads(data, PW)
    assert len(loaded.entries) == 5000 and loaded.get('ca-4999').der == der
    import jks
    assert len(jks.KeyStore.loads(data, PW).entries) == 5000  # pyjks reads it too
