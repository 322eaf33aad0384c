# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_rollout_state: a host is unchanged only when everything the rollout decides is as recorded."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import grp
import os
import pwd
import shutil
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import rollout_state as rs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_rollout_state import RolloutStateBackend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore
from ansible_collections.wso2si.keystores.plugins.modules import si_rollout_state

from .fake_module import FakeModule

PW = 'Store.pass-1'
VAULT_PW = 'Vault.pass-1'
DIGEST = 'a' * 64
FIXTURE_HOME = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'fixtures', 'si_home')


def certificate(key, name, not_before, not_after):
    return (x509.CertificateBuilder().subject_name(certs.parse_name(name)).issuer_name(certs.parse_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after).sign(key, hashes.SHA256()))


def key_store(path, alias, days=365, password=PW, age_days=0):
    """A store with one key entry whose certificate was issued ``age_days`` ago and ends in ``days``."""
    key = certs.generate_private_key('ec', 256, 'secp256r1')
    now = certs.utcnow()
    cert = certificate(key, 'CN=%s' % alias, now - datetime.timedelta(days=age_days, minutes=5),
                       now + datetime.timedelta(days=days))
    store = Keystore('jks', password=password)
    store.set_key(alias, key, [cert])
    path.write_bytes(store.dumps(password))
    return cert


@pytest.fixture
def home(tmp_path):
    si = tmp_path / 'si'
    shutil.copytree(FIXTURE_HOME, str(si))
    security = si / 'resources' / 'security'
    security.mkdir(parents=True, exist_ok=True)
    key_store(security / 'si-keystore.jks', 'si')
    trust = Keystore('jks', password=PW)
    trust.set_trusted('ca', certs.self_signed_certificate(certs.generate_private_key('ec', 256, 'secp256r1'),
                                                          certs.parse_name('CN=ca'), [], 365))
    (security / 'si-truststore.jks').write_bytes(trust.dumps(PW))
    key_store(security / 'si-securevault.jks', 'securevault', password=VAULT_PW)
    return si


def params(si, **overrides):
    security = si / 'resources' / 'security'
    p = dict(si_home=str(si), inputs_digest=DIGEST,
             keystore=dict(path=str(security / 'si-keystore.jks'), password=PW, alias='si'),
             truststore=dict(path=str(security / 'si-truststore.jks'), password=PW),
             vault_keystore=dict(path=str(security / 'si-securevault.jks'), password=VAULT_PW, alias='securevault'))
    p.update(overrides)
    return p


def run(si, check_mode=False, **overrides):
    return RolloutStateBackend.execute(FakeModule(si_rollout_state.argument_spec(), check_mode=check_mode,
                                                  **params(si, **overrides)))


def record(si, **overrides):
    return run(si, state='present', facts={'https_ports': [9443], 'ca_fingerprint': 'AB'}, **overrides)


def test_no_record_is_a_changed_host(home):
    result = run(home)
    assert result['unchanged'] is False
    assert result['reasons'] == ['no record of a completed run (format %d)' % rs.FORMAT]
    assert result['certificate'].startswith('-----BEGIN CERTIFICATE-----')
    assert result['recorded'] == {}


def test_recorded_host_is_unchanged_and_gives_its_facts_back(home):
    assert record(home)['changed'] is True
    result = run(home)
    assert result['reasons'] == []
    assert result['unchanged'] is True
    assert result['recorded'] == {'https_ports': [9443], 'ca_fingerprint': 'AB'}
    assert result['fingerprint_sha256'] == certs.fingerprint(certs.load_certificates(result['certificate'])[0])


def test_record_is_private_and_the_same_bytes_for_the_same_host(home):
    record(home)
    path = home / rs.RECORD_NAME
    before = path.read_bytes()
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert record(home)['changed'] is False
    assert path.read_bytes() == before
    assert PW.encode() not in before and VAULT_PW.encode() not in before


def test_check_mode_writes_no_record(home):
    assert record(home, check_mode=True)['changed'] is True
    assert not (home / rs.RECORD_NAME).exists()


