# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_keystore's decisions, made by its backend without running the module."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends import si_keystore as backend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore
from ansible_collections.wso2si.keystores.plugins.modules import si_keystore

from .fake_module import FakeModule

PW = 'Store.pass-1'


def module(path, **params):
    return FakeModule(si_keystore.argument_spec(), path=str(path), password=PW, alias='si', **params)


def decided(path, **params):
    ks = backend.KeystoreBackend(module(path, **params))
    ks.check()
    ks.read()
    ks.decide()
    return ks


def make_store(path, key, cert, **kwargs):
    store = Keystore('jks', password=PW)
    store.set_key('si', key, [cert], **kwargs)
    path.write_bytes(store.dumps(PW))


def self_signed(subject='CN=si', days=365):
    key = certs.generate_private_key('ec', 2048, 'secp256r1')
    return key, certs.self_signed_certificate(key, certs.parse_name(subject), [], days)


def test_missing_entry_is_generated(tmp_path):
    assert decided(tmp_path / 'ks.jks').action == backend.GENERATE


def test_absent_removes(tmp_path):
    assert decided(tmp_path / 'ks.jks', state='absent').action == backend.REMOVE


def test_matching_entry_only_follows_the_key_password(tmp_path):
    make_store(tmp_path / 'ks.jks', *self_signed())
    ks = decided(tmp_path / 'ks.jks', key_type='ec')
    assert ks.action == backend.PASSWORD and not ks.module.warnings


def test_subject_change_reissues_on_the_same_key(tmp_path):
    make_store(tmp_path / 'ks.jks', *self_signed())
    assert decided(tmp_path / 'ks.jks', subject='CN=other').action == backend.REISSUE


def test_key_type_change_replaces_a_self_signed_key(tmp_path):
    make_store(tmp_path / 'ks.jks', *self_signed())
    assert decided(tmp_path / 'ks.jks', key_type='rsa').action == backend.REPLACE_KEY


def test_ca_signed_chain_is_kept_with_a_warning(tmp_path):
    ca_key, ca_cert = self_signed('CN=ca')
    key = certs.generate_private_key('ec', 2048, 'secp256r1')
    leaf = certs.self_signed_certificate(key, certs.parse_name('CN=si'), [], 30)
    # a leaf issued by the CA: re-sign the leaf's facts with the CA key
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    signed = (x509.CertificateBuilder().subject_name(leaf.subject).issuer_name(ca_cert.subject)
              .public_key(key.public_key()).serial_number(7)
              .not_valid_before(certs.not_before(leaf)).not_valid_after(certs.not_after(leaf))
              .sign(ca_key, hashes.SHA256()))
    store = Keystore('jks', password=PW)
    store.set_key('si', key, [signed, ca_cert])
    (tmp_path / 'ks.jks').write_bytes(store.dumps(PW))
    ks = decided(tmp_path / 'ks.jks', subject='CN=other')
    assert ks.action == backend.KEEP
    assert 'never replaced by a self-signed certificate' in ks.module.warnings[0]


def test_regenerate_fail_refuses_a_mismatch(tmp_path):
    make_store(tmp_path / 'ks.jks', *self_signed())
    with pytest.raises(KeystoreError, match='regenerate is fail'):
        decided(tmp_path / 'ks.jks', subject='CN=other', regenerate='fail')


def test_regenerate_never_keeps_whatever_the_entry_holds(tmp_path):
    make_store(tmp_path / 'ks.jks', *self_signed())
    assert decided(tmp_path / 'ks.jks', key_type='rsa', regenerate='never').action == backend.KEEP


def test_separate_key_password_warns_for_tls_only(tmp_path):
    tls = decided(tmp_path / 'ks.jks', key_password='Key.pass-2')
    assert tls.key_password == 'Key.pass-2' and 'differs from the store password' in tls.module.warnings[0]
    vault = decided(tmp_path / 'v.jks', key_password='Key.pass-2', purpose='secure_vault')
    assert vault.key_password == 'Key.pass-2' and not vault.module.warnings


def test_pkcs12_refuses_a_separate_key_password(tmp_path):
    with pytest.raises(InvalidInputError, match='one password for the store and its key'):
        decided(tmp_path / 'ks.p12', key_password='Key.pass-2')


def test_options_checked_before_anything_is_read(tmp_path):
    with pytest.raises(InvalidInputError, match='key_size applies to RSA keys only'):
        decided(tmp_path / 'ks.jks', key_type='ec', key_size=2048)
    assert not (tmp_path / 'ks.jks').exists()


def test_execute_writes_once_and_is_then_idempotent(tmp_path):
    path = tmp_path / 'ks.jks'
    first = backend.KeystoreBackend.execute(module(path, key_type='ec', subject='CN=si'))
    assert first['changed'] and first['subject'] == 'CN=si' and path.exists()
    again = backend.KeystoreBackend.execute(module(path, key_type='ec', subject='CN=si'))
    assert not again['changed'] and again['fingerprint_sha256'] == first['fingerprint_sha256']


def test_check_mode_writes_nothing(tmp_path):
    path = tmp_path / 'ks.jks'
    result = backend.KeystoreBackend.execute(FakeModule(si_keystore.argument_spec(), check_mode=True, path=str(path),
                                                        password=PW, alias='si', key_type='ec'))
    assert result['changed'] and not path.exists()
