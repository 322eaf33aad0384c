# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_report: one SI host's stores as its configuration names them,
every entry of each, the configuration audit's findings, and the Prometheus
textfile-collector file made of them (docs/report.md).

The host report holds no secret: passwords are only tried, and only where a
password comes from is reported (``password_source``), never its value.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as loc_
from ansible_collections.wso2si.keystores.plugins.module_utils.launcher import read_launcher
from ansible_collections.wso2si.keystores.plugins.module_utils.si_audit import audit
from ansible_collections.wso2si.keystores.plugins.module_utils.si_deployment import profile_of
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import DeploymentConfig
from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import shipped_entries
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    ConfigError, KeystoreError, WrongKeyPasswordError, WrongPasswordError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import atomic_write, read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

# The version of the report's JSON schema (docs/report.md); bumped on any incompatible change.
SCHEMA_VERSION = 1

ROLE_OF_PATH = {'keystore_path': 'keystore', 'truststore_path': 'truststore'}
SEC_REFERENCE = re.compile(r'^\$\{sec:([^}]*)\}$')


def _signature_algorithm(cert):
    oid = cert.signature_algorithm_oid
    return getattr(oid, '_name', None) or oid.dotted_string


def certificate_facts(cert, now):
    """The facts of one certificate the report shows (no PEM: the report stays small)."""
    after = certs.not_after(cert)
    key_type, key_size = certs.key_description(cert.public_key())[:2]
    return {
        'subject': certs.name_to_string(cert.subject),
        'issuer': certs.name_to_string(cert.issuer),
        'serial': '%x' % cert.serial_number,
        'subject_alt_names': certs.subject_alt_names(cert),
        'key_type': key_type,
        'key_size': key_size,
        'signature_algorithm': _signature_algorithm(cert),
        'not_before': certs.iso(certs.not_before(cert)),
        'not_after': certs.iso(after),
        'not_after_timestamp': int(after.timestamp()),
        'days_left': (after - now).days,
        'expired': after <= now,
        'self_signed': certs.is_self_signed(cert),
        'fingerprint_sha256': certs.fingerprint(cert),
    }


def describe_store(store, key_passwords, now):
    """[entry facts] of every entry of ``store``, sorted by alias. ``key_passwords``: the
    passwords SI opens key entries with (None: not checked)."""
    shipped = dict((found.alias, found.where) for found in shipped_entries(store))
    out = []
    for alias in sorted(store.entries):
        entry = store.entries[alias]
        facts = {'alias': alias, 'kind': entry.kind, 'shipped': alias in shipped}
        if alias in shipped:
            facts['shipped_source'] = shipped[alias]
        chain = entry.chain
        if not chain:
            described = entry.facts()
            for name in ('algorithm', 'key_size', 'description'):
                if described.get(name) is not None:
                    facts[name] = described[name]
            out.append(facts)
            continue
        facts.update(certificate_facts(chain[0], now))
        if entry.kind == 'private_key':
            facts['chain_length'] = len(chain)
            facts['chain_not_after'] = min(certs.iso(certs.not_after(c)) for c in chain)
            if key_passwords is not None:
                try:
                    entry.open(*[p for p in key_passwords if p is not None])
                    facts['key_open_ok'] = True
                except (WrongKeyPasswordError, TypeError, ValueError):
                    facts['key_open_ok'] = False
        out.append(facts)
    return out


class _Store(object):
    def __init__(self, path, name):
        self.path = path
        self.name = name
        self.roles = []
        self.references = []


