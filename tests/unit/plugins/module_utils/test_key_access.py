# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The key entry's one key-access API, the one rule for the key password, and JKS written through
pyjks's public API only."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from unittest import mock

import jks
import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import keystore
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import WrongKeyPasswordError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import (
    KeyEntry, Keystore, effective_key_password, own_key_password,
)

PW = 'Store.pass-1'


def identity(name='k'):
    key = certs.generate_private_key('ec', 2048, 'secp256r1')
    return key, certs.self_signed_certificate(key, certs.parse_name('CN=%s' % name), [], 30)


@pytest.mark.parametrize('key_password, effective, own', [
    (None, PW, None), ('', PW, None), (PW, PW, None), ('Key.pass-2', 'Key.pass-2', 'Key.pass-2'),
])
def test_one_rule_for_the_key_password(key_password, effective, own):
    assert effective_key_password(key_password, PW) == effective
    assert own_key_password(key_password, PW) == own


def test_the_api_names_say_what_is_validated():
    names = set(n for n in vars(KeyEntry) if not n.startswith('_'))
    assert {'open', 'checked_private_key', 'unchecked_private_key', 'public_key'} <= names
    assert not names & {'unlock', 'private_key'}  # the old, ambiguous ways are gone


def test_open_returns_the_entry_and_skips_none():
    key, cert = identity()
    store = Keystore('jks', password=PW)
    store.set_key('k', key, [cert], key_password='Key.pass-2')
    entry = Keystore.loads(store.dumps(PW), PW).get('k')
    with pytest.raises(WrongKeyPasswordError):
        entry.open(None, PW)
    assert entry.open(None, 'Key.pass-2') is entry
    assert entry.key_password == 'Key.pass-2'
    assert entry.checked_private_key().private_numbers() == key.private_numbers()


def test_jks_is_written_without_pyjks_private_methods():
    key, cert = identity()
    store = Keystore('jks', password=PW)
    store.set_key('k', key, [cert], key_password='Key.pass-2')
    store.set_trusted('ca', identity('ca')[1])
    private = [n for n in vars(jks.KeyStore) if n.startswith('_write')]
    assert private  # what the writer used to call
    with mock.patch.multiple(jks.KeyStore, **dict((n, mock.Mock(side_effect=AssertionError(n))) for n in private)):
        data = store.dumps(PW)
    # pyjks reads what was written: the framing, the digest and the key protection are Java's
    loaded = jks.KeyStore.loads(data, PW, try_decrypt_keys=False)
    assert sorted(loaded.entries) == ['ca', 'k']
    loaded.private_keys['k'].decrypt('Key.pass-2')
    assert loaded.private_keys['k'].pkey_pkcs8 == Keystore.loads(data, PW).get('k').open('Key.pass-2').pkcs8()


def test_der_lengths():
    assert keystore._der_tlv(0x04, b'x' * 5)[:2] == b'\x04\x05'
    assert keystore._der_tlv(0x04, b'x' * 200)[:3] == b'\x04\x81\xc8'
    assert keystore._der_tlv(0x04, b'x' * 300)[:4] == b'\x04\x82\x01\x2c'
