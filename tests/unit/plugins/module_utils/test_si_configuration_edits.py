# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_config's text edits on files shaped as real hosts have them: launchers whose
-Djavax.net.ssl.* options share a line with other options or continue on the next
line (checked by running the rewritten launcher with a stand-in java), and
deployment.yaml files with a byte order mark, document markers, flow collections
or CRLF line endings."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import subprocess

import pytest
import yaml
from hypothesis import given, settings as hsettings, strategies as st

from ansible_collections.wso2si.keystores.plugins.module_utils import launcher as carbon_sh
from ansible_collections.wso2si.keystores.plugins.module_utils import masking
from ansible_collections.wso2si.keystores.plugins.module_utils import si_deployment as sd
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as sl
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
PROJECT_HOME = os.path.join(REPO, 'tests', 'fixtures', 'si_home')
SHARED_SI = os.environ.get('SI_FIXTURES') or os.path.join(REPO, '..', 'shared', 'fixtures', 'si')
if not os.path.isdir(SHARED_SI):  # tested from a copy at .build/collections/ansible_collections/wso2si/keystores
    SHARED_SI = os.path.join(REPO, '..', '..', '..', '..', '..', 'shared', 'fixtures', 'si')
needs_shared = pytest.mark.skipif(not os.path.isdir(SHARED_SI), reason='shared SI fixtures absent')

KS_PW = 'Keystore.pass-1'
TS_PW = 'Truststore.pass-2'
LAUNCHER = os.path.join('wso2', 'server', 'bin', 'carbon.sh')
SHELLS = [s for s in ('/bin/sh', '/bin/bash', '/bin/dash') if os.path.exists(s)]


def read(path):
    with open(path, 'rb') as f:
        return f.read().decode('utf-8')


def settings(home, vault_mode=False):
    sec = os.path.join(home, 'resources', 'security')
    return {
        'keystore_path': os.path.join(sec, 'si-tls.jks'),
        'keystore_password': sd.Password(KS_PW, sl.SECRET_ALIASES['keystore_password'] if vault_mode else None),
        'truststore_path': os.path.join(sec, 'si-trust.jks'),
        'truststore_password': sd.Password(TS_PW, sl.SECRET_ALIASES['truststore_password'] if vault_mode else None),
    }


def expected_props(home, vault_mode=False):
    """The javax.net.ssl.* values the JVM must receive after the rewrite."""
    s = settings(home, vault_mode)
    return {
        'keyStore': s['keystore_path'],
        'keyStorePassword': '' if vault_mode else KS_PW,
        'trustStore': s['truststore_path'],
        'trustStorePassword': '' if vault_mode else TS_PW,
    }


# ---------------------------------------------------------------- running a launcher

FAKE_JAVA = '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n'


def run_launcher(home, text, shell):
    """Write ``text`` as the launcher of ``home`` and run it with a stand-in java that
    prints its arguments one per line: the -Djavax.net.ssl.* values the JVM gets."""
    path = os.path.join(home, LAUNCHER)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    java = os.path.join(home, 'fake-java')
    with open(java, 'w') as f:
        f.write(FAKE_JAVA)
    os.chmod(java, stat.S_IRWXU)
    env = {'PATH': '/usr/bin:/bin', 'JAVACMD': java, 'CARBON_HOME': home, 'JAVA_OPTS': ''}
    out = subprocess.run([shell, path], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=True)
    args = out.stdout.decode('utf-8').split('\n')[:-1]
    props = {}
    for arg in args:
        for prop, dummy in sl.LAUNCHER_PROPS:
            head = '-Djavax.net.ssl.%s=' % prop
            if arg.startswith(head):
                assert prop not in props, 'the JVM got -Djavax.net.ssl.%s twice' % prop
                props[prop] = arg[len(head):]
    return props, args


def fixture_launcher():
    return read(os.path.join(PROJECT_HOME, LAUNCHER))


def variant(old, new):
    text = fixture_launcher()
    assert old in text
    return text.replace(old, new)


KS_LINE = '    -Djavax.net.ssl.keyStore="$CARBON_HOME/resources/security/wso2carbon.jks" \\\n'
KSP_LINE = '    -Djavax.net.ssl.keyStorePassword="wso2carbon" \\\n'
TS_LINE = '    -Djavax.net.ssl.trustStore="$CARBON_HOME/resources/security/client-truststore.jks" \\\n'
TSP_LINE = '    -Djavax.net.ssl.trustStorePassword="wso2carbon" \\\n'
PAX = '-Dorg.ops4j.pax.logging.logReaderEnabled=false'

