# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""report.py (a host's report, its Prometheus textfile) and report_render.py (the fleet report)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import json
import os
import re
import shutil

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import report as rp
from ansible_collections.wso2si.keystores.plugins.module_utils import report_render as rr
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE_HOME = os.path.join(HERE, '..', '..', '..', 'fixtures', 'si_home')
NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
WRONG = 'a-wrong-truststore-password'


def _write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


@pytest.fixture(scope='module')
def si_home(tmp_path_factory):
    """The project's SI home with stores of its own: wso2carbon.jks (EC key, expires 10 days
    after NOW), client-truststore.jks that deployment.yaml opens with a wrong password."""
    home = str(tmp_path_factory.mktemp('report') / 'si')
    shutil.copytree(FIXTURE_HOME, home)
    sec = os.path.join(home, 'resources', 'security')
    key = certs.generate_private_key('ec', 256)
    cert = certs.self_signed_certificate(key, certs.parse_name('CN=si.example, O=Test'), ['DNS:si.example'], 10)
    store = Keystore('jks', password='wso2carbon')
    store.set_key('wso2carbon', key, [cert])
    _write(os.path.join(sec, 'wso2carbon.jks'), store.dumps('wso2carbon'))
    trust = Keystore('jks', password='wso2carbon')
    trust.set_trusted('peer', cert)
    _write(os.path.join(sec, 'client-truststore.jks'), trust.dumps('wso2carbon'))
    dep = os.path.join(home, 'conf', 'server', 'deployment.yaml')
    with open(dep) as f:
        text = f.read()
    with open(dep, 'w') as f:
        f.write(text.replace("trustStorePassword: 'wso2carbon'", "trustStorePassword: '%s'" % WRONG))
    return home


def _store(report, name):
    return [s for s in report['stores'] if s['name'] == 'resources/security/' + name][0]


def test_gather_names_every_store_and_whether_si_opens_it(si_home):
    report = rp.gather(si_home, now=certs.utcnow())
    names = [s['name'] for s in report['stores']]
    assert names == ['resources/security/wso2carbon.jks', 'resources/security/client-truststore.jks',
                     'resources/security/securevault.jks']
    vault = _store(report, 'securevault.jks')
    assert vault['roles'] == ['vault'] and vault['exists'] is False and vault['open_ok'] is False
    ks = _store(report, 'wso2carbon.jks')
    assert ks['roles'] == ['keystore'] and ks['open_ok'] is True and ks['store_type'] == 'jks'
    entry = ks['entries'][0]
    assert entry['alias'] == 'wso2carbon' and entry['kind'] == 'private_key'
    assert (entry['key_type'], entry['key_size'], entry['signature_algorithm']) == ('EC', 256, 'ecdsa-with-SHA256')
    assert entry['subject_alt_names'] == ['DNS:si.example'] and entry['key_open_ok'] is True
    assert entry['days_left'] in (9, 10) and entry['shipped'] is False
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', entry['not_after'])
    ts = _store(report, 'client-truststore.jks')
    # deployment.yaml's password is wrong, the launcher's right: SI cannot open it everywhere
    assert ts['open_ok'] is False
    assert set((r['location'], r['open_ok']) for r in ts['references']) == {
        ('data.agent.config > agents[] > agentConfiguration[name=Thrift]', False),
        ('data.agent.config > agents[] > agentConfiguration[name=Binary]', False),
        ('carbon.sh -Djavax.net.ssl.*', True)}
    assert ts['entries_listed'] and ts['entries'][0]['alias'] == 'peer'
    # the audit's findings, each on the store it is about
    assert report['findings'] and not report['secure']
    assert all(f['location'] in [r['location'] for r in ks['references']] for f in ks['findings'])


def test_gather_never_reports_a_password(si_home):
    report = rp.gather(si_home, passwords={'keystore': 'operator-secret-1', 'truststore': 'operator-secret-2'})
    text = json.dumps(report) + rp.metrics_text(report, 30)
    for secret in (WRONG, 'operator-secret-1', 'operator-secret-2'):
        assert secret not in text