@pytest.mark.parametrize('change, reason', [
    (lambda si: (si / 'conf' / 'server' / 'deployment.yaml').write_text(
        (si / 'conf' / 'server' / 'deployment.yaml').read_text() + '\n# edited by hand\n'),
     'deployment.yaml changed since the last run'),
    (lambda si: (si / 'wso2' / 'server' / 'bin' / 'carbon.sh').write_text('#!/bin/sh\n'),
     'carbon.sh changed since the last run'),
    (lambda si: os.chmod(str(si / 'resources' / 'security' / 'si-keystore.jks'), 0o604),
     'the owner, group or mode of'),
    (lambda si: (si / 'resources' / 'security' / 'si-truststore.jks').unlink(),
     'si-truststore.jks disappeared since the last run'),
    (lambda si: (si / 'resources' / 'security' / 'wso2carbon.jks').write_bytes(b'shipped'),
     'wso2carbon.jks appeared since the last run'),
    (lambda si: (si / 'conf' / 'server' / 'master-keys.yaml').write_text('permanent: true\n'),
     'master-keys.yaml'),
])
def test_every_managed_file_counts(home, change, reason):
    record(home)
    change(home)
    result = run(home)
    assert result['unchanged'] is False
    assert any(reason in r for r in result['reasons']), result['reasons']


def test_changed_inputs(home):
    record(home)
    result = run(home, inputs_digest='b' * 64)
    assert result['reasons'] == ["the role's inputs changed since the last run"]


def test_a_store_that_no_longer_opens_with_its_password(home):
    record(home)
    result = run(home, keystore=dict(path=str(home / 'resources' / 'security' / 'si-keystore.jks'),
                                     password='Other.pass-2', alias='si'))
    assert result['unchanged'] is False
    assert any('wrong password for the keystore' in r for r in result['reasons']), result['reasons']
    assert result['certificate'] == ''


def test_a_truststore_password_counts_too(home):
    record(home)
    result = run(home, truststore=dict(path=str(home / 'resources' / 'security' / 'si-truststore.jks'),
                                       password='Other.pass-2'))
    assert any('wrong password for the truststore' in r for r in result['reasons']), result['reasons']


def test_a_missing_key_entry(home):
    record(home)
    result = run(home, keystore=dict(path=str(home / 'resources' / 'security' / 'si-keystore.jks'),
                                     password=PW, alias='other'))
    assert result['reasons'] == ['the keystore has no key entry other']


def test_renewal_window_reached(home):
    key_store(home / 'resources' / 'security' / 'si-keystore.jks', 'si', days=20)
    record(home, renew_before_days=30)
    result = run(home, renew_before_days=30)
    assert len(result['reasons']) == 1 and 'within the renewal window of 30 days' in result['reasons'][0]
    assert run(home, renew_before_days=10)['unchanged'] is True


def test_key_too_old(home):
    key_store(home / 'resources' / 'security' / 'si-keystore.jks', 'si', age_days=100)
    record(home)
    assert run(home)['unchanged'] is True
    result = run(home, key_max_age_days=90)
    assert result['reasons'] == ['the key of the keystore is 90 days old or more (key_max_age_days)']


def test_expired_vault_key(home):
    key_store(home / 'resources' / 'security' / 'si-securevault.jks', 'securevault', password=VAULT_PW, days=-1, age_days=10)
    record(home)
    result = run(home)
    assert any('the certificate of the secure vault keystore expires' in r for r in result['reasons']), result['reasons']


def test_record_of_another_format_reads_as_none(home):
    record(home)
    path = home / rs.RECORD_NAME
    path.write_text(path.read_text().replace('"format": %d' % rs.FORMAT, '"format": %d' % (rs.FORMAT + 1)))
    assert run(home)['reasons'] == ['no record of a completed run (format %d)' % rs.FORMAT]
    path.write_text('not json')
    assert run(home)['unchanged'] is False


@pytest.mark.parametrize('overrides, message', [
    (dict(inputs_digest='xyz'), 'inputs_digest must be a SHA-256 digest'),
    (dict(renew_before_days=-1), 'renew_before_days must be 0 or more'),
    (dict(key_max_age_days=-2), 'key_max_age_days must be 0 or more'),
])
def test_bad_input(home, overrides, message):
    with pytest.raises(InvalidInputError, match=message):
        run(home, **overrides)


def test_not_an_si_home_is_a_reason_to_check_and_an_error_to_record(tmp_path):
    result = run(tmp_path / 'missing')
    assert result['unchanged'] is False
    assert result['reasons'] == ['%s is not an SI home' % (tmp_path / 'missing')]
    assert result['si_home'] == {'deployment_exists': False, 'owner': '', 'group': ''}
    (tmp_path / 'empty').mkdir()
    assert run(tmp_path / 'empty')['si_home']['deployment_exists'] is False
    with pytest.raises(InvalidInputError, match='is not an SI home: .*deployment.yaml is missing'):
        record(tmp_path / 'empty')


def test_who_owns_si_home(home):
    st = os.stat(str(home))
    facts = run(home)['si_home']
    assert facts['deployment_exists'] is True
    assert facts['owner'] == pwd.getpwuid(st.st_uid).pw_name
    assert facts['group'] == grp.getgrgid(st.st_gid).gr_name