LAUNCHERS = {
    # item 1: an unrelated option after the value on the same line
    'other-option-after': lambda: variant(TSP_LINE, '    -Djavax.net.ssl.trustStorePassword="wso2carbon" %s \\\n' % PAX),
    'other-option-before': lambda: variant(KS_LINE, '    %s -Djavax.net.ssl.keyStore='
                                                    '"$CARBON_HOME/resources/security/wso2carbon.jks" \\\n' % PAX),
    'two-on-one-line': lambda: variant(KS_LINE + KSP_LINE, KS_LINE.rstrip('\\\n') + KSP_LINE.lstrip(' ')),
    # item 2: the value continued on the next line, at column 0 (glued by the shell)
    'value-on-next-line': lambda: variant(KS_LINE, '    -Djavax.net.ssl.keyStore=\\\n'
                                                   '"$CARBON_HOME/resources/security/wso2carbon.jks" \\\n'),
    'value-split-inside-quotes': lambda: variant(KS_LINE, '    -Djavax.net.ssl.keyStore="$CARBON_HOME/resources/\\\n'
                                                          'security/wso2carbon.jks" \\\n'),
    'password-on-next-line': lambda: variant(TSP_LINE, '    -Djavax.net.ssl.trustStorePassword=\\\n'
                                                       '"wso2carbon" %s \\\n' % PAX),
    'single-quoted': lambda: variant(KSP_LINE, "    -Djavax.net.ssl.keyStorePassword='wso2carbon' \\\n"),
    'unquoted': lambda: variant(TS_LINE, '    -Djavax.net.ssl.trustStore=$CARBON_HOME/resources/security/'
                                         'client-truststore.jks \\\n'),
    'braces': lambda: variant(TS_LINE, '    -Djavax.net.ssl.trustStore="${CARBON_HOME}/resources/security/'
                                       'client-truststore.jks" \\\n'),
    'quoted-whole-word': lambda: variant(KSP_LINE, '    "-Djavax.net.ssl.keyStorePassword=wso2carbon" \\\n'),
    'comment-line-between': lambda: variant(KSP_LINE, KSP_LINE + '    `# a comment inside the command`\\\n'),
    'fixture': fixture_launcher,
}


@pytest.mark.parametrize('shell', SHELLS)
@pytest.mark.parametrize('vault_mode', [False, True], ids=['literal', 'password-emptied'])
@pytest.mark.parametrize('name', sorted(LAUNCHERS))
def test_rewritten_launcher_passes_what_the_module_reports(tmp_path, name, vault_mode, shell):
    """Items 1 and 2: run the rewritten launcher; the JVM gets exactly the values the
    module reports (read_launcher, as the audit reads them) and wanted, and every other
    argument is unchanged."""
    home = str(tmp_path / 'si')
    before = LAUNCHERS[name]()
    dummy, args_before = run_launcher(home, before, shell)
    # the audit reads the launcher as the shell does
    props_before, dummy = run_launcher(home, before, shell)
    assert carbon_sh.read_launcher(before, 'carbon.sh').values(home) == props_before
    after, changed = carbon_sh.plan_launcher(before, settings(home, vault_mode), home)
    assert len(changed) == 4
    props, args_after = run_launcher(home, after, shell)
    assert props == expected_props(home, vault_mode)
    assert carbon_sh.read_launcher(after, 'carbon.sh').values(home) == props
    others = [a for a in args_after if not a.startswith('-Djavax.net.ssl.')]
    assert others == [a for a in args_before if not a.startswith('-Djavax.net.ssl.')]
    # a second run changes nothing
    assert carbon_sh.plan_launcher(after, settings(home, vault_mode), home) == (after, [])


def test_other_option_on_the_line_is_kept_byte_for_byte():
    """Item 1: only the value of the option changes."""
    before = LAUNCHERS['other-option-after']()
    after = carbon_sh.plan_launcher(before, settings('/opt/si'), '/opt/si')[0]
    assert '    -Djavax.net.ssl.trustStorePassword="%s" %s \\\n' % (TS_PW, PAX) in after
    before = LAUNCHERS['two-on-one-line']()
    after = carbon_sh.plan_launcher(before, settings('/opt/si'), '/opt/si')[0]
    assert ('    -Djavax.net.ssl.keyStore="$CARBON_HOME/resources/security/si-tls.jks" '
            '-Djavax.net.ssl.keyStorePassword="%s" \\\n' % KS_PW) in after