def test_gather_missing_store(si_home, tmp_path):
    home = str(tmp_path / 'si')
    shutil.copytree(si_home, home)
    os.remove(os.path.join(home, 'resources', 'security', 'client-truststore.jks'))
    ts = _store(rp.gather(home), 'client-truststore.jks')
    assert (ts['exists'], ts['open_ok'], ts['entries']) == (False, False, [])
    assert 'missing_store' in [f['kind'] for f in ts['findings']]


HOST = {
    'si_home': '/opt/si', 'profile': 'server', 'gathered_at': '2026-06-01T12:00:00Z', 'unresolved_references': [],
    'secure': False,
    'findings': [{'kind': 'default_password', 'file': 'f', 'location': 'l', 'detail': 'd'},
                 {'kind': 'default_password', 'file': 'f', 'location': 'l2', 'detail': 'd'},
                 {'kind': 'missing_store', 'file': 'f', 'location': 'l3', 'detail': 'd'}],
    'stores': [
        {'path': '/opt/si/ks "1".jks', 'name': 'ks "1".jks', 'roles': ['keystore'], 'exists': True, 'store_type': 'jks',
         'open_ok': True, 'entries_listed': True, 'error': None, 'shipped_material': True, 'findings': [],
         'references': [],
         'entries': [{'alias': 'b\\x', 'kind': 'private_key', 'shipped': True, 'subject': 'CN=a\nb, O="Q"',
                      'issuer': 'CN=<script>', 'not_before': '2026-01-01T00:00:00Z', 'not_after': '2026-06-11T12:00:00Z',
                      'not_after_timestamp': 1781179200, 'days_left': 10},
                     {'alias': 'aes', 'kind': 'secret_key', 'shipped': False, 'algorithm': 'AES', 'key_size': 128}]},
        {'path': '/opt/si/ts.jks', 'name': 'ts.jks', 'roles': ['truststore'], 'exists': True, 'store_type': None,
         'open_ok': None, 'entries_listed': False, 'error': None, 'shipped_material': False, 'findings': [],
         'references': [], 'entries': []},
    ],
}

EXPECTED_METRICS = r'''# HELP wso2si_certificate_not_after_timestamp_seconds End of validity of the certificate of each store entry (Unix time).
# TYPE wso2si_certificate_not_after_timestamp_seconds gauge
NOT_AFTER_LINE
# HELP wso2si_certificate_not_before_timestamp_seconds Start of validity of the certificate of each store entry (Unix time).
# TYPE wso2si_certificate_not_before_timestamp_seconds gauge
NOT_BEFORE_LINE
# HELP wso2si_certificate_shipped 1 when the entry holds shipped WSO2 material, whose private key is public.
# TYPE wso2si_certificate_shipped gauge
wso2si_certificate_shipped{store="/opt/si/ks \"1\".jks",alias="b\\x"} 1
# HELP wso2si_store_entries Entries of each store SI's configuration names (when the store could be read).
# TYPE wso2si_store_entries gauge
wso2si_store_entries{store="/opt/si/ks \"1\".jks"} 2
# HELP wso2si_store_shipped_material 1 when the store holds shipped WSO2 material.
# TYPE wso2si_store_shipped_material gauge
wso2si_store_shipped_material{store="/opt/si/ks \"1\".jks"} 1
# HELP wso2si_store_open_ok 1 when SI opens the store with the configured password, 0 when it cannot; absent when the configured password cannot be known.
# TYPE wso2si_store_open_ok gauge
wso2si_store_open_ok{store="/opt/si/ks \"1\".jks"} 1
# HELP wso2si_store_exists 1 when the store file exists.
# TYPE wso2si_store_exists gauge
wso2si_store_exists{store="/opt/si/ks \"1\".jks"} 1
wso2si_store_exists{store="/opt/si/ts.jks"} 1
# HELP wso2si_audit_findings Findings of the configuration audit (references to the shipped defaults).
# TYPE wso2si_audit_findings gauge
wso2si_audit_findings 3
# HELP wso2si_audit_findings_by_kind Findings of the configuration audit, by kind.
# TYPE wso2si_audit_findings_by_kind gauge
wso2si_audit_findings_by_kind{kind="default_password"} 2
wso2si_audit_findings_by_kind{kind="missing_store"} 1
# HELP wso2si_renewal_window_seconds The renewal window: certificates expiring sooner are due for renewal.
# TYPE wso2si_renewal_window_seconds gauge
wso2si_renewal_window_seconds 2592000
'''


