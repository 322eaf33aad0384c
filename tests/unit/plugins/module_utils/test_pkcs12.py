# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""PKCS#12 as Java holds it, checked against keytool, a Java program and openssl:
several keys, trusted certificates, secret keys, empty stores, conversions."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import pkcs12_container as p12
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    UnsupportedContentError, WrongPasswordError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

PW = 'changeit-1'
needs_java = pytest.mark.skipif(any(shutil.which(t) is None for t in ('keytool', 'java', 'javac')),
                                reason='keytool/java absent')
needs_openssl = pytest.mark.skipif(shutil.which('openssl') is None, reason='openssl absent')

# Lists every entry of a store as Java's KeyStore API reads it: alias, kind, and a digest of
# what it holds (the secret key's bytes, the private key's PKCS#8, the certificates)
JAVA_ENTRIES = r'''
import java.io.FileInputStream;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.util.Collections;

public class Entries {
    static String sha(byte[] data) throws Exception {
        StringBuilder out = new StringBuilder();
        for (byte b : MessageDigest.getInstance("SHA-256").digest(data)) out.append(String.format("%02x", b));
        return out.toString();
    }
    public static void main(String[] args) throws Exception {
        char[] pw = System.getenv("KT_PW").toCharArray();
        KeyStore ks = KeyStore.getInstance(args[1]);
        try (FileInputStream in = new FileInputStream(args[0])) { ks.load(in, pw); }
        for (String alias : Collections.list(ks.aliases())) {
            KeyStore.ProtectionParameter p = ks.isCertificateEntry(alias) ? null : new KeyStore.PasswordProtection(pw);
            KeyStore.Entry e = ks.getEntry(alias, p);
            if (e instanceof KeyStore.SecretKeyEntry) {
                javax.crypto.SecretKey k = ((KeyStore.SecretKeyEntry) e).getSecretKey();
                System.out.println(alias + " secret " + k.getAlgorithm() + " " + sha(k.getEncoded()));
            } else if (e instanceof KeyStore.PrivateKeyEntry) {
                KeyStore.PrivateKeyEntry k = (KeyStore.PrivateKeyEntry) e;
                StringBuilder chain = new StringBuilder();
                for (Certificate c : k.getCertificateChain()) chain.append(" ").append(sha(c.getEncoded()));
                System.out.println(alias + " key " + sha(k.getPrivateKey().getEncoded()) + chain);
            } else {
                System.out.println(alias + " trusted " + sha(((KeyStore.TrustedCertificateEntry) e).getTrustedCertificate().getEncoded()));
            }
        }
    }
}
'''


def run(args, password=PW, check=True):
    env = dict(os.environ, KT_PW=password)
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError('%s failed: %s %s' % (args[0], proc.stdout, proc.stderr))
    return proc.stdout


def keytool(*args, password=PW):
    return run(['keytool'] + list(args), password=password)


_COMPILED = {}


def java_entries(path, password=PW, store_type='PKCS12', tmp=None):
    """{alias: 'kind digest...'} as Java's KeyStore reads the store (the program compiled once per run)."""
    if 'dir' not in _COMPILED:
        classes = os.path.join(tmp, 'java-classes')
        os.makedirs(classes)
        source = os.path.join(classes, 'Entries.java')
        with open(source, 'w') as f:
            f.write(JAVA_ENTRIES)
        run(['javac', '-d', classes, source])
        _COMPILED['dir'] = classes
    out = run(['java', '-cp', _COMPILED['dir'], 'Entries', path, store_type], password=password)
    return dict(line.split(' ', 1) for line in out.splitlines() if line.strip())


def keytool_kinds(path, password=PW):
    out = keytool('-list', '-v', '-keystore', path, '-storepass:env', 'KT_PW', password=password)
    kinds, chains = {}, {}
    for block in out.split('Alias name: ')[1:]:
        alias = block.split('\n', 1)[0].strip()
        kinds[alias] = re.search(r'Entry type: (\w+)', block).group(1)
        length = re.search(r'Certificate chain length: (\d+)', block)
        if length:
            chains[alias] = int(length.group(1))
    return kinds, chains