def test_continued_value_is_replaced_whole():
    """Item 2: the continuation line that held the value goes with it."""
    after = carbon_sh.plan_launcher(LAUNCHERS['value-on-next-line'](), settings('/opt/si'), '/opt/si')[0]
    assert '    -Djavax.net.ssl.keyStore="$CARBON_HOME/resources/security/si-tls.jks" \\\n' in after
    assert 'wso2carbon.jks' not in after


@needs_shared
@pytest.mark.parametrize('shell', SHELLS)
@pytest.mark.parametrize('profile', ['server', 'tooling'])
def test_shipped_launcher_passes_what_the_module_reports(tmp_path, profile, shell):
    home = str(tmp_path / 'si')
    before = read(os.path.join(SHARED_SI, profile, LAUNCHER))
    props_before, args_before = run_launcher(home, before, shell)
    assert carbon_sh.read_launcher(before, 'carbon.sh').values(home) == props_before
    for vault_mode in (False, True):
        after = carbon_sh.plan_launcher(before, settings(home, vault_mode), home)[0]
        props, args_after = run_launcher(home, after, shell)
        assert props == expected_props(home, vault_mode) == carbon_sh.read_launcher(after, 'carbon.sh').values(home)
        assert [a for a in args_after if not a.startswith('-Djavax')] == \
            [a for a in args_before if not a.startswith('-Djavax')]
        assert PAX in args_after


def test_mask_hides_a_password_on_a_continuation_line():
    before = LAUNCHERS['password-on-next-line']()
    after = carbon_sh.plan_launcher(before, settings('/opt/si'), '/opt/si')[0]
    mb, ma = masking.mask_launcher(before, after, [])
    assert 'wso2carbon"' not in mb and TS_PW not in ma and KS_PW not in ma
    assert PAX in mb and PAX in ma


def test_launcher_crlf_line_endings_are_kept():
    """Item 14 for carbon.sh: only the values change, the line endings stay."""
    before = fixture_launcher().replace('\n', '\r\n')
    after = carbon_sh.plan_launcher(before, settings('/opt/si'), '/opt/si')[0]
    assert after.count('\r\n') == before.count('\r\n') and '\n' not in after.replace('\r\n', '')
    assert '    -Djavax.net.ssl.keyStorePassword="%s" \\\r\n' % KS_PW in after


# ---------------------------------------------------------------- deployment.yaml shapes (items 13, 14)

def deployment():
    return read(os.path.join(PROJECT_HOME, 'conf', 'server', 'deployment.yaml'))


def plan(text):
    return sd.plan_deployment(text, settings('/opt/si'), '/opt/si', ssl_configs=True, siddhi_http=True)


def loaded(text):
    return yaml.safe_load(text.lstrip('\ufeff'))


def test_byte_order_mark_is_kept_and_edits_are_placed_right():
    plain = plan(deployment()).after
    after = plan('\ufeff' + deployment()).after
    assert after == '\ufeff' + plain


def test_document_markers():
    plain = plan(deployment()).after
    text = '%YAML 1.1\n---\n' + deployment() + '...\n# trailing comment\n'
    after = plan(text).after
    data = loaded(after)
    assert data['ssl.configs']['keyStorePassword'] == KS_PW
    assert after.endswith('...\n# trailing comment\n') and after.startswith('%YAML 1.1\n---\n')
    assert loaded(plain) == data
    # an explicit start only
    assert loaded(plan('--- # SI\n' + deployment()).after) == data


def test_a_second_document_is_not_valid_yaml():
    with pytest.raises(ConfigError, match='not valid YAML'):
        plan(deployment() + '---\nother: 1\n')


SIDDHI_BLOCK = """siddhi:
  extensions:
    -
      extension:
        name: 'kafka'
        namespace: 'source'
        properties:
          bootstrap.servers: 'localhost:9092'
"""


