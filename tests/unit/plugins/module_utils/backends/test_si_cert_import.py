# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_cert_import's decisions, made by its backend without running the module."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends import si_cert_import as backend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import WrongKeyPasswordError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore
from ansible_collections.wso2si.keystores.plugins.modules import si_cert_import

from .fake_module import FakeModule

PW = 'Store.pass-1'


def issue(key, subject, ca_key, ca_cert, is_ca=False):
    now = certs.utcnow()
    builder = (x509.CertificateBuilder().subject_name(certs.parse_name(subject))
               .issuer_name(ca_cert.subject if ca_cert is not None else certs.parse_name(subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=90))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    return builder.sign(ca_key, hashes.SHA256())


@pytest.fixture
def setup(tmp_path):
    ca_key = certs.generate_private_key('ec', 2048, 'secp256r1')
    ca_cert = issue(ca_key, 'CN=Root', ca_key, None, is_ca=True)
    key = certs.generate_private_key('ec', 2048, 'secp256r1')
    self_signed = certs.self_signed_certificate(key, certs.parse_name('CN=si'), [], 30)
    store = Keystore('jks', password=PW)
    store.set_key('si', key, [self_signed], key_password='Key.pass-2')
    path = tmp_path / 'ks.jks'
    path.write_bytes(store.dumps(PW))
    reply = issue(key, 'CN=si', ca_key, ca_cert)
    return path, reply, ca_cert


def module(path, reply, ca_cert, **params):
    return FakeModule(si_cert_import.argument_spec(), diff=True, path=str(path), password=PW, alias='si',
                      certificate=certs.cert_to_pem(reply),
                      ca_certificates=[dict(alias='root', content=certs.cert_to_pem(ca_cert))], **params)


def test_decide_builds_the_chain_leaf_to_root(setup):
    ci = backend.CertImportBackend(module(*setup, key_password='Key.pass-2'))
    ci.read()
    ci.decide()
    assert [certs.name_to_string(c.subject) for c in ci.chain] == ['CN=si', 'CN=Root']


def test_the_key_password_given_is_the_one_tried(setup):
    # a wrong key_password is not made good by the store password: one rule decides the password
    ci = backend.CertImportBackend(module(*setup, key_password='Wrong.pass-3'))
    with pytest.raises(WrongKeyPasswordError):
        ci.read()


def test_import_then_idempotent(setup):
    result = backend.CertImportBackend.execute(module(*setup, key_password='Key.pass-2'))
    assert result['changed'] and result['trusted_added'] == ['root'] and result['trusted_replaced'] == []
    assert [e['alias'] for e in result['diff']['after']['entries']] == ['root', 'si']
    again = backend.CertImportBackend.execute(module(*setup, key_password='Key.pass-2'))
    assert not again['changed'] and again['trusted_added'] == []