def _references(doc, si_home, launcher_path, resolve, master, given):
    """[(path, role, reference)] of every store the configuration names, in the audit's order:
    deployment.yaml's locations, the vault, the launcher."""
    found = []
    profile = profile_of(doc)
    for loc in loc_.locations_for(profile, doc) + loc_.OPTIONAL_LOCATIONS:
        values = doc.values(loc)
        if values is None:
            continue
        for path_key, path_role in loc.keys:
            role = ROLE_OF_PATH.get(path_role)
            if role is None:
                continue
            ref = {'file': doc.what, 'location': loc.label, 'key': path_key}
            path = loc_.resolve_config_path(values.get(path_key), si_home)
            if path is None:
                ref['unresolved_path'] = True
                found.append((None, role, ref, None))
                continue
            pw_keys = [k for k, r in loc.keys if r == role + '_password' and k in values]
            text = values[pw_keys[0]] if pw_keys else None
            password, source = resolve(text)
            ref['password_source'] = source
            found.append((path, role, ref, password))
    vault_values = doc.values(loc_.location('securevault')) or {}
    vault_path = loc_.resolve_config_path(vault_values.get('keystoreLocation'), si_home)
    if vault_path is not None:
        ref = {'file': doc.what, 'location': loc_.location('securevault').label, 'key': 'keystoreLocation'}
        if master is not None and master.get('keyStorePassword'):
            password, ref['password_source'] = master.get('keyStorePassword'), 'master_keys'
        elif given.get('vault'):
            password, ref['password_source'] = given.get('vault'), 'given'
        else:
            password, ref['password_source'] = None, 'unknown'
        found.append((vault_path, 'vault', ref, password))
    if launcher_path:
        raw = read_file(launcher_path, what=launcher_path)
        values = {}
        if raw is not None:
            try:
                values = read_launcher(raw, launcher_path).values(si_home)
            except ConfigError:
                values = {}  # the audit reports it
        for prop, path_role in loc_.LAUNCHER_PROPS:
            role = ROLE_OF_PATH.get(path_role)
            if role is None or prop not in values:
                continue
            ref = {'file': launcher_path, 'location': loc_.LAUNCHER_LABEL, 'key': 'javax.net.ssl.%s' % prop}
            password = values.get(prop + 'Password')
            # under secure vault the launcher holds no password: ssl.configs sets it when SI starts
            ref['password_source'] = 'launcher' if password is not None else 'ssl.configs'
            found.append((os.path.join(si_home, values[prop]), role, ref, password))
    return found


def _open_vault(doc, si_home, master, given):
    """The vault key SI decrypts secrets.properties with (None when it cannot be opened), and the secrets file."""
    refs = loc_.vault_references(doc, si_home)
    vault_path, alias, secrets_path = refs.keystore, refs.alias, refs.secrets_file
    vault = None
    if vault_path is not None:
        master = master or {}
        store_pw = master.get('keyStorePassword') or given.get('vault')
        key_pws = [master.get('privateKeyPassword'), master.get('keyStorePassword'), given.get('vault_key'),
                   given.get('vault')]
        try:
            data = read_file(vault_path, what=vault_path)
            if data is not None and store_pw:
                store = Keystore.loads(data, store_pw, what=vault_path)
                vault = sv.VaultKey.from_store(store, alias, key_pws, vault_path, need_private=False)
                if vault.private_key is None:
                    vault = None
        except KeystoreError:
            vault = None
    return vault, secrets_path


def _combine(values):
    values = list(values)
    if False in values:
        return False
    if True in values:
        return True
    return None