LABELS = r'{store="/opt/si/ks \"1\".jks",alias="b\\x",kind="private_key",subject="CN=a\nb, O=\"Q\"",issuer="CN=<script>"}'
EXPECTED_METRICS = EXPECTED_METRICS.replace(
    'NOT_AFTER_LINE', 'wso2si_certificate_not_after_timestamp_seconds%s 1781179200' % LABELS).replace(
    'NOT_BEFORE_LINE', 'wso2si_certificate_not_before_timestamp_seconds%s 1767225600' % LABELS)


def test_metrics_text_fixed_input_fixed_output():
    assert rp.metrics_text(HOST, 30) == EXPECTED_METRICS


def test_metrics_text_independent_of_store_order():
    other = copy.deepcopy(HOST)
    other['stores'].reverse()
    other['findings'].reverse()
    assert rp.metrics_text(other, 30) == EXPECTED_METRICS


@pytest.mark.parametrize('raw, escaped', [
    ('plain', 'plain'), ('a"b', 'a\\"b'), ('a\\b', 'a\\\\b'), ('a\nb', 'a\\nb'), ('\\"\n', '\\\\\\"\\n'),
])
def test_label_escaping(raw, escaped):
    assert rp.escape_label(raw) == escaped


def test_write_metrics_only_when_changed_and_not_in_check_mode(tmp_path):
    path = str(tmp_path / 'wso2si_keystores.prom')
    assert rp.write_metrics(path, 'a 1\n', check_mode=True) is True
    assert not os.path.exists(path)
    assert rp.write_metrics(path, 'a 1\n') is True
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o644)
    assert rp.write_metrics(path, 'a 1\n') is False
    assert rp.write_metrics(path, 'a 2\n') is True
    with open(path) as f:
        assert f.read() == 'a 2\n'
    assert [p.name for p in tmp_path.iterdir()] == ['wso2si_keystores.prom']  # no temporary left


def _results():
    return {'si2': {'report': copy.deepcopy(HOST), 'changed': False},
            'si1': {'unreachable': True, 'msg': 'timed out'},
            'si3': {'failed': True, 'msg': 'si_home /x is not a directory'},
            'si4': None}


def test_build_fleet_is_stable_and_counts():
    fleet = rr.build_fleet(_results(), '2026-06-01T12:00:00Z', 30)
    assert rr.to_json(fleet) == rr.to_json(rr.build_fleet(_results(), NOW, 30))
    assert [h['name'] for h in fleet['hosts']] == ['si1', 'si2', 'si3', 'si4']
    assert [h['ok'] for h in fleet['hosts']] == [False, True, False, False]
    assert fleet['hosts'][0]['error'] == 'unreachable: timed out'
    assert fleet['hosts'][2]['error'] == 'si_home /x is not a directory'
    s = fleet['summary']
    assert (s['hosts'], s['hosts_failed'], s['stores'], s['entries'], s['certificates']) == (4, 3, 2, 2, 1)
    assert (s['findings'], s['hosts_with_shipped_material'], s['within_renewal_window'], s['expired']) == (3, 1, 1, 0)
    assert s['nearest_expiries'] == [{'host': 'si2', 'store': '/opt/si/ks "1".jks', 'alias': 'b\\x',
                                      'kind': 'private_key', 'not_after': '2026-06-11T12:00:00Z', 'days_left': 10}]
    # days left count from the report's time, not the host's
    later = rr.build_fleet(_results(), '2026-06-20T12:00:00Z', 30)
    assert later['summary']['expired'] == 1 and later['hosts'][1]['report']['stores'][0]['entries'][0]['days_left'] == -9


