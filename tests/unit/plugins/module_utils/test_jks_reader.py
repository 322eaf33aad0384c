# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""keystore.py reads JKS itself and writes it with pyjks: the reader must see
exactly what pyjks and keytool see, and refuse what they refuse."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import shutil
import struct
import subprocess
import sys

import pytest

import jks  # pyjks: the independent reference here

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    CorruptKeystoreError, UnsupportedContentError, WrongKeyPasswordError, WrongPasswordError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

needs_keytool = pytest.mark.skipif(shutil.which('keytool') is None, reason='keytool absent')

PW = 'changeit-1'
KEY_PW = 'key-pass-2'


def identity(cn, key_type='rsa'):
    key = certs.generate_private_key(key_type)
    return key, certs.self_signed_certificate(key, certs.parse_name('CN=%s' % cn), ['DNS:%s' % cn])


def der(cert):
    return certs.cert_to_der(cert)


def pkcs8(key):
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pyjks_store(key_password=None):
    """A JKS made by pyjks alone: two key entries (one under its own password) and two trusted certificates."""
    key1, cert1 = identity('one')
    key2, cert2 = identity('two', 'ec')
    ca1, ca2 = identity('ca-1')[1], identity('ca-2')[1]
    k1 = jks.PrivateKeyEntry.new('one', [der(cert1), der(ca1)], pkcs8(key1))
    k2 = jks.PrivateKeyEntry.new('two', [der(cert2)], pkcs8(key2))
    if key_password:
        k2.encrypt(key_password)
    entries = [k1, k2, jks.TrustedCertEntry.new('ca-1', der(ca1)), jks.TrustedCertEntry.new('ca-2', der(ca2))]
    return jks.KeyStore.new('jks', entries).saves(PW), {'one': key1, 'two': key2}


def test_reader_sees_what_pyjks_wrote():
    data, keys = pyjks_store(key_password=KEY_PW)
    reference = jks.KeyStore.loads(data, PW, try_decrypt_keys=False)
    store = Keystore.loads(data, PW)
    assert list(store.entries) == list(reference.entries)
    for alias, ref in reference.entries.items():
        entry = store.entries[alias]
        assert entry.timestamp == ref.timestamp
        if isinstance(ref, jks.TrustedCertEntry):
            assert entry.kind == 'trusted_certificate' and entry.der == ref.cert
        else:
            assert entry.kind == 'private_key' and entry.chain_der == [c[1] for c in ref.cert_chain]
    assert store.get('one').open(PW).checked_private_key().private_numbers() == keys['one'].private_numbers()
    with pytest.raises(WrongKeyPasswordError):
        store.get('two').open(PW).checked_private_key()
    assert store.get('two').open(PW, KEY_PW).checked_private_key().private_numbers() == keys['two'].private_numbers()
    assert store.get('two').key_password == KEY_PW


def test_pyjks_reads_what_was_written_and_locked_keys_are_kept_byte_for_byte():
    data, keys = pyjks_store(key_password=KEY_PW)
    store = Keystore.loads(data, PW)
    store.remove('ca-2')  # a change; 'two' stays locked under its own password
    written = store.dumps(PW)
    reference = jks.KeyStore.loads(written, PW, try_decrypt_keys=False)
    assert sorted(reference.entries) == ['ca-1', 'one', 'two']
    original = jks.KeyStore.loads(data, PW, try_decrypt_keys=False)
    assert reference.entries['two']._encrypted == original.entries['two']._encrypted
    reference.entries['two'].decrypt(KEY_PW)
    assert reference.entries['two'].pkey_pkcs8 == pkcs8(keys['two'])


def test_unprotect_matches_pyjks_key_protector():
    from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import _jks_protected_key, _jks_unprotect
    key = identity('k')[0]
    for password in (PW, 'pässwörd-ü', 'x' * 40):
        entry = jks.PrivateKeyEntry.new('k', [der(identity('c')[1])], pkcs8(key))
        entry.encrypt(password)
        encrypted = _jks_protected_key(entry._encrypted, 'k')
        assert _jks_unprotect(encrypted, password) == pkcs8(key)
        assert _jks_unprotect(encrypted, password + '!') is None