def gather(si_home, deployment_path=None, launcher_path=None, passwords=None, now=None):
    """The host report of the SI at ``si_home`` (docs/report.md). ``passwords``: {keystore,
    truststore, vault, vault_key} the operator knows, tried to list a store's entries when
    the configured password does not open it (never reported). Raises ConfigError and
    KeystoreError (missing or unreadable deployment.yaml)."""
    si_home = os.path.abspath(si_home)
    deployment_path = os.path.abspath(deployment_path or os.path.join(si_home, 'conf', 'server', 'deployment.yaml'))
    if launcher_path is None:
        launcher_path = os.path.join(si_home, 'wso2', 'server', 'bin', 'carbon.sh')
    launcher_path = os.path.abspath(launcher_path) if launcher_path else None
    given = dict((k, v) for k, v in (passwords or {}).items() if v)
    now = now or certs.utcnow()

    findings, facts = audit(si_home, deployment_path, launcher_path, given)
    doc = DeploymentConfig.parse(read_file(deployment_path, what=deployment_path), deployment_path)
    master = sv.read_master_keys(loc_.vault_references(doc, si_home).master_keys_file)
    vault, secrets_path = _open_vault(doc, si_home, master, given)
    secrets = sv.read_secret_values(secrets_path, vault)

    def resolve(text):
        """(password SI uses or None when unknown, where it comes from)."""
        if text is None:
            return None, 'none'
        m = SEC_REFERENCE.match(text)
        if not m:
            return text, 'plain'
        if m.group(1) not in secrets:
            return '', 'secure_vault'  # SI reads an empty value
        return secrets[m.group(1)], 'secure_vault'

    stores, order, unresolved = {}, [], []
    for path, role, ref, password in _references(doc, si_home, launcher_path, resolve, master, given):
        if path is None:
            unresolved.append(dict(ref, role=role))
            continue
        path = os.path.abspath(path)
        if path not in stores:
            stores[path] = _Store(path, os.path.relpath(path, si_home) if path.startswith(si_home + os.sep) else path)
            order.append(path)
        st = stores[path]
        if role not in st.roles:
            st.roles.append(role)
        st.references.append((ref, password))

    reports = [_store_report(stores[p], given, findings, now) for p in order]
    return {
        'si_home': si_home,
        'profile': facts['profile'],
        'gathered_at': certs.iso(now),
        'stores': reports,
        'unresolved_references': unresolved,
        'findings': [dict(f) for f in findings],
        'secure': not findings,
    }


def _store_report(st, given, findings, now):
    out = {'path': st.path, 'name': st.name, 'roles': st.roles, 'exists': True, 'store_type': None,
           'open_ok': None, 'entries_listed': False, 'error': None, 'shipped_material': False,
           'entries': [], 'findings': []}
    where = set((ref['location'], ref['key']) for ref, dummy in st.references)
    out['findings'] = [dict(f) for f in findings if (f['location'], f.get('key')) in where]
    try:
        data = read_file(st.path, what=st.path)
    except KeystoreError as exc:
        data, out['error'] = None, str(exc)
    if data is None:
        out['exists'] = out['error'] is not None
        out['open_ok'] = False
        out['references'] = [dict(ref, open_ok=False) for ref, dummy in st.references]
        return out
    opened = {}

    def try_open(password):
        if password not in opened:
            try:
                opened[password] = Keystore.loads(data, password, what=st.path)
            except WrongPasswordError:
                opened[password] = None
        return opened[password]

    refs = []
    store = None
    try:
        for ref, password in st.references:
            if password is None:
                refs.append(dict(ref, open_ok=None))
                continue
            found = try_open(password)
            refs.append(dict(ref, open_ok=found is not None))
            store = store or found
        out['references'] = refs
        out['open_ok'] = _combine(r['open_ok'] for r in refs)
        configured = [p for ref, p in st.references if p is not None]
        if store is None:  # list the entries all the same when the operator's passwords open it
            candidates = [given.get(r) for r in st.roles] + [given.get('keystore'), given.get('truststore'),
                                                             loc_.DEFAULT_PASSWORD]
            for password in candidates:
                if password is not None and try_open(password) is not None:
                    store = try_open(password)
                    break
    except KeystoreError as exc:
        out['error'] = str(exc)
        out['open_ok'] = False
        out['references'] = [dict(ref, open_ok=False) for ref, dummy in st.references]
        return out
    if store is None:
        return out
    out['store_type'] = store.store_type
    out['entries_listed'] = True
    # SI opens TLS and vault keys with the store password (docs/si-reference.md section 2)
    key_passwords = configured if configured and ('keystore' in st.roles or 'vault' in st.roles) else None
    out['entries'] = describe_store(store, key_passwords, now)
    out['shipped_material'] = any(e['shipped'] for e in out['entries'])
    return out


# ---------------------------------------------------------------- Prometheus textfile

METRICS_FILE_NAME = 'wso2si_keystores.prom'


