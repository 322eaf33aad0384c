# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeyMismatchError
from ansible_collections.wso2si.keystores.plugins.module_utils.ownca import OwnCA


def request(cn='si1.example.com'):
    key = certs.generate_private_key('rsa', 2048)
    return certs.build_csr(key, certs.parse_name('CN=%s' % cn), ['DNS:%s' % cn], ['digitalSignature'], ['serverAuth'])


@pytest.mark.parametrize('passphrase', [None, 'ca-Passphrase-1'])
def test_a_loaded_ca_validates_its_key_only_to_sign(tmp_path, passphrase):
    OwnCA(str(tmp_path), passphrase).create('CN=Test CA', key_size=2048)
    assert oct(os.stat(str(tmp_path / 'ca.key')).st_mode & 0o777) == '0o600'
    ca = OwnCA(str(tmp_path), passphrase)
    assert ca.load() is True
    csr = request()
    assert ca._key is None  # loaded and matched with its certificate, not validated
    issued = ca.sign(csr, validity_days=30)
    assert ca._key is not None
    assert certs.signed_by(issued, ca.cert)
    assert ca.issued_matches(issued, csr, renew_before_days=7)
    assert not ca.issued_matches(issued, request('other.example.com'), renew_before_days=7)
    assert not ca.issued_matches(issued, csr, renew_before_days=60)  # inside the renewal window


def test_a_ca_whose_key_and_certificate_differ_is_refused(tmp_path):
    os.makedirs(str(tmp_path / 'a'))
    os.makedirs(str(tmp_path / 'b'))
    OwnCA(str(tmp_path / 'a')).create('CN=A', key_size=2048)
    OwnCA(str(tmp_path / 'b')).create('CN=B', key_size=2048)
    os.replace(str(tmp_path / 'b' / 'ca.key'), str(tmp_path / 'a' / 'ca.key'))
    with pytest.raises(KeyMismatchError):
        OwnCA(str(tmp_path / 'a')).load()


def test_a_wrong_passphrase_is_named(tmp_path):
    OwnCA(str(tmp_path), 'right-Passphrase-1').create('CN=A', key_size=2048)
    with pytest.raises(InvalidInputError, match='the passphrase does not decrypt the CA key'):
        OwnCA(str(tmp_path), 'wrong-Passphrase-1').load()
