# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The configuration audit's blind spots (issue 13.3) and the one shipped-key
rule (issue 13.4): shipped store names and the shipped password anywhere in
deployment.yaml and the launcher are reported with their YAML path, and a store
holding a certificate re-issued on a shipped key is not secure."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import defaults
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import launcher as carbon_sh
from ansible_collections.wso2si.keystores.plugins.module_utils import si_audit as sa
from ansible_collections.wso2si.keystores.plugins.module_utils import si_deployment as sd
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as sl
from ansible_collections.wso2si.keystores.plugins.module_utils import yaml_text as yt
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
PROJECT_HOME = os.path.join(REPO, 'tests', 'fixtures', 'si_home')
SHARED_SI = os.environ.get('SI_FIXTURES') or os.path.join(REPO, '..', 'shared', 'fixtures', 'si')
if not os.path.isdir(SHARED_SI):  # tested from a copy at .build/ansible_collections/wso2si/keystores
    SHARED_SI = os.path.join(REPO, '..', '..', '..', '..', '..', 'shared', 'fixtures', 'si')
needs_shared = pytest.mark.skipif(not os.path.isdir(SHARED_SI), reason='shared SI fixtures absent')

KS_PW = 'Keystore.pass-1'
TS_PW = 'Truststore.pass-2'
VAULT_PW = 'Vault.pass-3'


def read(path):
    with open(path, 'rb') as f:
        return f.read().decode('utf-8')


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)


@pytest.fixture(scope='module')
def identities():
    out = {}
    for name in ('tls', 'vault'):
        key = certs.generate_private_key('rsa', 2048)
        out[name] = (key, certs.self_signed_certificate(key, certs.parse_name('CN=%s' % name), ['DNS:%s' % name]))
    return out


def write_store(path, password, keys=(), trusted=()):
    store = Keystore('jks')
    for alias, (key, cert) in keys:
        store.set_key(alias, key, [cert])
    for alias, cert in trusted:
        store.set_trusted(alias, cert)
    with open(path, 'wb') as f:
        f.write(store.dumps(password))


def rolled_out(tmp_path, identities, tls=None):
    """A project SI home moved onto its own stores with the passwords in the vault: the audit is clean."""
    home = str(tmp_path / 'si')
    shutil.copytree(PROJECT_HOME, home)
    sec = os.path.join(home, 'resources', 'security')
    tls = tls or identities['tls']
    write_store(os.path.join(sec, 'si-tls.jks'), KS_PW, keys=[('si-tls', tls)])
    write_store(os.path.join(sec, 'si-trust.jks'), TS_PW, trusted=[('si-tls', tls[1])])
    write_store(os.path.join(sec, 'si-vault.jks'), VAULT_PW, keys=[('si-vault', identities['vault'])])
    settings = {
        'keystore_path': os.path.join(sec, 'si-tls.jks'),
        'keystore_password': sd.Password(KS_PW, sl.SECRET_ALIASES['keystore_password']),
        'truststore_path': os.path.join(sec, 'si-trust.jks'),
        'truststore_password': sd.Password(TS_PW, sl.SECRET_ALIASES['truststore_password']),
        'vault_path': os.path.join(sec, 'si-vault.jks'),
        'vault_alias': 'si-vault',
    }
    deployment = os.path.join(home, 'conf', 'server', 'deployment.yaml')
    write(deployment, sd.plan_deployment(read(deployment), settings, home, ssl_configs=True, siddhi_http=True).after)
    launcher = os.path.join(home, 'wso2', 'server', 'bin', 'carbon.sh')
    write(launcher, carbon_sh.plan_launcher(read(launcher), settings, home)[0])
    vault = sv.open_vault(os.path.join(sec, 'si-vault.jks'), VAULT_PW, 'si-vault')
    secrets_path = os.path.join(home, 'conf', 'server', 'secrets.properties')
    secrets = sv.SecretsFile(read(secrets_path))
    sv.ensure_secrets(secrets, vault, {'wso2si.keystore.password': KS_PW, 'wso2si.truststore.password': TS_PW})
    write(secrets_path, secrets.dumps())
    write(os.path.join(home, 'conf', 'server', 'master-keys.yaml'), sv.master_keys_text(VAULT_PW, VAULT_PW))
    return home, deployment, launcher


