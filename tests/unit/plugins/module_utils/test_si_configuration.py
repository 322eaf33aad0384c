# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_config's backend against SI's real deployment.yaml (server and tooling
profiles, from ../shared/fixtures/si when present) and the project's own fixture
(tests/fixtures/si_home)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import os
import shutil

import pytest
import yaml

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import launcher as carbon_sh
from ansible_collections.wso2si.keystores.plugins.module_utils import masking
from ansible_collections.wso2si.keystores.plugins.module_utils import si_audit as sa
from ansible_collections.wso2si.keystores.plugins.module_utils import si_deployment as sd
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as sl
from ansible_collections.wso2si.keystores.plugins.module_utils import yaml_text as yt
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
PROJECT_HOME = os.path.join(REPO, 'tests', 'fixtures', 'si_home')
SHARED_SI = os.environ.get('SI_FIXTURES') or os.path.join(REPO, '..', 'shared', 'fixtures', 'si')
if not os.path.isdir(SHARED_SI):  # tested from a copy at .build/collections/ansible_collections/wso2si/keystores
    SHARED_SI = os.path.join(REPO, '..', '..', '..', '..', '..', 'shared', 'fixtures', 'si')
needs_shared = pytest.mark.skipif(not os.path.isdir(SHARED_SI), reason='shared SI fixtures absent')

KS_PW = 'Keystore.pass-1'
TS_PW = 'Truststore.pass-2'
VAULT_PW = 'Vault.pass-3'

HOMES = [
    pytest.param(PROJECT_HOME, 'server', id='project'),
    pytest.param(os.path.join(SHARED_SI, 'server'), 'server', id='shared-server', marks=needs_shared),
    pytest.param(os.path.join(SHARED_SI, 'tooling'), 'tooling', id='shared-tooling', marks=needs_shared),
]


def read(path):
    with open(path, 'rb') as f:
        return f.read().decode('utf-8')


def deployment_of(home):
    return read(os.path.join(home, 'conf', 'server', 'deployment.yaml'))


# ---------------------------------------------------------------- stores

@pytest.fixture(scope='module')
def identities():
    out = {}
    for name in ('tls', 'tls2', 'vault'):
        key = certs.generate_private_key('rsa', 2048)
        out[name] = (key, certs.self_signed_certificate(key, certs.parse_name('CN=%s' % name), ['DNS:%s' % name]))
    return out


def write_store(path, password, keys=(), trusted=(), key_password=None):
    store = Keystore('jks')
    for alias, (key, cert) in keys:
        store.set_key(alias, key, [cert], key_password=key_password)
    for alias, cert in trusted:
        store.set_trusted(alias, cert)
    with open(path, 'wb') as f:
        f.write(store.dumps(password))


@pytest.fixture
def si_home(tmp_path, identities):
    """A writable SI home from the project fixture, with new stores."""
    home = str(tmp_path / 'si')
    shutil.copytree(PROJECT_HOME, home)
    sec = os.path.join(home, 'resources', 'security')
    write_store(os.path.join(sec, 'si-tls.jks'), KS_PW, keys=[('si-tls', identities['tls'])])
    write_store(os.path.join(sec, 'si-trust.jks'), TS_PW, trusted=[('si-tls', identities['tls'][1])])
    write_store(os.path.join(sec, 'si-vault.jks'), VAULT_PW, keys=[('si-vault', identities['vault'])])
    return home


def settings(home, vault_mode=False, outside=None):
    sec = os.path.join(home, 'resources', 'security')
    out = {
        'keystore_path': os.path.join(sec, 'si-tls.jks'),
        'keystore_password': sd.Password(KS_PW, sl.SECRET_ALIASES['keystore_password'] if vault_mode else None),
        'truststore_path': outside or os.path.join(sec, 'si-trust.jks'),
        'truststore_password': sd.Password(TS_PW, sl.SECRET_ALIASES['truststore_password'] if vault_mode else None),
        'vault_path': os.path.join(sec, 'si-vault.jks'),
        'vault_alias': 'si-vault',
    }
    return out


