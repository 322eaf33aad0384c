# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Is an SI home still on the shipped defaults (docs/si-reference.md section 4)?

``audit()`` reports every reference of deployment.yaml and the launcher that
still points at the shipped stores, keys or password, and every ``${sec:}`` alias
the secrets file lacks or the vault does not decrypt; the sweeps report a
shipped store name or password anywhere else in both files. ``StoreOpener`` and
``check_tls_keystore()`` are the store checks si_config's validation shares.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import shell_words
from ansible_collections.wso2si.keystores.plugins.module_utils.certificates import cert_to_der
from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import shipped_certificate_der, shipped_entries
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    ConfigError, KeystoreError, WrongKeyPasswordError, WrongPasswordError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore
from ansible_collections.wso2si.keystores.plugins.module_utils.launcher import LauncherLines, read_launcher
from ansible_collections.wso2si.keystores.plugins.module_utils.si_deployment import profile_of
from ansible_collections.wso2si.keystores.plugins.module_utils.si_locations import (
    DEFAULT_PASSWORD, LAUNCHER_LABEL, LAUNCHER_PROPS, LOCATIONS, OPTIONAL_LOCATIONS, PASSWORD_ROLES, SHADOWING_KEYS,
    SHIPPED_STORE_FILES, SIDDHI_HTTP_SINK, SIDDHI_HTTP_SOURCE, STORE_OF_ROLE, location, locations_for,
    missing_locations, resolve_config_path, vault_references,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import (
    DeploymentConfig, MappingNode, ScalarNode, SequenceNode,
)

SEC_REFERENCE = re.compile(r'^\$\{sec:([^}]*)\}$')


# ---------------------------------------------------------------- stores

class StoreOpener(object):
    """Opens stores once per (path, password) and answers the checks si_config and
    the audit need. Errors are the collection's error root classes."""

    def __init__(self):
        self._cache = {}

    def open(self, path, password, what):
        key = (os.path.abspath(path), password)
        if key not in self._cache:
            data = read_file(path, what=what)
            if data is None:
                raise ConfigError('%s does not exist' % what)
            self._cache[key] = Keystore.loads(data, password, what=what)
        return self._cache[key]

    def try_open(self, path, passwords, what):
        """(store, password) for the first password that opens the store; (None, None) when none does.
        Raises for a missing or corrupt file."""
        for password in passwords:
            if password is None:
                continue
            try:
                return self.open(path, password, what), password
            except WrongPasswordError:
                continue
        return None, None


def check_tls_keystore(store, password, what):
    """docs/si-reference.md section 2: exactly one key entry, whose key password is the store password."""
    keys = store.key_entries()
    if len(keys) != 1:
        raise ConfigError('%s holds %d key entries; SI\'s TLS keystore must hold exactly one (the JDK key manager '
                          'picks among several by itself)' % (what, len(keys)))
    entry = keys[0]
    try:
        entry.open(password)
    except WrongKeyPasswordError as exc:
        raise ConfigError('the key entry %r in %s has a key password other than the store password; SI opens the '
                          'key with the store password' % (entry.alias, what)) from exc
    return entry


def is_shipped_certificate(cert):
    """True when ``cert`` is, or carries the public key of, a shipped WSO2 certificate (docs/si-reference.md section 4)."""
    return shipped_certificate_der(cert_to_der(cert)) is not None


# ---------------------------------------------------------------- audit

class Finding(dict):
    def __init__(self, kind, file, location, detail, key=None):
        super(Finding, self).__init__(kind=kind, file=file, location=location, detail=detail)
        if key is not None:
            self['key'] = key


def audit(si_home, deployment_path, launcher_path, passwords):
    """Every reference that still points at SI's shipped defaults, and every ${sec:}
    alias that secrets.properties lacks. ``passwords`` holds candidate passwords
    (keystore, truststore, vault, vault_key) for stores whose configured password
    cannot be resolved. Returns (findings, facts)."""
    data = read_file(deployment_path, what=deployment_path)
    if data is None:
        raise ConfigError('%s does not exist' % deployment_path)
    doc = DeploymentConfig.parse(data, deployment_path)
    run = _Audit(si_home, doc, passwords)
    run.structure()
    secrets = run.vault_and_secrets()
    known = run.tls_stores(secrets)
    if launcher_path:
        run.launcher(launcher_path, known)
    run.findings.extend(sweep_deployment(doc, run.profile))
    return _dedupe(run.findings), {'profile': run.profile, 'secrets_file': run.secrets_file}


class _Audit(object):
    """One audit's state: the document, the findings so far and the stores opened."""

    def __init__(self, si_home, doc, passwords):
        self.si_home = si_home
        self.doc = doc
        self.file = doc.what
        self.passwords = passwords
        self.profile = profile_of(doc)
        self.opener = StoreOpener()
        self.findings = []
        self.secrets_file = None

    def add(self, kind, location, detail, key=None, file=None):
        self.findings.append(Finding(kind, file or self.file, location, detail, key=key))

    def structure(self):
        for label in missing_locations(self.doc, self.profile):
            self.add('missing_location', label,
                     'the location is missing, so SI uses its built-in default there (the shipped store)')
        for key in SHADOWING_KEYS:
            if key in self.doc.top_keys():
                self.add('shadowing_key', key, 'a top-level %r key makes SI ignore the standard namespace it replaces'
                         % key)

    def vault_and_secrets(self):
        """The vault and the secrets it decrypts: {alias: plaintext or None}."""
        refs = vault_references(self.doc, self.si_home)
        master = sv.read_master_keys(refs.master_keys_file)
        if master is not None and DEFAULT_PASSWORD in (master.get('keyStorePassword'), master.get('privateKeyPassword')):
            self.add('default_password', location('master_key_reader').label,
                     'the master keys file holds the shipped password', key='masterKeyReaderFile',
                     file=refs.master_keys_file)
        vault = self._vault(refs, master or {})
        secrets = sv.read_secret_values(refs.secrets_file, vault)
        self.secrets_file = refs.secrets_file
        for alias in self.doc.sec_aliases():
            if alias not in secrets:
                self.add('missing_secret_alias', '${sec:%s}' % alias,
                         '%s has no entry %r, so SI reads an empty value' % (refs.secrets_file, alias))
            elif secrets[alias] is None:
                self.findings.append(_undecrypted_secret(refs.secrets_file, alias, vault, refs.keystore, refs.alias))
        return secrets

    def _vault(self, refs, master):
        if refs.keystore is None:
            return None
        store_candidates = [self.passwords.get('vault'), master.get('keyStorePassword'), DEFAULT_PASSWORD]
        key_candidates = [self.passwords.get('vault_key'), self.passwords.get('vault'), master.get('privateKeyPassword'),
                          master.get('keyStorePassword'), DEFAULT_PASSWORD]
        store = _audit_store(self.findings, self.opener, refs.keystore, store_candidates, self.file,
                             location('securevault').label, 'keystoreLocation', 'vault')
        if store is None:
            return None
        return sv.VaultKey.from_store(store, refs.alias, key_candidates, refs.keystore, need_private=False)

    def tls_stores(self, secrets):
        """The TLS stores deployment.yaml names. Returns {kind: [passwords tried]} for the launcher."""
        known = {'keystore': [], 'truststore': []}
        for loc in locations_for(self.profile, self.doc) + OPTIONAL_LOCATIONS:
            values = self.doc.values(loc)
            if values is None:
                continue
            for path_key, path_role in loc.keys:
                if path_role in ('keystore_path', 'truststore_path'):
                    self._tls_store(loc, values, path_key, STORE_OF_ROLE[path_role], secrets, known)
        for loc in (SIDDHI_HTTP_SOURCE, SIDDHI_HTTP_SINK):
            if self.doc.find(loc) is None:
                self.add('implicit_default', loc.label,
                         'no override: the Siddhi http extension falls back to wso2carbon.jks, '
                         'client-truststore.jks and the password "%s"' % DEFAULT_PASSWORD)
        return known

    def _tls_store(self, loc, values, path_key, kind, secrets, known):
        pw_keys = [k for k, r in loc.keys if r == kind + '_password' and k in values]
        candidates = []
        for k in pw_keys:
            password = _resolve_password(values[k], secrets)
            if password == DEFAULT_PASSWORD:
                self.add('default_password', loc.label, 'the password is the shipped "%s"' % DEFAULT_PASSWORD, key=k)
            candidates.append(password)
        path = resolve_config_path(values.get(path_key), self.si_home)
        if path is None:
            self.add('unverified_store', loc.label, 'the path holds a placeholder this audit cannot resolve',
                     key=path_key)
            return
        candidates.append(self.passwords.get(kind))
        known[kind].extend(c for c in candidates if c)
        _audit_store(self.findings, self.opener, path, candidates, self.file, loc.label, path_key, kind)

    def launcher(self, launcher_path, known):
        raw = read_file(launcher_path, what=launcher_path)
        if raw is None:
            self.add('missing_launcher', LAUNCHER_LABEL, 'the launcher does not exist', file=launcher_path)
            return
        values = read_launcher(raw, launcher_path).values(self.si_home)
        for prop, role in LAUNCHER_PROPS:
            if role not in PASSWORD_ROLES and prop in values:
                self._launcher_store(launcher_path, values, prop, STORE_OF_ROLE[role], known)
        self.findings.extend(sweep_launcher(raw, launcher_path))

    def _launcher_store(self, launcher_path, values, prop, kind, known):
        password = values.get(prop + 'Password')
        if password == DEFAULT_PASSWORD:
            self.add('default_password', LAUNCHER_LABEL, 'the password is the shipped "%s"' % DEFAULT_PASSWORD,
                     key='javax.net.ssl.%sPassword' % prop, file=launcher_path)
        # under secure vault the launcher holds no password: ssl.configs sets it at start
        candidates = [password] + known[kind] + [self.passwords.get(kind)]
        _audit_store(self.findings, self.opener, os.path.join(self.si_home, values[prop]), candidates,
                     launcher_path, LAUNCHER_LABEL, 'javax.net.ssl.%s' % prop, kind)


def _resolve_password(text, secrets):
    """The password a configured value stands for: a ${sec:} reference decrypted (None when it is not)."""
    if text is None:
        return None
    m = SEC_REFERENCE.match(text)
    if m:
        return secrets.get(m.group(1))
    return text


# ---------------------------------------------------------------- the sweep: shipped names anywhere

# A shipped store's file name as a whole path component or word (wso2carbon.jks, not my-wso2carbon.jks).
SHIPPED_STORE_NAME = re.compile(r'(?<![A-Za-z0-9_.-])(%s)(?![A-Za-z0-9_-])'
                                % '|'.join(re.escape(n) for n in SHIPPED_STORE_FILES))
# keys that name an alias or a user, not a password (wso2.securevault's privateKeyAlias: wso2carbon is an alias)
NOT_A_PASSWORD_KEY = re.compile(r'(?i)(alias|user(name)?)$')
# the embedded H2 databases' credentials (also wso2carbon in every download) guard no key material; the
# keystore audit leaves them to whoever secures the databases
NOT_KEY_MATERIAL = ('wso2.datasources.',)


def _item_label(item, index):
    """``[id=x]`` / ``[name=x]`` for a list item that has such a key, else ``[index]``."""
    if isinstance(item, MappingNode):
        for k, v in item.value:
            if isinstance(k, ScalarNode) and k.value in ('id', 'name') and isinstance(v, ScalarNode):
                return '[%s=%s]' % (k.value, v.value)
            if isinstance(v, MappingNode) and isinstance(k, ScalarNode):
                for k2, v2 in v.value:
                    if isinstance(k2, ScalarNode) and k2.value == 'name' and isinstance(v2, ScalarNode):
                        return '[%s.name=%s]' % (k.value, v2.value)
    return '[%d]' % index


def scalar_paths(doc):
    """(yaml_path, key, value_node) for every scalar value of the document; the path joins keys
    with dots and names list items by their id or name (``a.list[id=x].key``)."""
    out = []

    def visit(node, path, key):
        if isinstance(node, ScalarNode):
            out.append((path, key, node))
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                name = k.value if isinstance(k, ScalarNode) else '?'
                visit(v, (path + '.' if path else '') + name, name)
        elif isinstance(node, SequenceNode):
            for n, item in enumerate(node.value):
                visit(item, path + _item_label(item, n), key)
    visit(doc.root, '', None)
    return out


def _audited_nodes(doc, profile):
    """Value nodes of the known locations: the audit above already judged them (by opening the store)."""
    seen = set()
    for loc in LOCATIONS + OPTIONAL_LOCATIONS:
        try:
            node = doc.find(loc)
        except ConfigError:
            continue
        if node is None:
            continue
        for key, dummy in loc.keys:
            pair = doc.get(node, key, loc.label)
            if pair is not None:
                seen.add(id(pair[1]))
    return seen


def sweep_deployment(doc, profile):
    """Findings for every scalar of deployment.yaml, outside the known locations, that names a
    shipped store file or is the shipped password (a second listener, an http-sender, a Siddhi
    extension...): SI components this module does not know read them all the same."""
    findings = []
    audited = _audited_nodes(doc, profile)
    for path, key, node in scalar_paths(doc):
        if id(node) in audited or not isinstance(node.value, str):
            continue
        value = node.value
        where = 'line %d' % (node.start_mark.line + 1)
        match = SHIPPED_STORE_NAME.search(value)
        if match:
            findings.append(Finding('default_store_file', doc.what, path,
                                    'names the shipped %s (%s)' % (match.group(1), where), key=key))
        if value == DEFAULT_PASSWORD and not (key and NOT_A_PASSWORD_KEY.search(key)) \
                and not path.startswith(NOT_KEY_MATERIAL):
            findings.append(Finding('default_password', doc.what, path,
                                    'the value is the shipped password "%s" (%s)' % (DEFAULT_PASSWORD, where),
                                    key=key))
    return findings


LAUNCHER_PROPERTY = re.compile(r'-D(?P<prop>[A-Za-z0-9_.-]+)=(?P<value>.*)$', re.S)


def sweep_launcher(raw, what):
    """Findings for every word of the launcher, as the shell joins and unquotes it, besides the
    four -Djavax.net.ssl.* options the audit judged, that names a shipped store file or passes the
    shipped password; each is reported with the line its word starts on."""
    if isinstance(raw, bytes):
        raw = raw.decode('utf-8', 'replace')
    try:
        launcher = LauncherLines(raw, what)
    except ConfigError:
        return []  # the audit of the four options has said so already
    audited = set(id(h.word) for hits in launcher.found.values() for h in hits)
    findings = []
    for word in launcher.words:
        if id(word) in audited:
            continue
        value = shell_words.value(word.pieces)
        label = '%s line %d' % (os.path.basename(what), raw.count('\n', 0, word.start) + 1)
        prop = LAUNCHER_PROPERTY.match(value)
        match = SHIPPED_STORE_NAME.search(value)
        if match:
            findings.append(Finding('default_store_file', what, label, 'names the shipped %s' % match.group(1),
                                    key=prop.group('prop') if prop else None))
        if prop and prop.group('value') == DEFAULT_PASSWORD and not NOT_A_PASSWORD_KEY.search(prop.group('prop')):
            findings.append(Finding('default_password', what, label,
                                    'passes the shipped password "%s"' % DEFAULT_PASSWORD, key=prop.group('prop')))
    return findings


def _undecrypted_secret(secrets_path, alias, vault, vault_path, vault_alias):
    """A ${sec:} alias whose entry the configured vault does not decrypt: SI reads it as an
    empty string, silently (an entry of another key), or the audit cannot tell."""
    where = '${sec:%s}' % alias
    if vault is None or vault.private_key is None:
        return Finding('unverified_secret', secrets_path, where,
                       'the entry %r was not checked: no known password unlocks the vault key (%s, alias %r)'
                       % (alias, vault_path, vault_alias))
    return Finding('undecryptable_secret', secrets_path, where,
                   'the vault key (%s, alias %r) does not decrypt the entry %r (another key\'s, or not a valid '
                   'entry), so SI reads an empty value' % (vault_path, vault_alias, alias))


def _audit_store(findings, opener, path, candidates, file, label, key, kind):
    name = os.path.basename(path)
    if name in SHIPPED_STORE_FILES:
        findings.append(Finding('default_store_file', file, label, 'names the shipped %s' % name, key=key))
    what = 'the %s %s' % (kind, path)
    try:
        if read_file(path, what=what) is None:
            findings.append(Finding('missing_store', file, label, '%s does not exist' % path, key=key))
            return None
        shipped_pw = opener.try_open(path, [DEFAULT_PASSWORD], what)[0]
        if shipped_pw is not None:
            findings.append(Finding('default_password', file, label,
                                    '%s opens with the shipped password "%s"' % (path, DEFAULT_PASSWORD), key=key))
        store = opener.try_open(path, [c for c in candidates if c] + [DEFAULT_PASSWORD], what)[0]
    except KeystoreError as exc:
        findings.append(Finding('unverified_store', file, label, str(exc), key=key))
        return None
    if store is None:
        findings.append(Finding('unverified_store', file, label,
                                'no known password opens %s, so its content was not checked' % path, key=key))
        return None
    for found in shipped_entries(store):
        if found.kind == 'private_key':
            findings.append(Finding('shipped_key', file, label,
                                    '%s holds the shipped WSO2 key under the alias %r (%s)'
                                    % (path, found.alias, found.where), key=key))
        else:
            findings.append(Finding('trusts_shipped_certificate', file, label,
                                    '%s trusts the shipped WSO2 certificate (alias %r; %s), whose key everyone has'
                                    % (path, found.alias, found.where), key=key))
    return store


def _dedupe(findings):
    seen = set()
    out = []
    for f in findings:
        key = tuple(sorted(f.items()))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