def insert_after(text, anchor, lines):
    at = text.index(anchor) + len(anchor)
    at = text.index('\n', at) + 1
    return text[:at] + lines + text[at:]


def where(findings):
    return set((f['kind'], f['location'], f.get('key')) for f in findings)


# ---------------------------------------------------------------- 13.3: the sweep

def test_shipped_material_in_unknown_places_is_found(tmp_path, identities):
    home, deployment, launcher = rolled_out(tmp_path, identities)
    assert sa.audit(home, deployment, launcher, {})[0] == []  # the datasource's wso2carbon is not key material

    text = read(deployment)
    text = insert_after(text, 'certPass:', (
        '    -\n'
        '      id: "custom-https"\n'
        '      host: "0.0.0.0"\n'
        '      port: 9444\n'
        '      scheme: https\n'
        '      keyStoreFile: "${carbon.home}/resources/security/wso2carbon.jks"\n'
        '      keyStorePassword: wso2carbon\n'
        '      certPass: wso2carbon\n'))
    text = insert_after(text, 'id: "http-sender"', (
        '      trustStoreFile: "${carbon.home}/resources/security/client-truststore.jks"\n'
        '      trustStorePass: wso2carbon\n'))
    text = insert_after(text, "bootstrap.servers: 'localhost:9092'", (
        '    -\n'
        '      extension:\n'
        '        name: grpc\n'
        '        namespace: source\n'
        '        properties:\n'
        '          keystore.file: ${sys:carbon.home}/resources/security/wso2carbon.jks\n'
        '          keystore.password: wso2carbon\n'))
    write(deployment, text)
    write(launcher, read(launcher).replace(
        '    -Dfile.encoding=UTF8 \\\n',
        '    -Dfile.encoding=UTF8 \\\n'
        '    -Dcom.example.tls.keyStore="$CARBON_HOME/resources/security/securevault.jks" \\\n'
        '    -Dcom.example.tls.password=wso2carbon \\\n'))

    findings = sa.audit(home, deployment, launcher, {})[0]
    listener = 'wso2.transport.http.listenerConfigurations[id=custom-https]'
    grpc = 'siddhi.extensions[extension.name=grpc].extension.properties'
    expected = {
        ('default_store_file', listener + '.keyStoreFile', 'keyStoreFile'),
        ('default_password', listener + '.keyStorePassword', 'keyStorePassword'),
        ('default_password', listener + '.certPass', 'certPass'),
        ('default_store_file', 'wso2.transport.http.senderConfigurations[id=http-sender].trustStoreFile',
         'trustStoreFile'),
        ('default_password', 'wso2.transport.http.senderConfigurations[id=http-sender].trustStorePass',
         'trustStorePass'),
        ('default_store_file', grpc + '.keystore.file', 'keystore.file'),
        ('default_password', grpc + '.keystore.password', 'keystore.password'),
        ('default_store_file', 'carbon.sh line 23', 'com.example.tls.keyStore'),
        ('default_password', 'carbon.sh line 24', 'com.example.tls.password'),
    }
    assert where(findings) == expected
    assert all(f['file'] == (launcher if f['location'].startswith('carbon.sh') else deployment) for f in findings)


@pytest.mark.parametrize('value, hit', [
    ('${carbon.home}/resources/security/wso2carbon.jks', True),
    ('wso2carbon.jks', True),
    ('C:\\si\\client-truststore.jks', True),
    ('/etc/si/securevault.jks', True),
    ('/etc/si/my-wso2carbon.jks', False),
    ('/etc/si/wso2carbon.jks.bak', True),  # a copy of it, by its name
    ('/etc/si/wso2carbon.jksx', False),
])
def test_shipped_store_names(value, hit):
    assert bool(sa.SHIPPED_STORE_NAME.search(value)) is hit