def value_lines(text, profile):
    """0-based line numbers of every value of docs/si-reference.md section 1 this module may set."""
    doc = yt.DeploymentConfig.parse(text)
    lines = set()
    for loc in sl.locations_for(profile, doc):
        node = doc.find(loc)
        for key, role in loc.keys:
            if role in ('secrets_file', 'master_keys_file'):
                continue
            pair = doc.get(node, key, loc.label)
            lines.add(pair[1].start_mark.line)
    return lines


# ---------------------------------------------------------------- HTTPS ports

@pytest.mark.parametrize('home, expected', [
    pytest.param(PROJECT_HOME, [9443, 7443], id='project'),
    pytest.param(os.path.join(SHARED_SI, 'server'), [9443, 7443], id='shared-server', marks=needs_shared),
    pytest.param(os.path.join(SHARED_SI, 'tooling'), [9743], id='shared-tooling', marks=needs_shared),
])
def test_https_ports_of_real_configurations(home, expected):
    assert sd.https_ports(yaml.safe_load(deployment_of(home))) == expected
    # as si_config gets them: from the plan's own load of the rewired text
    assert sd.https_ports(sd.plan_deployment(deployment_of(home), settings('/opt/si'), '/opt/si').after_data) == expected


def test_https_ports_offset_placeholders_and_odd_shapes():
    text = (
        'wso2.carbon:\n  ports:\n    offset: 10\n'
        'wso2.transport.http:\n  listenerConfigurations:\n'
        '    - {id: default, port: 9090}\n'
        '    - {id: msf4j-https, scheme: HTTPS, port: "9443"}\n'
        '    - {id: other, scheme: https, port: "${env:PORT}"}\n'
        '    - just a string\n'
        'siddhi.stores.query.api:\n  listenerConfigurations: not a list\n'
    )
    assert sd.https_ports(yaml.safe_load(text)) == [9453]
    assert sd.https_ports(None) == [] and sd.https_ports(['a list']) == []


# ---------------------------------------------------------------- rewiring

@pytest.mark.parametrize('home, profile', HOMES)
def test_every_location_rewired_and_only_those_lines_change(home, profile):
    before = deployment_of(home)
    new = settings('/opt/si')
    plan = sd.plan_deployment(before, new, '/opt/si')
    assert plan.profile == profile
    after = plan.after
    # byte diff: same number of lines, and exactly the location value lines differ
    old_lines, new_lines = before.splitlines(True), after.splitlines(True)
    assert len(old_lines) == len(new_lines)
    changed = set(n for n, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b)
    assert changed == value_lines(before, profile)
    # within a changed line only the value changed: the key, its spacing and indent stay
    for n in changed:
        head = old_lines[n].split(':', 1)[0]
        assert new_lines[n].startswith(head + ':')
    # every location holds the new values, with the placeholder its location used
    doc = yt.DeploymentConfig.parse(after)
    listener = doc.values(sl.location('https_listener'))
    assert listener == {'keyStoreFile': '${carbon.home}/resources/security/si-tls.jks',
                        'keyStorePassword': KS_PW, 'certPass': KS_PW}
    assert doc.values(sl.location('databridge')) == {
        'keyStoreLocation': '${sys:carbon.home}/resources/security/si-tls.jks', 'keyStorePassword': KS_PW}
    for loc in (sl.location('agent_thrift'), sl.location('agent_binary')):
        assert doc.values(loc) == {'trustStorePath': '${sys:carbon.home}/resources/security/si-trust.jks',
                                   'trustStorePassword': TS_PW}
    vault = doc.values(sl.location('securevault'))
    assert vault['keystoreLocation'] == '${sys:carbon.home}/resources/security/si-vault.jks'
    assert vault['privateKeyAlias'] == 'si-vault'
    if profile == 'server':
        assert doc.values(sl.location('query_api_listener')) == listener
    else:
        assert doc.find(sl.location('query_api_listener')) is None
    # the databridge keeps "key : value"
    assert '  keyStoreLocation : ${sys:carbon.home}/resources/security/si-tls.jks\n' in after
    # the result parses; a second run changes nothing
    yaml.safe_load(after)
    assert not sd.plan_deployment(after, new, '/opt/si').changed
    # never a top-level transports or securevault key
    assert not set(sl.SHADOWING_KEYS) & set(doc.top_keys())