def test_schema_validates_the_document():
    jsonschema = pytest.importorskip('jsonschema')
    with open(os.path.join(HERE, '..', '..', '..', '..', 'docs', 'report.schema.json')) as f:
        schema = json.load(f)
    fleet = rr.build_fleet(_results(), NOW, 30)
    fleet['hosts'][1]['report']['stores'][0]['entries'][0].update(
        serial='1f', subject_alt_names=[], key_type='RSA', key_size=2048, signature_algorithm='sha256WithRSAEncryption',
        self_signed=True, fingerprint_sha256=':'.join(['AB'] * 32))
    refs = [{'file': 'f', 'location': 'l', 'key': 'k', 'password_source': 'plain', 'open_ok': True}]
    fleet['hosts'][1]['report']['stores'][0]['references'] = refs
    fleet['hosts'][1]['report']['stores'][1]['references'] = fleet['hosts'][1]['report']['stores'][0]['references']
    jsonschema.Draft202012Validator(schema).validate(json.loads(rr.to_json(fleet)))
    fleet['schema_version'] = 2
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(fleet)


def test_html_is_stable_self_contained_and_escaped():
    fleet = rr.build_fleet(_results(), NOW, 30)
    page = rr.to_html(fleet)
    assert page == rr.to_html(rr.build_fleet(_results(), NOW, 30))
    # nothing loaded from anywhere
    assert not re.search(r'''(src|href)\s*=\s*["']?(https?:)?//''', page)
    assert '<link' not in page and '@import' not in page
    # the issuer "CN=<script>" never appears as markup: escaped in HTML, \u003c in the JSON island
    assert page.count('<script') == 2 and 'CN=<script>' not in page and 'CN=&lt;script&gt;' not in page
    assert 'CN=\\u003cscript\\u003e' in page
    island = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    data = json.loads(island)
    assert data['entries'][0][6] == 'CN=<script>' and data['entries'][0][5] == 'CN=a\nb, O="Q"'
    assert 'ks &quot;1&quot;.jks' in page  # the nearest-expiry table, escaped


def test_html_script_island_cannot_be_closed_early():
    results = _results()
    results['si2']['report']['stores'][0]['entries'][0]['subject'] = 'CN=</script><img src=x onerror=alert(1)>\u2028'
    page = rr.to_html(rr.build_fleet(results, NOW, 30))
    assert '</script><img' not in page and '<img' not in page and '\u2028' not in page


def test_markdown_is_stable_and_escaped():
    results = _results()
    results['si2']['report']['stores'][0]['entries'][0]['alias'] = 'a|b<i>'
    fleet = rr.build_fleet(results, NOW, 30)
    text = rr.to_markdown(fleet)
    assert text == rr.to_markdown(rr.build_fleet(results, NOW, 30))
    row = [line for line in text.splitlines() if line.startswith('| si2 ')][0]
    assert 'a\\|b&lt;i&gt;' in row and row.count(' | ') == 5
    assert '**si1**: no report: unreachable: timed out' in text


def test_timeline_draws_at_most_lanes_hosts():
    results = {}
    for i in range(200):
        host = copy.deepcopy(HOST)
        host['stores'][0]['entries'][0]['not_after'] = (NOW + datetime.timedelta(days=i)).strftime('%Y-%m-%dT%H:%M:%SZ')
        results['h%03d' % i] = {'report': host}
    fleet = rr.build_fleet(results, NOW, 30)
    svg = rr._timeline_svg(fleet)
    assert svg.count('<circle') == rr.LANES
    assert '>h000<' in svg and '>h%03d<' % (rr.LANES - 1) in svg and '>h%03d<' % rr.LANES not in svg
    assert fleet['summary']['within_renewal_window'] == 30 and len(fleet['summary']['nearest_expiries']) == rr.NEAREST