def test_sweep_leaves_aliases_users_and_datasources_alone():
    doc = yt.DeploymentConfig.parse(
        'a:\n  keyAlias: wso2carbon\n  username: wso2carbon\n  other: wso2carbon\n'
        'wso2.datasources:\n  dataSources:\n    - name: DB\n      password: wso2carbon\n')
    assert where(sa.sweep_deployment(doc, 'server')) == {('default_password', 'a.other', 'other')}


# ---------------------------------------------------------------- 13.4: one rule

def test_spki_walk_matches_cryptography(identities):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    keys = [identities['tls'][0], ec.generate_private_key(ec.SECP384R1()), ed25519.Ed25519PrivateKey.generate()]
    for key in keys:
        cert = certs.self_signed_certificate(key, certs.parse_name('CN=x'), ['DNS:x'])
        spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        assert defaults.spki_of_certificate_der(certs.cert_to_der(cert)) == spki
    assert defaults.spki_of_certificate_der(b'\x30\x03\x02\x01\x00') is None
    assert defaults.spki_of_certificate_der(b'') is None


@pytest.fixture
def shipped_key(monkeypatch, identities):
    """The test TLS key stands in for a shipped WSO2 key (by its public key only)."""
    key = identities['tls'][0]
    monkeypatch.setitem(defaults.SHIPPED_WSO2_PUBLIC_KEY_SHA256, certs.public_key_sha256(key), 'a stand-in key')
    return key


def test_rule_covers_key_entries_chains_and_trusted_certificates(shipped_key, identities):
    reissued = certs.self_signed_certificate(shipped_key, certs.parse_name('CN=reissued'), None, validity_days=400)
    other_key, other_cert = identities['vault']
    empty = Keystore('jks')
    store = Keystore('jks')
    store.set_key('reissued', shipped_key, [reissued])
    store.set_trusted('trusted-reissued', reissued)
    store.set_key('own', other_key, [other_cert])
    found = defaults.shipped_entries(store)
    assert [(f.alias, f.kind) for f in found] == [('reissued', 'private_key'),
                                                  ('trusted-reissued', 'trusted_certificate')]
    assert all('with another certificate' in f.where for f in found)
    assert defaults.shipped_entries(store, ['own']) == []
    assert defaults.shipped_entries(empty) == []


def test_audit_fails_a_certificate_reissued_on_a_shipped_key(tmp_path, identities, shipped_key):
    reissued = certs.self_signed_certificate(shipped_key, certs.parse_name('CN=si.example.com'), ['DNS:si'])
    home, deployment, launcher = rolled_out(tmp_path, identities, tls=(shipped_key, reissued))
    findings = sa.audit(home, deployment, launcher, {})[0]
    kinds = set(f['kind'] for f in findings)
    assert kinds == {'shipped_key', 'trusts_shipped_certificate'}
    assert all('with another certificate' in f['detail'] for f in findings)


@needs_shared
def test_audit_fails_the_real_shipped_key_under_a_new_certificate(tmp_path, identities):
    with open(os.path.join(SHARED_SI, 'server', 'resources', 'security', 'wso2carbon.jks'), 'rb') as f:
        shipped = Keystore.loads(f.read(), 'wso2carbon')
    entry = shipped.entries['wso2carbon']
    entry.open('wso2carbon').checked_private_key()
    key = entry.checked_private_key()
    reissued = certs.self_signed_certificate(key, certs.parse_name('CN=si.example.com'), ['DNS:si'])
    assert not defaults.is_shipped_wso2_certificate(certs.fingerprint(reissued))
    home, deployment, launcher = rolled_out(tmp_path, identities, tls=(key, reissued))
    findings = sa.audit(home, deployment, launcher, {})[0]
    assert set(f['kind'] for f in findings) == {'shipped_key', 'trusts_shipped_certificate'}
    assert sa.is_shipped_certificate(reissued)