@pytest.mark.parametrize('home, profile', HOMES)
def test_optional_blocks_only_add_lines(home, profile):
    before = deployment_of(home)
    new = settings('/opt/si')
    after = sd.plan_deployment(before, new, '/opt/si', ssl_configs=True, siddhi_http=True).after
    ops = difflib.SequenceMatcher(None, before.splitlines(True), after.splitlines(True), autojunk=False).get_opcodes()
    assert not [op for op in ops if op[0] == 'delete']
    replaced = set()
    for tag, i1, i2, j1, j2 in ops:
        if tag == 'replace':
            assert i2 - i1 == j2 - j1
            replaced.update(range(i1, i2))
    assert replaced == value_lines(before, profile)
    data = yaml.safe_load(after)
    assert data['ssl.configs'] == {'keyStoreLocation': '${sys:carbon.home}/resources/security/si-tls.jks',
                                   'keyStorePassword': KS_PW,
                                   'trustStoreLocation': '${sys:carbon.home}/resources/security/si-trust.jks',
                                   'trustStorePassword': TS_PW}
    http = dict((e['extension']['namespace'], e['extension']['properties']) for e in data['siddhi']['extensions']
                if e['extension']['name'] == 'http')
    assert http['source'] == {'keyStoreLocation': '${sys:carbon.home}/resources/security/si-tls.jks',
                              'keyStorePassword': KS_PW}
    assert http['sink']['trustStorePassword'] == TS_PW and http['sink']['keyPassword'] == KS_PW
    assert not sd.plan_deployment(after, new, '/opt/si', ssl_configs=True, siddhi_http=True).changed


def test_existing_extensions_list_gets_items_appended():
    before = deployment_of(PROJECT_HOME)
    after = sd.plan_deployment(before, settings('/opt/si'), '/opt/si', siddhi_http=True).after
    extensions = yaml.safe_load(after)['siddhi']['extensions']
    assert [(e['extension']['name'], e['extension']['namespace']) for e in extensions] == \
        [('kafka', 'source'), ('http', 'source'), ('http', 'sink')]
    assert after.count('\nsiddhi:') == 1


def test_partial_optional_block_is_completed_in_place():
    text = deployment_of(PROJECT_HOME) + '\nssl.configs:\n  # mine\n  keyStoreLocation: /old.jks\n'
    after = sd.plan_deployment(text, settings('/opt/si'), '/opt/si', ssl_configs=True).after
    assert after.count('ssl.configs:') == 1
    assert '  # mine\n  keyStoreLocation: ${sys:carbon.home}/resources/security/si-tls.jks\n' \
           '  keyStorePassword: \'Keystore.pass-1\'\n' in after


def test_store_outside_home_is_absolute_and_literal_passwords_are_quoted():
    before = deployment_of(PROJECT_HOME)
    new = settings('/opt/si', outside='/etc/pki/si/trust.jks')
    new['keystore_password'] = sd.Password('012345')
    new['truststore_password'] = sd.Password('yes-it#is')
    doc = yt.DeploymentConfig.parse(sd.plan_deployment(before, new, '/opt/si').after)
    assert doc.values(sl.location('agent_thrift'))['trustStorePath'] == '/etc/pki/si/trust.jks'
    data = yaml.safe_load(doc.text)
    assert data['databridge.config']['keyStorePassword'] == '012345'
    assert data['data.agent.config']['agents'][0]['agentConfiguration']['trustStorePassword'] == 'yes-it#is'
    assert "certPass: '012345'\n" in doc.text


def test_secure_vault_references_keep_each_locations_quoting():
    after = sd.plan_deployment(deployment_of(PROJECT_HOME), settings('/opt/si', vault_mode=True), '/opt/si').after
    assert '      keyStorePassword: ${sec:wso2si.keystore.password}\n' in after
    assert "      trustStorePassword: '${sec:wso2si.truststore.password}'\n" in after
    assert KS_PW not in after and TS_PW not in after
    assert yt.DeploymentConfig.parse(after).sec_aliases() == ['wso2si.keystore.password', 'wso2si.truststore.password']


