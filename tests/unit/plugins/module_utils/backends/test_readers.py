# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backends of si_csr, si_keystore_info, si_tls_check and si_ca, without running the modules."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends import si_ca as ca_backend
from ansible_collections.wso2si.keystores.plugins.module_utils.backends import si_csr as csr_backend
from ansible_collections.wso2si.keystores.plugins.module_utils.backends import si_keystore_info as info_backend
from ansible_collections.wso2si.keystores.plugins.module_utils.backends import si_tls_check as tls_backend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore
from ansible_collections.wso2si.keystores.plugins.modules import si_ca, si_csr, si_keystore_info, si_tls_check

from .fake_module import FakeModule

PW = 'Store.pass-1'


@pytest.fixture
def keystore_path(tmp_path):
    key = certs.generate_private_key('ec', 2048, 'secp256r1')
    cert = certs.self_signed_certificate(key, certs.parse_name('CN=si'), ['DNS:si.example.com'], 30)
    store = Keystore('jks', password=PW)
    store.set_key('si', key, [cert], key_password='Key.pass-2')
    path = tmp_path / 'ks.jks'
    path.write_bytes(store.dumps(PW))
    return path


def test_csr_decides_to_keep_an_equal_request(keystore_path, tmp_path):
    dest = tmp_path / 'si.csr'
    params = dict(path=str(keystore_path), password=PW, alias='si', key_password='Key.pass-2', dest=str(dest))
    first = csr_backend.CsrBackend.execute(FakeModule(si_csr.argument_spec(), **params))
    assert first['changed'] and first['subject_alt_names'] == ['DNS:si.example.com'] and dest.exists()
    csr = csr_backend.CsrBackend(FakeModule(si_csr.argument_spec(), **params))
    csr.read()
    csr.decide()
    assert csr.request is csr.current  # kept: nothing to sign or write
    assert not csr_backend.CsrBackend.execute(FakeModule(si_csr.argument_spec(), **params))['changed']


def test_keystore_info_reports_the_key_password(keystore_path):
    def facts(key_password):
        module = FakeModule(si_keystore_info.argument_spec(), path=str(keystore_path), password=PW,
                            key_password=key_password, expiry_warning_days=60)
        return info_backend.KeystoreInfoBackend.execute(module)
    good, bad = facts('Key.pass-2'), facts('Wrong.pass-3')
    assert good['entries'][0]['key_password_valid'] is True and bad['entries'][0]['key_password_valid'] is False
    assert good['expiring'] == ['si'] and not good['changed']


def test_keystore_info_checks_options_before_reading(tmp_path):
    module = FakeModule(si_keystore_info.argument_spec(), path=str(tmp_path / 'missing.jks'), password=PW,
                        expiry_warning_days=-1)
    with pytest.raises(InvalidInputError, match='expiry_warning_days'):
        info_backend.KeystoreInfoBackend.execute(module)


@pytest.mark.parametrize('params, message', [
    (dict(ports=[]), 'at least one port'),
    (dict(port=70000), 'not a TCP port'),
    (dict(port=443, timeout=0), 'more than 0 seconds'),
])
def test_tls_check_refuses_bad_options(params, message):
    with pytest.raises(InvalidInputError, match=message):
        tls_backend.TlsCheckBackend(FakeModule(si_tls_check.argument_spec(), **params)).check()


def test_ca_refuses_create_with_content():
    module = FakeModule(si_ca.argument_spec(), ca_certificate='x', ca_private_key='y', create=True)
    with pytest.raises(InvalidInputError, match='exists already'):
        ca_backend.CABackend(module).check()


def test_ca_missing_without_create_says_how_to_provide_it(tmp_path):
    backend = ca_backend.CABackend(FakeModule(si_ca.argument_spec(), ca_dir=str(tmp_path / 'ca')))
    with pytest.raises(InvalidInputError, match='create a new CA explicitly with create=true'):
        backend.read()


def test_ca_creates_signs_and_keeps(tmp_path, keystore_path):
    csr = csr_backend.CsrBackend.execute(FakeModule(si_csr.argument_spec(), path=str(keystore_path), password=PW,
                                                    alias='si', key_password='Key.pass-2'))['csr']
    params = dict(ca_dir=str(tmp_path / 'ca'), create=True, ca_key_type='ec', csr=csr, dest=str(tmp_path / 'si.pem'))
    first = ca_backend.CABackend.execute(FakeModule(si_ca.argument_spec(), **params))
    assert first['changed'] and first['ca_created'] and (tmp_path / 'si.pem').exists()
    again = ca_backend.CABackend.execute(FakeModule(si_ca.argument_spec(), **params))
    assert not again['changed'] and not again['ca_created']
    assert again['fingerprint_sha256'] == first['fingerprint_sha256']
