# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Shipped defaults: a store made with the password wso2carbon, or left holding
(or trusting) a shipped WSO2 key, draws a loud warning; strict_defaults: true
turns it into a failure before anything is written.

A test certificate stands in for the shipped ones (module_harness.py adds its
fingerprint to defaults.SHIPPED_WSO2_CERT_SHA256 in the module process), so no
WSO2 key is needed; the real shipped stores are used too when
../shared/fixtures/si is present."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil

import pytest

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs

pytestmark = h.needs_layout

PW = 'Store.pass-1'
SHIPPED_PW = 'wso2carbon'
SHARED_SI = os.environ.get('SI_FIXTURES') or os.path.join(h.COLLECTION, '..', 'shared', 'fixtures', 'si')
if not os.path.isdir(SHARED_SI):  # tested from the copy at .build/ansible_collections/wso2si/keystores
    SHARED_SI = os.path.join(h.COLLECTION, '..', '..', '..', '..', '..', 'shared', 'fixtures', 'si')


@pytest.fixture(scope='module')
def shipped():
    """A key and certificate standing in for wso2carbon.jks's, and the harness config naming it shipped."""
    key = h.rsa_key(0)
    cert = h.issue(key, 'localhost', key, 'localhost', ca=False)
    return key, cert, {'shipped': [certs.fingerprint(cert)], 'shipped_keys': [certs.public_key_sha256(key)]}


def warnings_of(r):
    # ansible-core 2.19 returns warnings as dicts, older versions as strings
    return ' '.join(w.get('msg', str(w)) if isinstance(w, dict) else str(w) for w in r.json.get('warnings', []))


@pytest.mark.parametrize('module', ['si_truststore', 'si_keystore'])
def test_default_password_warns_and_strict_fails(tmp_path, module):
    path = str(tmp_path / 'store.jks')
    args = dict(path=path, password=SHIPPED_PW)
    if module == 'si_keystore':
        args.update(alias='si', key_type='ec')
    r = h.run_module(module, dict(args, strict_defaults=True), tmp_path)
    h.assert_clean_failure(r, r'^the store password is the shipped WSO2 default password, which every SI download '
                              r'contains: choose your own \(strict_defaults is set; nothing was changed\)$')
    assert not os.path.exists(path)

    r = h.run_module(module, args, tmp_path)
    h.assert_ok(r)
    assert 'the store password is the shipped WSO2 default password' in warnings_of(r)
    assert os.path.exists(path)


def test_keeping_a_shipped_key_warns_and_strict_fails(tmp_path, shipped):
    key, cert, harness = shipped
    path = h.make_store(str(tmp_path / 'keystore.jks'), PW, keys=[('wso2carbon', key, [cert])])
    before = h.snapshot(tmp_path)
    add = dict(path=path, password=PW, alias='si', key_type='ec')

    r = h.run_module('si_keystore', dict(add, strict_defaults=True), tmp_path, harness=harness)
    h.assert_clean_failure(r, r"holds the shipped WSO2 key entry 'wso2carbon' .*strict_defaults is set; nothing was changed")
    assert h.snapshot(tmp_path) == before

    r = h.run_module('si_keystore', add, tmp_path, harness=harness)
    h.assert_ok(r)
    assert "holds the shipped WSO2 key entry 'wso2carbon'" in warnings_of(r)
    assert sorted(h.load_store(path, PW).entries) == ['si', 'wso2carbon']

    # removing it is what strict mode lets through
    r = h.run_module('si_keystore', dict(path=path, password=PW, alias='wso2carbon', state='absent',
                                         strict_defaults=True), tmp_path, harness=harness)
    h.assert_ok(r)
    assert r.json['changed'] and not r.json.get('warnings')
    assert sorted(h.load_store(path, PW).entries) == ['si']


def test_a_new_certificate_on_a_shipped_key_is_still_shipped(tmp_path, shipped):
    """Re-issuing the self-signed certificate (here: a new validity) keeps the key, and the warning."""
    key, cert, harness = shipped
    path = h.make_store(str(tmp_path / 'keystore.jks'), PW, keys=[('wso2carbon', key, [cert])])
    before = h.snapshot(tmp_path)
    reissue = dict(path=path, password=PW, alias='wso2carbon', validity_days=400)
    r = h.run_module('si_keystore', dict(reissue, strict_defaults=True), tmp_path, harness=harness)
    h.assert_clean_failure(r, r"holds the shipped WSO2 key entry 'wso2carbon' \(a test key .*, with another certificate\)")
    assert h.snapshot(tmp_path) == before
    r = h.run_module('si_keystore', reissue, tmp_path, harness=harness)
    h.assert_ok(r)
    assert r.json['changed'] and 'with another certificate' in warnings_of(r)


def test_trusting_a_shipped_certificate_warns_and_strict_fails(tmp_path, shipped):
    key, cert, harness = shipped
    ca = h.self_signed(h.ec_key(), 'corp-root')
    path = h.make_store(str(tmp_path / 'trust.jks'), PW, trusted=[('wso2carbon', cert)], mode=0o644)
    before = h.snapshot(tmp_path)
    add = dict(path=path, password=PW, certificates=[{'alias': 'corp-root', 'content': h.pem(ca)}])

    r = h.run_module('si_truststore', dict(add, strict_defaults=True), tmp_path, harness=harness)
    h.assert_clean_failure(r, r"trusts the shipped WSO2 certificate 'wso2carbon'")
    assert h.snapshot(tmp_path) == before

    r = h.run_module('si_truststore', add, tmp_path, harness=harness)
    h.assert_ok(r)
    assert "trusts the shipped WSO2 certificate 'wso2carbon'" in warnings_of(r)

    r = h.run_module('si_truststore', dict(add, exclusive=True, strict_defaults=True), tmp_path, harness=harness)
    h.assert_ok(r)
    assert r.json['removed'] == ['wso2carbon'] and not r.json.get('warnings')


@pytest.mark.skipif(not os.path.isdir(SHARED_SI), reason='shared SI fixtures absent')
def test_real_shipped_stores_fail_in_strict_mode(tmp_path):
    security = os.path.join(SHARED_SI, 'server', 'resources', 'security')
    for name in ('wso2carbon.jks', 'client-truststore.jks'):
        shutil.copy(os.path.join(security, name), str(tmp_path / name))
    before = h.snapshot(tmp_path)
    # rotating the password away from wso2carbon, the shipped key is still there
    r = h.run_module('si_keystore', dict(path=str(tmp_path / 'wso2carbon.jks'), password='Own.pass-123',
                                         old_password=SHIPPED_PW, alias='wso2carbon', strict_defaults=True), tmp_path)
    # (Ansible masks every no_log value, here the old password wso2carbon, wherever it appears in the output)
    h.assert_clean_failure(r, r"holds the shipped WSO2 key entry '\S+' \(")
    r = h.run_module('si_truststore', dict(path=str(tmp_path / 'client-truststore.jks'), password=SHIPPED_PW,
                                           strict_defaults=True), tmp_path)
    h.assert_clean_failure(r, r'shipped WSO2 default password')
    assert h.snapshot(tmp_path) == before