def escape_label(value):
    """A label value in the text exposition format: backslash, double quote and newline escaped."""
    return str(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def _labels(pairs):
    return '{%s}' % ','.join('%s="%s"' % (k, escape_label(v)) for k, v in pairs) if pairs else ''


def _number(value):
    if isinstance(value, bool):
        return '1' if value else '0'
    return str(value)


METRICS = [
    ('wso2si_certificate_not_after_timestamp_seconds', 'gauge',
     'End of validity of the certificate of each store entry (Unix time).'),
    ('wso2si_certificate_not_before_timestamp_seconds', 'gauge',
     'Start of validity of the certificate of each store entry (Unix time).'),
    ('wso2si_certificate_shipped', 'gauge', '1 when the entry holds shipped WSO2 material, whose private key is public.'),
    ('wso2si_store_entries', 'gauge', 'Entries of each store SI\'s configuration names (when the store could be read).'),
    ('wso2si_store_shipped_material', 'gauge', '1 when the store holds shipped WSO2 material.'),
    ('wso2si_store_open_ok', 'gauge', '1 when SI opens the store with the configured password, 0 when it cannot; '
                                      'absent when the configured password cannot be known.'),
    ('wso2si_store_exists', 'gauge', '1 when the store file exists.'),
    ('wso2si_audit_findings', 'gauge', 'Findings of the configuration audit (references to the shipped defaults).'),
    ('wso2si_audit_findings_by_kind', 'gauge', 'Findings of the configuration audit, by kind.'),
    ('wso2si_renewal_window_seconds', 'gauge', 'The renewal window: certificates expiring sooner are due for renewal.'),
]


def metrics_text(report, renew_before_days):
    """The textfile-collector file of one host report: stable for a given report (no time of
    collection in it, so that an unchanged host leaves the file unchanged)."""
    samples = dict((name, []) for name, dummy, dummy2 in METRICS)
    for store in report['stores']:
        s = [('store', store['path'])]
        samples['wso2si_store_exists'].append((s, store['exists']))
        if store['open_ok'] is not None:
            samples['wso2si_store_open_ok'].append((s, store['open_ok']))
        if store['entries_listed']:
            samples['wso2si_store_entries'].append((s, len(store['entries'])))
            samples['wso2si_store_shipped_material'].append((s, store['shipped_material']))
        for e in store['entries']:
            if 'not_after' not in e:
                continue
            labels = s + [('alias', e['alias']), ('kind', e['kind']), ('subject', e['subject']), ('issuer', e['issuer'])]
            samples['wso2si_certificate_not_after_timestamp_seconds'].append((labels, e['not_after_timestamp']))
            samples['wso2si_certificate_not_before_timestamp_seconds'].append(
                (labels, int(_epoch(e['not_before']))))
            samples['wso2si_certificate_shipped'].append((s + [('alias', e['alias'])], e['shipped']))
    samples['wso2si_audit_findings'].append(([], len(report['findings'])))
    kinds = {}
    for f in report['findings']:
        kinds[f['kind']] = kinds.get(f['kind'], 0) + 1
    for kind in sorted(kinds):
        samples['wso2si_audit_findings_by_kind'].append(([('kind', kind)], kinds[kind]))
    samples['wso2si_renewal_window_seconds'].append(([], int(renew_before_days) * 86400))
    lines = []
    for name, kind, help_text in METRICS:
        if not samples[name]:
            continue
        lines.append('# HELP %s %s' % (name, help_text.replace('\\', '\\\\').replace('\n', '\\n')))
        lines.append('# TYPE %s %s' % (name, kind))
        seen = set()
        for labels, value in sorted(samples[name], key=lambda item: [v for k, v in item[0]]):
            text = '%s%s' % (name, _labels(labels))
            if text in seen:  # one store named twice with the same alias cannot happen; never write duplicates
                continue
            seen.add(text)
            lines.append('%s %s' % (text, _number(value)))
    return '\n'.join(lines) + '\n'


def _epoch(iso_text):
    import datetime
    dt = datetime.datetime.strptime(iso_text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def write_metrics(path, text, check_mode=False):
    """Replace the textfile atomically (node_exporter never reads half a file) when its content
    differs. Returns True when it changed (or would, in check mode)."""
    data = text.encode('utf-8')
    if read_file(path, what=path) == data:
        return False
    if not check_mode:
        atomic_write(path, data, mode=0o644)
    return True