def identity(cn='host', issuer=None):
    key = certs.generate_private_key('ec')
    if issuer is None:
        return key, certs.self_signed_certificate(key, certs.parse_name('CN=%s' % cn), ['DNS:%s' % cn])
    ca_key, ca_cert = issuer
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(certs.parse_name('CN=%s' % cn)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def ca_identity(cn='ca'):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    import datetime
    key = certs.generate_private_key('ec')
    now = datetime.datetime.now(datetime.timezone.utc)
    name = certs.parse_name('CN=%s' % cn)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def keytool_store(tmp_path, secret=True, keys=('k1',), trusted=True):
    """A PKCS#12 store keytool made: key entries, a trusted certificate, a secret key."""
    path = str(tmp_path / 'kt.p12')
    for alias in keys:
        keytool('-genkeypair', '-alias', alias, '-keyalg', 'EC', '-dname', 'CN=%s' % alias, '-validity', '30',
                '-keystore', path, '-storetype', 'PKCS12', '-storepass:env', 'KT_PW')
    if trusted:
        cert = str(tmp_path / 'ca.der')
        with open(cert, 'wb') as f:
            f.write(certs.cert_to_der(identity('kt-ca')[1]))
        keytool('-importcert', '-noprompt', '-alias', 'kt-ca', '-file', cert, '-keystore', path,
                '-storepass:env', 'KT_PW')
    if secret:
        keytool('-genseckey', '-alias', 's1', '-keyalg', 'AES', '-keysize', '256', '-keystore', path,
                '-storetype', 'PKCS12', '-storepass:env', 'KT_PW')
    return path


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


# ---------------------------------------------------------------- the defects of issue 15

@needs_java
def test_trusted_certificate_into_keytool_made_key_store(tmp_path):
    """A keytool-made PKCS#12 key store takes a trusted certificate (was: 'either one key entry or trusted')."""
    path = keytool_store(tmp_path, secret=False, trusted=False)
    store = Keystore.loads(read(path), PW)
    ca = identity('added-ca')[1]
    assert store.set_trusted('added', ca) == 'added'
    write(path, store.dumps(PW))
    kinds, chains = keytool_kinds(path)
    assert kinds == {'k1': 'PrivateKeyEntry', 'added': 'trustedCertEntry'}
    java = java_entries(path, tmp=str(tmp_path))
    assert java['added'] == 'trusted ' + certs.fingerprint(ca).replace(':', '').lower()


@needs_java
def test_keytool_store_with_two_keys_trusted_and_secret_is_listed(tmp_path):
    """Every entry of a keytool-made store with two keys, a trusted certificate and a secret key."""
    path = keytool_store(tmp_path, keys=('k1', 'k2'))
    store = Keystore.loads(read(path), PW)
    summary = dict((e['alias'], e) for e in store.summary())
    assert sorted(summary) == ['k1', 'k2', 'kt-ca', 's1']
    assert summary['k1']['kind'] == summary['k2']['kind'] == 'private_key'
    assert summary['kt-ca']['kind'] == 'trusted_certificate'
    assert summary['s1'] == {'alias': 's1', 'kind': 'secret_key', 'algorithm': 'AES', 'key_size': 256}
    out = keytool('-list', '-keystore', path, '-storepass:env', 'KT_PW')
    for alias in ('k1', 'k2', 'kt-ca'):
        assert summary[alias]['fingerprint_sha256'] in out


@needs_java
def test_last_entry_removed_gives_an_empty_store(tmp_path):
    path = keytool_store(tmp_path, secret=False, trusted=False)
    store = Keystore.loads(read(path), PW)
    assert store.remove('k1')
    write(path, store.dumps(PW))
    assert 'Your keystore contains 0 entries' in keytool('-list', '-keystore', path, '-storepass:env', 'KT_PW')
    assert Keystore.loads(read(path), PW).entries == {}


@needs_java
def test_secret_key_survives_rewrites_and_password_rotation(tmp_path):
    """keytool -genseckey's entry is kept: byte for byte on a rewrite, the same key after a password rotation."""
    path = keytool_store(tmp_path, keys=('k1', 'k2'))
    before = java_entries(path, tmp=str(tmp_path))
    assert before['s1'].startswith('secret AES ')
    secret_bag = [b.der for b in p12.load(read(path), PW) if b.bag_id == p12.OID_SECRET_BAG]

    store = Keystore.loads(read(path), PW)
    store.set_trusted('more', identity('more')[1])
    write(path, store.dumps(PW))
    assert [b.der for b in p12.load(read(path), PW) if b.bag_id == p12.OID_SECRET_BAG] == secret_bag
    after = java_entries(path, tmp=str(tmp_path))
    assert dict((a, v) for a, v in after.items() if a != 'more') == before

    # a password rotation re-encrypts the secret key; Java reads the same key back
    rotated = Keystore.loads(read(path), PW)
    write(path, rotated.dumps('rotated-pw'))
    with pytest.raises(WrongPasswordError):
        Keystore.loads(read(path), PW)
    assert java_entries(path, password='rotated-pw', tmp=str(tmp_path)) == after
    kinds, dummy = keytool_kinds(path, password='rotated-pw')
    assert kinds['s1'] == 'SecretKeyEntry'


@needs_java
def test_secret_key_not_dropped_when_a_key_is_replaced(tmp_path):
    """The data loss of issue 15: replacing the key of a store that also holds a secret key kept only the key."""
    path = keytool_store(tmp_path, trusted=False)
    before = java_entries(path, tmp=str(tmp_path))
    store = Keystore.loads(read(path), PW)
    key, cert = identity('k1')
    assert store.set_key('k1', key, [cert])
    write(path, store.dumps(PW))
    after = java_entries(path, tmp=str(tmp_path))
    assert sorted(after) == ['k1', 's1']
    assert after['s1'] == before['s1']


def test_jks_key_of_a_type_cryptography_cannot_read_survives_a_password_rotation():
    """A JKS key entry whose key cryptography cannot parse keeps its PKCS#8 bytes when the store password changes."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.deps import pyjks
    jks = pyjks()
    cert = identity('odd')[1]
    # a PrivateKeyInfo with an algorithm no library here knows (1.3.6.1.4.1.99999.1)
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ
    a = p12._asn1()
    info = a.PrivateKeyInfo()
    info['version'] = 0
    info['privateKeyAlgorithm']['algorithm'] = univ.ObjectIdentifier('1.3.6.1.4.1.99999.1')
    info['privateKeyAlgorithm']['parameters'] = univ.Any(encoder.encode(univ.Null('')))
    info['privateKey'] = univ.OctetString(b'\x01\x02\x03\x04\x05\x06')
    odd = encoder.encode(info)
    entry = jks.PrivateKeyEntry.new('odd', [certs.cert_to_der(cert)], odd)
    entry.encrypt(PW)
    data = jks.KeyStore.new('jks', [entry]).saves(PW)
    store = Keystore.loads(data, PW)
    rotated = Keystore.loads(store.dumps('rotated-pw'), 'rotated-pw')
    back = jks.KeyStore.loads(rotated.dumps('rotated-pw'), 'rotated-pw')
    assert back.private_keys['odd'].pkey_pkcs8 == odd
    assert back.private_keys['odd'].cert_chain[0][1] == certs.cert_to_der(cert)


# ---------------------------------------------------------------- conversions

@needs_java
def test_conversion_to_jks_is_refused_naming_the_secret_key(tmp_path):
    path = keytool_store(tmp_path)
    store = Keystore.loads(read(path), PW)
    with pytest.raises(UnsupportedContentError, match="cannot keep the secret key 's1'"):
        store.dumps(PW, 'jks')
    # without it the conversion keeps every other entry
    store.remove('s1')
    jks = str(tmp_path / 'converted.jks')
    write(jks, store.dumps(PW, 'jks'))
    kinds, dummy = keytool_kinds(jks)
    assert kinds == {'k1': 'PrivateKeyEntry', 'kt-ca': 'trustedCertEntry'}


@needs_java
def test_jks_to_pkcs12_conversion_as_keytool_importkeystore(tmp_path):
    """A JKS key with its own key password ends up protected by the store password, as keytool
    -importkeystore does for a PKCS#12 destination; a key whose password is not given is refused."""
    jks = str(tmp_path / 'kt.jks')
    env = dict(os.environ, KT_PW=PW, KT_KEYPW='separate-key')
    for alias, keypass in (('own', 'KT_KEYPW'), ('same', 'KT_PW')):
        subprocess.run(['keytool', '-genkeypair', '-alias', alias, '-keyalg', 'EC', '-dname', 'CN=%s' % alias,
                        '-keystore', jks, '-storetype', 'JKS', '-storepass:env', 'KT_PW', '-keypass:env', keypass],
                       env=env, check=True, capture_output=True)
    store = Keystore.loads(read(jks), PW)
    with pytest.raises(UnsupportedContentError, match="'own' is protected by a key password"):
        store.dumps(PW, 'pkcs12')
    store.get('own').open('separate-key')
    out = str(tmp_path / 'converted.p12')
    write(out, store.dumps(PW, 'pkcs12'))
    kinds, dummy = keytool_kinds(out)
    assert kinds == {'own': 'PrivateKeyEntry', 'same': 'PrivateKeyEntry'}
    # keytool can take it on: into a fresh JKS
    keytool('-importkeystore', '-srckeystore', out, '-srcstoretype', 'PKCS12', '-srcstorepass:env', 'KT_PW',
            '-destkeystore', str(tmp_path / 'fresh.jks'), '-deststoretype', 'JKS', '-deststorepass:env', 'KT_PW',
            '-noprompt')
    assert sorted(keytool_kinds(str(tmp_path / 'fresh.jks'))[0]) == ['own', 'same']


# ---------------------------------------------------------------- what is written

@needs_java
def test_mixed_store_with_chains_as_java_reads_it(tmp_path):
    ca = ca_identity('issuing-ca')
    key1, leaf1 = identity('one', issuer=ca)
    key2, leaf2 = identity('two', issuer=ca)
    key3, cert3 = identity('three')
    other_ca = identity('other-ca')[1]
    store = Keystore('pkcs12', password=PW)
    store.set_key('one', key1, [leaf1, ca[1]])
    store.set_key('two', key2, [leaf2, ca[1]])
    store.set_key('three', key3, [cert3])
    store.set_trusted('issuing-ca', ca[1])
    store.set_trusted('other-ca', other_ca)
    path = str(tmp_path / 'mixed.p12')
    write(path, store.dumps(PW))
    kinds, chains = keytool_kinds(path)
    assert kinds == {'one': 'PrivateKeyEntry', 'two': 'PrivateKeyEntry', 'three': 'PrivateKeyEntry',
                     'issuing-ca': 'trustedCertEntry', 'other-ca': 'trustedCertEntry'}
    assert chains == {'one': 2, 'two': 2, 'three': 1}
    java = java_entries(path, tmp=str(tmp_path))
    fp = dict((c, certs.fingerprint(c).replace(':', '').lower()) for c in (leaf1, leaf2, ca[1]))
    assert java['one'].split()[2:] == [fp[leaf1], fp[ca[1]]]
    assert java['two'].split()[2:] == [fp[leaf2], fp[ca[1]]]
    # and read back the same
    loaded = Keystore.loads(read(path), PW)
    assert [certs.fingerprint(c) for c in loaded.get('one').chain] == [certs.fingerprint(leaf1),
                                                                       certs.fingerprint(ca[1])]
    assert certs.public_keys_equal(loaded.get('two').checked_private_key(), key2)
    assert sorted(e.alias for e in loaded.trusted_entries()) == ['issuing-ca', 'other-ca']


@needs_java
@needs_openssl
def test_written_with_the_algorithms_keytool_writes(tmp_path):
    """openssl's view of a store the collection writes equals its view of one keytool (JDK 17) writes."""
    path = keytool_store(tmp_path, secret=True)

    def algorithms(p):
        out = run(['openssl', 'pkcs12', '-info', '-noout', '-in', p, '-passin', 'env:KT_PW'])
        err = subprocess.run(['openssl', 'pkcs12', '-info', '-noout', '-in', p, '-passin', 'env:KT_PW'],
                             env=dict(os.environ, KT_PW=PW), capture_output=True, text=True, check=True).stderr
        lines = (out + err).splitlines()
        return sorted(set(line.strip() for line in lines if 'Iteration' in line or 'MAC' in line))

    expected = algorithms(path)
    assert 'MAC: sha256, Iteration 10000' in expected
    assert any('PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256' in line for line in expected)
    store = Keystore.loads(read(path), PW)
    store.set_trusted('more', identity('more')[1])
    ours = str(tmp_path / 'ours.p12')
    write(ours, store.dumps('rotated-pw'))
    store = Keystore.loads(read(ours), 'rotated-pw')
    write(ours, store.dumps(PW))
    assert algorithms(ours) == expected


# ---------------------------------------------------------------- what older tools wrote

@needs_openssl
@pytest.mark.parametrize('legacy, password', [(True, PW), (False, PW), (False, '')])
def test_openssl_made_files_are_read(tmp_path, legacy, password):
    """OpenSSL's current default (PBES2), its -legacy one (RC2-40 certificates, 3DES keys, SHA-1 MAC, as
    old Java wrote too), and an empty password."""
    key, cert = identity('ossl')
    from cryptography.hazmat.primitives import serialization
    key_path, cert_path, out = str(tmp_path / 'k.pem'), str(tmp_path / 'c.pem'), str(tmp_path / 'o.p12')
    write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    write(cert_path, certs.cert_to_pem(cert).encode('ascii'))
    args = ['openssl', 'pkcs12', '-export', '-inkey', key_path, '-in', cert_path, '-name', 'ossl',
            '-passout', 'env:KT_PW', '-out', out] + (['-legacy'] if legacy else [])
    proc = subprocess.run(args, env=dict(os.environ, KT_PW=password), capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.skip('this openssl cannot write it: %s' % proc.stderr[-200:])
    store = Keystore.loads(read(out), password)
    assert [e.alias for e in store.key_entries()] == ['ossl']
    assert certs.public_keys_equal(store.get('ossl').checked_private_key(), key)
    assert store.get('ossl').fingerprint() == certs.fingerprint(cert)


def test_forged_iteration_count_is_a_plain_error():
    """A MAC iteration count beyond Java's limit is refused at once instead of hanging the reader."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.errors import CorruptKeystoreError
    store = Keystore('pkcs12', password=PW)
    store.set_trusted('ca', identity('ca')[1])
    a = p12._asn1()
    pfx = p12._decode(store.dumps(PW), a.PFX)
    pfx['macData']['iterations'] = 10 ** 9
    with pytest.raises(CorruptKeystoreError, match='not a valid PKCS#12'):
        Keystore.loads(p12._encode(pfx), PW)