@needs_keytool
def test_reader_reads_keytool_store_with_chain(tmp_path):
    path = str(tmp_path / 'kt.jks')
    env = dict(os.environ, KT_PW=PW)
    subprocess.run(['keytool', '-genkeypair', '-keystore', path, '-storetype', 'JKS', '-storepass:env', 'KT_PW',
                    '-keypass:env', 'KT_PW', '-alias', 'MixedCase', '-keyalg', 'RSA', '-keysize', '2048',
                    '-dname', 'CN=kt'], env=env, check=True, capture_output=True)
    with open(path, 'rb') as f:
        data = f.read()
    store = Keystore.loads(data, PW)
    entry = store.get('mixedcase')
    assert entry.kind == 'private_key' and len(entry.chain_der) == 1
    certs.check_key_matches(entry.open(PW).checked_private_key(), entry.certificate)


def rebuild(records, password=PW, version=2):
    """A JKS from raw records [(tag, alias bytes, body bytes)], with a correct digest."""
    data = b'\xfe\xed\xfe\xed' + struct.pack('>LL', version, len(records))
    for tag, alias, body in records:
        data += struct.pack('>LH', tag, len(alias)) + alias + struct.pack('>q', 0) + body
    return data + hashlib.sha1(password.encode('utf-16be') + b'Mighty Aphrodite' + data).digest()


def trusted_body(cert_der):
    return struct.pack('>H', 5) + b'X.509' + struct.pack('>L', len(cert_der)) + cert_der


def test_reader_refusals():
    cert_der = der(identity('t')[1])
    good = rebuild([(2, b'a', trusted_body(cert_der))])
    assert Keystore.loads(good, PW).get('a').der == cert_der
    cases = [
        (rebuild([(2, b'a', trusted_body(cert_der))], version=1), CorruptKeystoreError),
        (rebuild([(2, b'a', trusted_body(cert_der)), (2, b'a', trusted_body(cert_der))]), CorruptKeystoreError),
        (rebuild([(3, b'a', trusted_body(cert_der))]), CorruptKeystoreError),
        (rebuild([(2, b'\xff\xfe', trusted_body(cert_der))]), CorruptKeystoreError),
        (rebuild([(2, b'a', trusted_body(cert_der)[:-5])]), CorruptKeystoreError),
        (good[:-1], CorruptKeystoreError),       # the digest cut short
        (good[:-20], CorruptKeystoreError),      # no digest at all
        (good[:-21] + b'\x00' + good[-20:], WrongPasswordError),  # one byte changed
    ]
    for data, error in cases:
        with pytest.raises(error):
            Keystore.loads(data, PW)
    with pytest.raises(WrongPasswordError):
        Keystore.loads(good, PW + '-wrong')


def test_key_protection_refusals():
    cert = identity('p')[1]
    chain = struct.pack('>L', 1) + trusted_body(der(cert))

    def store_with(protected):
        body = struct.pack('>L', len(protected)) + protected + chain
        return Keystore.loads(rebuild([(1, b'k', body)]), PW).get('k')

    # an EncryptedPrivateKeyInfo under another algorithm (PBEWithMD5AndTripleDES, JCEKS's)
    other = bytes.fromhex('3013300d06092b060104012a0213010500040200ff')
    with pytest.raises(UnsupportedContentError):
        store_with(other).open(PW).checked_private_key()
    with pytest.raises(CorruptKeystoreError):
        store_with(b'\x30\x03\x02\x01').open(PW).checked_private_key()
    short = bytes.fromhex('3014300e060a2b060104012a021101010500040200ff')
    with pytest.raises(CorruptKeystoreError):
        store_with(short).open(PW).checked_private_key()


def test_reading_never_imports_pyjks(tmp_path):
    """Only writing needs pyjks: a module run that reads a store does not pay for its import."""
    code = ('import sys\n'
            'from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore\n'
            'data = open(sys.argv[1], "rb").read()\n'
            'Keystore.loads(data, %r).get("one").open(%r).checked_private_key()\n'
            'assert not [m for m in sys.modules if m == "jks" or m.startswith(("jks.", "pyasn1"))], sys.modules\n'
            % (PW, PW))
    path = tmp_path / 'store.jks'
    path.write_bytes(pyjks_store()[0])
    subprocess.run([sys.executable, '-c', code, str(path)], check=True,
                   env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