@pytest.mark.parametrize('flow, kept', [
    ('siddhi: {extensions: []}\n', 0),
    ('siddhi: {}\n', 0),
    ('siddhi: {extensions: [{extension: {name: kafka, namespace: source}}]}  # kafka\n', 1),
    ('siddhi: { other: "a, b", extensions: [ ] }\n', 0),
    ('siddhi:\n  extensions: []\n', 0),
])
def test_flow_collections_on_the_way_to_the_siddhi_overrides(flow, kept):
    text = deployment()
    assert SIDDHI_BLOCK in text
    after = plan(text.replace(SIDDHI_BLOCK, flow)).after
    data = loaded(after)
    extensions = data['siddhi']['extensions']
    assert len(extensions) == kept + 2
    http = [e['extension'] for e in extensions if e['extension']['name'] == 'http']
    assert sorted(e['namespace'] for e in http) == ['sink', 'source']
    assert [e for e in http if e['namespace'] == 'source'][0]['properties']['keyStorePassword'] == KS_PW
    if 'other' in flow:
        assert data['siddhi']['other'] == 'a, b'
    assert plan(after).after == after


def test_flow_ssl_configs_is_completed():
    after = plan(deployment() + 'ssl.configs: {keyStoreLocation: /x.jks}\n').after
    data = loaded(after)
    assert data['ssl.configs']['keyStoreLocation'] == '${sys:carbon.home}/resources/security/si-tls.jks'
    assert data['ssl.configs']['trustStorePassword'] == TS_PW


def test_crlf_file_keeps_crlf_everywhere():
    text = deployment().replace('\n', '\r\n')
    after = plan(text).after
    assert '\n' not in after.replace('\r\n', '')
    assert after.replace('\r\n', '\n') == plan(deployment()).after


def test_crlf_with_bom_and_markers():
    text = ('\ufeff---\n' + deployment() + '...\n').replace('\n', '\r\n')
    after = plan(text).after
    assert after.startswith('\ufeff---\r\n') and after.endswith('...\r\n')
    assert '\n' not in after.replace('\r\n', '')
    assert loaded(after)['ssl.configs']['trustStorePassword'] == TS_PW


# ---------------------------------------------------------------- the reader against the shell itself

def _spellings(value, style):
    """Source pieces that make the shell read ``value`` in ``style`` (each piece one character
    or one escape, so a continuation between pieces never splits an escape)."""
    if style == "'":
        return ["'"] + list(value) + ["'"]
    if style == '"':
        return ['"'] + [('\\' + c if c in '\\"$`' else c) for c in value] + ['"']
    return [('\\' + c if not c.isalnum() and c not in '/._-+=:,@%' else c) for c in value] or ['""']


@given(data=st.data())
@hsettings(max_examples=60, deadline=None, database=None, derandomize=True)
def test_reader_agrees_with_sh(tmp_path_factory, data):
    """Differential: values spelt with random quoting, escapes and backslash-newline
    continuations at random places are read by read_launcher() exactly as /bin/sh passes them."""
    home = str(tmp_path_factory.mktemp('si'))
    text = fixture_launcher()
    for line in (KS_LINE, KSP_LINE, TS_LINE, TSP_LINE):
        head = line[:line.index('=') + 1]
        value = data.draw(st.text(alphabet='ab9 /$"\'\\`#*;&|(){}=~-', max_size=12))
        style = data.draw(st.sampled_from(["'", '"', None]))
        if style == "'" and "'" in value:
            style = '"'
        pieces = _spellings(value, style)
        for dummy in range(data.draw(st.integers(0, 3))):
            at = data.draw(st.integers(0, len(pieces)))
            pieces.insert(at, '\\\n')
        text = text.replace(line, head + ''.join(pieces) + ' \\\n')
    path = os.path.join(home, LAUNCHER)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    java = os.path.join(home, 'fake-java')
    with open(java, 'w') as f:
        f.write('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n')
    os.chmod(java, stat.S_IRWXU)
    out = subprocess.run(['/bin/sh', path], env={'PATH': '/usr/bin:/bin', 'JAVACMD': java, 'CARBON_HOME': home},
                         stdout=subprocess.PIPE, timeout=30, check=True).stdout.decode('utf-8')
    passed = {}
    for arg in out.split('\0'):
        for prop, dummy in sl.LAUNCHER_PROPS:
            if arg.startswith('-Djavax.net.ssl.%s=' % prop):
                passed[prop] = arg.split('=', 1)[1]
    assert carbon_sh.read_launcher(text, 'carbon.sh').values(home) == passed
    after = carbon_sh.plan_launcher(text, settings(home), home)[0]
    assert carbon_sh.read_launcher(after, 'carbon.sh').values(home) == expected_props(home)