def test_only_the_given_stores_are_rewired():
    before = deployment_of(PROJECT_HOME)
    new = settings('/opt/si')
    only_trust = dict((k, v) for k, v in new.items() if k.startswith('truststore'))
    plan = sd.plan_deployment(before, only_trust, '/opt/si')
    assert [c.location for c in plan.changes] == [sl.location('agent_thrift').label, sl.location('agent_binary').label]


# ---------------------------------------------------------------- refusals

def test_malformed_yaml_is_refused():
    with pytest.raises(ConfigError, match='not valid YAML'):
        sd.plan_deployment('wso2.carbon:\n  id: [unclosed\n', settings('/opt/si'), '/opt/si')


@pytest.mark.parametrize('home, profile', HOMES)
def test_missing_location_is_reported_not_invented(home, profile):
    text = deployment_of(home)
    broken = text.replace('name: Binary', 'name: Binaryx')
    with pytest.raises(ConfigError, match=r'agentConfiguration\[name=Binary\].*does not invent'):
        sd.plan_deployment(broken, settings('/opt/si'), '/opt/si')
    no_vault = text.replace('wso2.securevault:', 'wso2.securevaultx:')
    with pytest.raises(ConfigError, match='wso2.securevault > secretRepository'):
        sd.plan_deployment(no_vault, settings('/opt/si'), '/opt/si')


def test_server_profile_needs_the_query_api_listener():
    text = deployment_of(PROJECT_HOME).replace('      port: 7443', '      port: 7443\n      id2: x').replace(
        '      id: "msf4j-https"\n      host: "0.0.0.0"\n      port: 7443', '      id: "other"\n      host: "0.0.0.0"\n'
        '      port: 7443')
    with pytest.raises(ConfigError, match='siddhi.stores.query.api'):
        sd.plan_deployment(text, settings('/opt/si'), '/opt/si')


def test_missing_key_and_duplicates_are_refused():
    text = deployment_of(PROJECT_HOME)
    with pytest.raises(ConfigError, match='lacks the key certPass'):
        sd.plan_deployment(text.replace('      certPass: wso2carbon\n', '', 1), settings('/opt/si'), '/opt/si')
    with pytest.raises(ConfigError, match='databridge.config.*2 times'):
        sd.plan_deployment(text + '\ndatabridge.config:\n  workerThreads: 1\n', settings('/opt/si'), '/opt/si')


def test_passwords_si_cannot_carry_are_refused():
    for bad in ('a${x}b', 'line\nbreak', ''):
        with pytest.raises(Exception):
            sd.check_config_password(bad, 'the keystore password')


# ---------------------------------------------------------------- the launcher

def test_launcher_four_lines_only():
    before = read(os.path.join(PROJECT_HOME, 'wso2', 'server', 'bin', 'carbon.sh'))
    after, props = carbon_sh.plan_launcher(before, settings('/opt/si', outside='/etc/pki/t.jks'), '/opt/si')
    assert len(props) == 4
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines()) and len(changed) == 4
    assert '    -Djavax.net.ssl.keyStore="$CARBON_HOME/resources/security/si-tls.jks" \\\n' in after
    assert '    -Djavax.net.ssl.trustStore="/etc/pki/t.jks" \\\n' in after
    assert '    -Djavax.net.ssl.keyStorePassword="%s" \\\n' % KS_PW in after
    assert carbon_sh.plan_launcher(after, settings('/opt/si', outside='/etc/pki/t.jks'), '/opt/si')[1] == []


@needs_shared
@pytest.mark.parametrize('profile', ['server', 'tooling'])
def test_launcher_under_secure_vault_holds_no_password(profile):
    before = read(os.path.join(SHARED_SI, profile, 'wso2', 'server', 'bin', 'carbon.sh'))
    after = carbon_sh.plan_launcher(before, settings('/opt/si', vault_mode=True), '/opt/si')[0]
    assert '-Djavax.net.ssl.keyStorePassword="" \\\n' in after
    assert '-Djavax.net.ssl.trustStorePassword="" \\\n' in after
    assert KS_PW not in after and 'wso2carbon"' not in after


def test_launcher_without_the_lines_is_refused():
    with pytest.raises(ConfigError, match='no line setting -Djavax.net.ssl.keyStore, '):
        carbon_sh.plan_launcher('#!/bin/sh\nexec java Main\n', settings('/opt/si'), '/opt/si')


def test_launcher_escapes_shell_characters():
    new = settings('/opt/si')
    new['keystore_password'] = sd.Password('a"b$c`d\\e')
    before = read(os.path.join(PROJECT_HOME, 'wso2', 'server', 'bin', 'carbon.sh'))
    after = carbon_sh.plan_launcher(before, new, '/opt/si')[0]
    assert carbon_sh.read_launcher(after, 'carbon.sh').values('/opt/si')['keyStorePassword'] == 'a"b$c`d\\e'


# ---------------------------------------------------------------- masks

def test_diff_masks_every_password():
    before = deployment_of(PROJECT_HOME)
    after = sd.plan_deployment(before, settings('/opt/si'), '/opt/si', ssl_configs=True).after
    mb, ma = masking.mask_deployment(before, after, [KS_PW, TS_PW])
    for text in (mb, ma):
        assert KS_PW not in text and TS_PW not in text
        assert 'Password: wso2carbon' not in text and 'password: wso2carbon' not in text
    assert "keyStorePassword: '******** (changed)'" in ma
    launcher = read(os.path.join(PROJECT_HOME, 'wso2', 'server', 'bin', 'carbon.sh'))
    lb, la = masking.mask_launcher(launcher, carbon_sh.plan_launcher(launcher, settings('/opt/si'), '/opt/si')[0], [KS_PW])
    assert 'wso2carbon"' not in lb and KS_PW not in la


# ---------------------------------------------------------------- stores and audit

def test_rewired_project_home_names_stores_that_open(si_home):
    text = deployment_of(si_home)
    after = sd.plan_deployment(text, settings(si_home), si_home, ssl_configs=True, siddhi_http=True).after
    doc = yt.DeploymentConfig.parse(after)
    opener = sa.StoreOpener()
    seen = 0
    for loc in sl.locations_for('server', doc) + sl.OPTIONAL_LOCATIONS:
        values = doc.values(loc)
        for key, role in loc.keys:
            if role in ('keystore_path', 'truststore_path'):
                kind = sl.STORE_OF_ROLE[role]
                path = sl.resolve_config_path(values[key], si_home)
                store = opener.open(path, KS_PW if kind == 'keystore' else TS_PW, path)
                if kind == 'keystore':
                    sa.check_tls_keystore(store, KS_PW, path)
                seen += 1
    assert seen == 10  # 2 listeners, databridge, 2 agents, ssl.configs (2), http source, sink (2)
    vault = sl.resolve_config_path(doc.values(sl.location('securevault'))['keystoreLocation'], si_home)
    assert sv.open_vault(vault, VAULT_PW, 'si-vault').key_size == 2048


def test_keystore_checks(tmp_path, identities):
    two = str(tmp_path / 'two.jks')
    write_store(two, KS_PW, keys=[('a', identities['tls']), ('b', identities['tls2'])])
    with pytest.raises(ConfigError, match='2 key entries'):
        sa.check_tls_keystore(sa.StoreOpener().open(two, KS_PW, two), KS_PW, two)
    other = str(tmp_path / 'keypw.jks')
    write_store(other, KS_PW, keys=[('a', identities['tls'])], key_password='Another.pass')
    with pytest.raises(ConfigError, match='key password other than the store password'):
        sa.check_tls_keystore(sa.StoreOpener().open(other, KS_PW, other), KS_PW, other)


@needs_shared
def test_audit_of_the_shipped_server_finds_the_defaults():
    home = os.path.join(SHARED_SI, 'server')
    findings, facts = sa.audit(home, os.path.join(home, 'conf', 'server', 'deployment.yaml'),
                               os.path.join(home, 'wso2', 'server', 'bin', 'carbon.sh'), {})
    kinds = set(f['kind'] for f in findings)
    assert {'default_store_file', 'default_password', 'shipped_key', 'trusts_shipped_certificate',
            'implicit_default'} <= kinds
    assert facts['profile'] == 'server'
    labels = set(f['location'] for f in findings)
    for name in ('https_listener', 'query_api_listener', 'databridge', 'agent_thrift', 'agent_binary', 'securevault'):
        assert sl.location(name).label in labels
    assert sl.LAUNCHER_LABEL in labels
    assert not [f for f in findings if 'wso2carbon' in f.get('detail', '') and f['kind'] == 'missing_secret_alias']


def test_audit_after_a_full_rollout_is_clean(si_home, identities):
    sec = os.path.join(si_home, 'resources', 'security')
    new = settings(si_home, vault_mode=True)
    path = os.path.join(si_home, 'conf', 'server', 'deployment.yaml')
    after = sd.plan_deployment(read(path), new, si_home, ssl_configs=True, siddhi_http=True).after
    with open(path, 'w') as f:
        f.write(after)
    launcher = os.path.join(si_home, 'wso2', 'server', 'bin', 'carbon.sh')
    new_launcher = carbon_sh.plan_launcher(read(launcher), new, si_home)[0]
    with open(launcher, 'w') as f:
        f.write(new_launcher)
    vault = sv.open_vault(os.path.join(sec, 'si-vault.jks'), VAULT_PW, 'si-vault')
    secrets = sv.SecretsFile(read(os.path.join(si_home, 'conf', 'server', 'secrets.properties')))
    sv.ensure_secrets(secrets, vault, {'wso2si.keystore.password': KS_PW, 'wso2si.truststore.password': TS_PW})
    with open(os.path.join(si_home, 'conf', 'server', 'secrets.properties'), 'w') as f:
        f.write(secrets.dumps())
    with open(os.path.join(si_home, 'conf', 'server', 'master-keys.yaml'), 'w') as f:
        f.write(sv.master_keys_text(VAULT_PW, VAULT_PW))
    findings = sa.audit(si_home, path, launcher, {})[0]
    assert findings == []
    # an alias the secrets file lacks is reported
    with open(path, 'a') as f:
        f.write('\nextra.block:\n  password: ${sec:not.there}\n')
    findings = sa.audit(si_home, path, launcher, {})[0]
    assert [f['kind'] for f in findings] == ['missing_secret_alias']
    assert findings[0]['location'] == '${sec:not.there}'


# ---------------------------------------------------------------- one lock for both modules

def _start_module(name, args):
    import json
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, 'plugins', 'modules', '%s.py' % name)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    proc.stdin.write(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    proc.stdin.close()
    return proc


def _result(proc):
    import json
    out = proc.stdout.read()
    proc.wait()
    return json.loads(out)


def test_si_config_and_si_secret_racing_lose_nothing(si_home):
    """si_config (writing its two secrets) and si_secret (adding one) at the same time on
    one SI home: both hold the lock on conf/server, so neither loses the other's entry."""
    sec = os.path.join(si_home, 'resources', 'security')
    secrets_path = os.path.join(si_home, 'conf', 'server', 'secrets.properties')
    config_args = {
        'si_home': si_home, 'passwords_as': 'secure_vault',
        'keystore': {'path': os.path.join(sec, 'si-tls.jks'), 'password': KS_PW},
        'truststore': {'path': os.path.join(sec, 'si-trust.jks'), 'password': TS_PW},
        'secure_vault': {'keystore_path': os.path.join(sec, 'si-vault.jks'), 'key_alias': 'si-vault',
                         'password': VAULT_PW},
    }
    # the vault first, so that si_secret always encrypts with the vault si_config uses
    assert _result(_start_module('si_config', {'si_home': si_home, 'secure_vault': config_args['secure_vault'],
                                               'validate': False}))['changed']
    for n in range(3):
        if n:  # make si_config write its secrets again
            secrets = sv.SecretsFile(read(secrets_path))
            secrets.remove('wso2si.truststore.password')
            with open(secrets_path, 'w') as f:
                f.write(secrets.dumps())
        config = _start_module('si_config', config_args)
        secret = _start_module('si_secret', {'si_home': si_home, 'vault_keystore_password': VAULT_PW,
                                             'secrets': [{'alias': 'race.%d' % n, 'value': 'Race.pass-%d' % n}]})
        results = [_result(config), _result(secret)]
        assert [r.get('changed') for r in results] == [True, True], [r.get('msg') for r in results]
        aliases = sv.SecretsFile(read(secrets_path)).aliases()
        for alias in ['wso2si.keystore.password', 'wso2si.truststore.password'] + ['race.%d' % i for i in range(n + 1)]:
            assert alias in aliases
