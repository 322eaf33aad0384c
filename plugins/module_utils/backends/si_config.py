# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_config's backend: every decision of the module, testable without running it.

``ensure(module)`` is the module's logic. ``ConfigBackend`` has fixed verbs,
called in this order under the lock of the files it writes:

- ``read()``: the current deployment.yaml, launcher and secrets file;
- ``decide()``: the new texts (deployment.yaml, carbon.sh, secrets.properties)
  and the locations they change, nothing written;
- ``validate()``: the stores the new configuration names open, SI's user can
  read every file it opens at start (the option ``validate``);
- ``write()``: the changed files, as one change (nothing in check mode);
- ``dump()``: the module's result, diffs included.

``audit(module, paths)`` is state=audit. ``module`` is anything with
``params``, ``warn()``, ``check_mode`` and ``_diff`` (an AnsibleModule in the
module, a stand-in in unit tests).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.wso2si.keystores.plugins.module_utils import access
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import config_files as cf
from ansible_collections.wso2si.keystores.plugins.module_utils import launcher as carbon_sh
from ansible_collections.wso2si.keystores.plugins.module_utils import masking
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import si_audit as sa
from ansible_collections.wso2si.keystores.plugins.module_utils import si_deployment as sd
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as sl
from ansible_collections.wso2si.keystores.plugins.module_utils import yaml_text as yt
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError, InvalidInputError, KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file, remove_stale_temporaries
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import detect_type
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import warn_on_default_password

SECRETS_MODE = 0o600
STORE_PATH_ROLES = ('keystore_path', 'truststore_path')


class Paths(object):
    def __init__(self, params):
        self.si_home = os.path.abspath(params['si_home'])
        if not os.path.isdir(self.si_home):
            raise InvalidInputError('si_home %s is not a directory' % self.si_home)
        self.deployment = os.path.abspath(params['deployment_yaml'] or
                                          os.path.join(self.si_home, 'conf', 'server', 'deployment.yaml'))
        launcher = params['launcher']
        if launcher is None:
            launcher = os.path.join(self.si_home, 'wso2', 'server', 'bin', 'carbon.sh')
        self.launcher = os.path.abspath(launcher) if launcher else None


def ensure(module):
    """The module's logic: check the options, then audit or rewire under the lock."""
    p = module.params
    check_options(module)
    paths = Paths(p)
    if p['state'] == 'audit':
        return audit(module, paths)
    current = _read_configuration(paths)
    # with a vault, the secrets file too: its entries move to the vault's key (re-encrypted) under this lock
    secrets_path = secrets_path_of(current, paths) if p['secure_vault'] else None
    files = [f for f in (paths.deployment, paths.launcher, secrets_path) if f]
    for f in files:
        remove_stale_temporaries(f)
    with cf.locked_all(files):
        backend = ConfigBackend(module, paths, secrets_path)
        backend.read()
        backend.decide()
        if p['validate']:
            backend.validate()
        backend.write()
        return backend.dump()


def _read_configuration(paths):
    text = cf.read_text(paths.deployment, 'the configuration %s' % paths.deployment)
    if text is None:
        raise ConfigError('the configuration %s does not exist' % paths.deployment)
    return text


def secrets_path_of(text, paths):
    """The secrets file deployment.yaml names (SI's default when it cannot be resolved)."""
    try:
        values = yt.DeploymentConfig.parse(text, paths.deployment).values(sl.location('securevault')) or {}
    except ConfigError:
        values = {}
    return sl.VaultReferences(values, {}, paths.si_home).secrets_file


# ---------------------------------------------------------------- options

def check_options(module):
    """Refuse, before anything is read, options that contradict each other or passwords SI cannot carry."""
    p = module.params
    if p['state'] == 'audit':
        return
    if not (p['keystore'] or p['truststore'] or p['secure_vault']):
        raise InvalidInputError('state=present needs keystore, truststore or secure_vault')
    _check_vault_mode(p)
    _check_blocks(p)
    for name in ('keystore', 'truststore'):
        if p[name]:
            _check_store_password(module, name)
    if p['secure_vault']:
        _check_vault_passwords(module)


def _check_vault_mode(p):
    if p['passwords_as'] != 'secure_vault':
        return
    if not p['secure_vault']:
        raise InvalidInputError('passwords_as=secure_vault needs secure_vault: the vault whose key encrypts the passwords')
    if not (p['keystore'] or p['truststore']):
        raise InvalidInputError('passwords_as=secure_vault needs keystore or truststore: the passwords to keep in the vault')
    if p['ssl_configs'] is False:
        raise InvalidInputError('passwords_as=secure_vault needs ssl_configs: carbon.sh cannot resolve ${sec:}, so SI '
                                'must set javax.net.ssl.* from ssl.configs at start')


def _check_blocks(p):
    if (ssl_configs_wanted(p) or p['siddhi_http_extensions']) and not (p['keystore'] and p['truststore']):
        raise InvalidInputError('ssl_configs and siddhi_http_extensions need both keystore and truststore')


def _check_store_password(module, name):
    password = module.params[name]['password']
    sd.check_config_password(password, 'the %s password' % name)
    warn_on_default_password(module, password, 'the %s password' % name)
    if module.params['passwords_as'] != 'secure_vault':
        return
    sv.check_secret_value('%s password' % name, password)
    if set(password) & set('\'"\\'):
        raise InvalidInputError('the %s password contains a quote or backslash, which SI\'s unquoted paste '
                                'of ${sec:} values into deployment.yaml would break' % name)


def _check_vault_passwords(module):
    vault = module.params['secure_vault']
    sv.check_vault_password(vault['password'], 'the secure vault password')
    if vault['key_password'] is not None:
        sv.check_vault_password(vault['key_password'], 'the secure vault key password')
    warn_on_default_password(module, vault['password'], 'the secure vault password')


def ssl_configs_wanted(p):
    if p['ssl_configs'] is None:
        return p['passwords_as'] == 'secure_vault'
    return p['ssl_configs']


def settings_of(p):
    """{role: value} for si_deployment and launcher: paths, Password objects, the vault alias."""
    settings = {}
    vault_mode = p['passwords_as'] == 'secure_vault'
    for name in ('keystore', 'truststore'):
        if p[name]:
            settings['%s_path' % name] = os.path.abspath(p[name]['path'])
            alias = sl.SECRET_ALIASES['%s_password' % name] if vault_mode else None
            settings['%s_password' % name] = sd.Password(p[name]['password'], alias)
    if p['secure_vault']:
        settings['vault_path'] = os.path.abspath(p['secure_vault']['keystore_path'])
        settings['vault_alias'] = p['secure_vault']['key_alias']
    return settings


def si_user_of(p, paths):
    """The user SI runs as: si_user, or the owner of si_home."""
    return access.lookup_user(p['si_user']) if p['si_user'] else access.owner_of(paths.si_home)


# ---------------------------------------------------------------- state=present

class ConfigBackend(object):
    """One si_config run with state=present; see the verbs in the module's docstring."""

    def __init__(self, module, paths, secrets_path):
        self.module = module
        self.p = module.params
        self.paths = paths
        self.secrets_path = secrets_path
        self.settings = settings_of(self.p)
        self.vault_mode = self.p['passwords_as'] == 'secure_vault'
        self.text = None
        self.plan = None
        self.changes = []
        self.launcher_before = self.launcher_after = None
        self.secrets_before = self.secrets_after = None
        self.vault = None
        self.backups = {}

    # ------------------------------------------------------------ read

    def read(self):
        """deployment.yaml as it is now, read again under the lock. The launcher and the secrets
        file are read as decide() reaches them, so errors come in the order the steps meet them."""
        self.text = _read_configuration(self.paths)
        if self.secrets_path is not None and secrets_path_of(self.text, self.paths) != self.secrets_path:
            raise ConfigError('%s changed while this task ran; run it again' % self.paths.deployment)

    # ------------------------------------------------------------ decide

    def decide(self):
        """The new texts and the changes they make; nothing written."""
        self._warn_shadowing_keys()
        self.plan = sd.plan_deployment(self.text, self.settings, self.paths.si_home,
                                       ssl_configs=ssl_configs_wanted(self.p),
                                       siddhi_http=self.p['siddhi_http_extensions'], what=self.paths.deployment)
        self.changes = [c.as_dict() for c in self.plan.changes]
        self._decide_launcher()
        if self.p['secure_vault']:
            self.vault = self._open_vault()
            self._decide_secrets()

    def _warn_shadowing_keys(self):
        doc = yt.DeploymentConfig.parse(self.text, self.paths.deployment)
        for key in sl.SHADOWING_KEYS:
            if key in doc.top_keys():
                self.module.warn('%s has a top-level %r key, which SI prefers over the namespace this module edits; '
                                 'remove it or the changes will not take effect' % (self.paths.deployment, key))

    def _decide_launcher(self):
        if not self.paths.launcher:
            return
        self.launcher_before = cf.read_text(self.paths.launcher, 'the launcher %s' % self.paths.launcher)
        if self.launcher_before is None:
            raise ConfigError('the launcher %s does not exist (set launcher to an empty string to skip it); '
                              'nothing was changed' % self.paths.launcher)
        self.launcher_after, props = carbon_sh.plan_launcher(self.launcher_before, self.settings, self.paths.si_home,
                                                             what=self.paths.launcher)
        if props:
            self.changes.append({'location': sl.LAUNCHER_LABEL, 'file': self.paths.launcher, 'keys': props})

    def _open_vault(self):
        vault_p = self.p['secure_vault']
        path = self.settings['vault_path']
        vault = sv.open_vault(path, vault_p['password'], vault_p['key_alias'], vault_p['key_password'],
                              what='the secure vault keystore %s' % path)
        if sa.is_shipped_certificate(vault.certificate):
            self.module.warn('the secure vault key is the shipped WSO2 key, which everyone has: secrets it encrypts '
                             'are not protected')
        return vault

    def _decide_secrets(self):
        """The store passwords as vault entries (passwords_as=secure_vault), and every entry of the
        previous vault key moved to this one."""
        self.secrets_before = cf.read_text(self.secrets_path, 'the secrets file %s' % self.secrets_path)
        secrets = sv.SecretsFile(self.secrets_before or '')
        wanted = {}
        if self.vault_mode:
            wanted = dict((pw.alias, pw.value) for pw in self._passwords())
        moved = move_secrets(self.module, self.paths, self.text, secrets, self.vault, self.secrets_path, skip=wanted)
        changed_aliases = moved + sv.ensure_secrets(secrets, self.vault, wanted)
        self.secrets_after = secrets.dumps()
        if changed_aliases or (self.vault_mode and (self.secrets_before is None or self._secrets_mode_differs())):
            self.changes.insert(0, {'location': 'secrets file', 'file': self.secrets_path, 'keys': changed_aliases})
        elif not self.vault_mode:
            self.secrets_after = None  # literal passwords and nothing to move: the secrets file is left alone

    def _passwords(self):
        return [pw for pw in (self.settings.get('keystore_password'), self.settings.get('truststore_password'))
                if pw is not None]

    def _secrets_mode_differs(self):
        return cf.mode_differs(self.secrets_path, SECRETS_MODE)

    # ------------------------------------------------------------ validate

    def validate(self):
        Validation(self.module, self.paths, self.settings, self.vault).run(self.plan.after, self.secrets_after,
                                                                           self.secrets_path)

    # ------------------------------------------------------------ write

    def writes(self):
        """The files to write, in order: the secrets first, so deployment.yaml never names an alias
        the secrets file lacks."""
        backup = self.p['backup']
        out = []
        if self._secrets_changed() or (self.secrets_after is not None and
                                       (self.secrets_before is None or self._secrets_mode_differs())):
            out.append(dict(path=self.secrets_path, data=self.secrets_after.encode('utf-8'), mode=SECRETS_MODE,
                            backup=backup, enforce_mode=True))
        if self.plan.changed:
            out.append(dict(path=self.paths.deployment, data=self.plan.after.encode('utf-8'), backup=backup))
        if self._launcher_changed():
            out.append(dict(path=self.paths.launcher, data=self.launcher_after.encode('utf-8'), backup=backup))
        return out

    def write(self):
        """One change: every file is checked writable first, and a later failure puts the earlier
        files back (fileio.WriteSet)."""
        if self.changes and not self.module.check_mode:
            self.backups = dict((k, v) for k, v in cf.write_files(self.writes()).items() if v)

    def _secrets_changed(self):
        return self.secrets_after is not None and self.secrets_after != (self.secrets_before or '')

    def _launcher_changed(self):
        return self.launcher_after is not None and self.launcher_after != self.launcher_before

    # ------------------------------------------------------------ dump

    def dump(self):
        result = dict(changed=bool(self.changes), changed_locations=self.changes, profile=self.plan.profile,
                      https_ports=sd.https_ports(self.plan.after_data))
        if self.vault_mode:
            result['secret_aliases'] = dict((role, sl.SECRET_ALIASES[role]) for role in sl.PASSWORD_ROLES
                                            if self.settings.get(role) is not None)
            result['secrets_file'] = self.secrets_path
        if self.module._diff:
            result['diff'] = self.diffs()
        if self.backups:
            result['backup_files'] = self.backups
        return result

    def diffs(self):
        """One diff per changed file, every password masked."""
        known = [pw.value for pw in self._passwords() if pw.value]
        out = []
        if self.plan.changed:
            before, after = masking.mask_deployment(self.plan.before, self.plan.after, known)
            out.append(_diff(self.paths.deployment, before, after))
        if self._launcher_changed():
            before, after = masking.mask_launcher(self.launcher_before, self.launcher_after, known)
            out.append(_diff(self.paths.launcher, before, after))
        if self._secrets_changed():
            out.append(_diff(self.secrets_path, masking.mask_properties(self.secrets_before or ''),
                             masking.mask_properties(self.secrets_after)))
        return out


def _diff(path, before, after):
    return dict(before_header=path, after_header=path, before=before, after=after)


# ---------------------------------------------------------------- moving secrets to a new vault key

def previous_vault(module, paths, text):
    """The vault key the current deployment.yaml names, opened with the master keys
    file's passwords, the new vault's or the shipped one; None when none opens it.
    Returns (key or None, path, alias)."""
    refs = sl.vault_references(yt.DeploymentConfig.parse(text, paths.deployment), paths.si_home)
    path = refs.keystore if refs.keystore_location else refs.default_keystore
    master = sv.read_master_keys(refs.master_keys_file) or {}
    if path is None:
        return None, refs.keystore_location, refs.alias
    new = module.params['secure_vault']
    store_pws = [master.get('keyStorePassword'), new['password'], sl.DEFAULT_PASSWORD]
    key_pws = [master.get('privateKeyPassword'), master.get('keyStorePassword'), new['key_password'], new['password'],
               sl.DEFAULT_PASSWORD]
    return sv.open_previous_vault(path, refs.alias, store_pws, key_pws), path, refs.alias


def move_secrets(module, paths, text, secrets, vault, secrets_path, skip):
    """Re-encrypt with the new vault key every cipherText entry the previous key (the one
    deployment.yaml names now) decrypts: SI reads an entry of another key as an empty
    string, silently. Refuses, naming them, when the key changes and some entries
    decrypt with neither key. Returns the aliases re-encrypted."""
    if not sv.foreign_entries(secrets, vault, skip):
        return []
    old, old_path, old_alias = previous_vault(module, paths, text)
    moved, lost = sv.reencrypt(secrets, vault, old, skip)
    if not lost:
        return moved
    names = ', '.join(lost)
    if old is not None and old.fingerprint() == vault.fingerprint():
        module.warn('the secrets file %s holds entries the vault key does not decrypt, which SI reads as empty '
                    'strings: %s' % (secrets_path, names))
        return moved
    if old is None:
        why = 'the previous vault (%s, alias %r) could not be opened with the master keys file\'s passwords, the new ' \
              'vault\'s or the shipped one' % (old_path, old_alias)
    else:
        why = 'neither the previous vault key (%s, alias %r) nor the new one decrypts them' % (old_path, old_alias)
    raise ConfigError('the secure vault key changes, and the secrets file %s holds entries that cannot be '
                      're-encrypted with the new key because %s: %s; SI would read them as empty strings, so remove '
                      'them (si_secret state=absent) or re-encrypt them first; nothing was changed'
                      % (secrets_path, why, names))


# ---------------------------------------------------------------- validation

class Validation(object):
    """Every store the new configuration names exists and opens with its password; the TLS
    keystore holds one key entry keyed with the store password, with acceptable material;
    SI's user can read every file SI opens at start."""

    def __init__(self, module, paths, settings, vault):
        self.module = module
        self.paths = paths
        self.settings = settings
        self.vault = vault
        self.opener = sa.StoreOpener()
        self.checked = set()
        self.secrets = None
        # the ${sec:} texts this task writes, and the passwords they stand for
        self.ours = dict((pw.text, pw.value) for pw in (settings.get('keystore_password'),
                                                        settings.get('truststore_password')) if pw is not None)

    def run(self, new_text, secrets_text, secrets_path):
        doc = yt.DeploymentConfig.parse(new_text, self.paths.deployment)
        self.secrets = self._secrets(doc, secrets_text)
        try:
            for loc in sl.locations_for(sd.profile_of(doc), doc) + sl.OPTIONAL_LOCATIONS:
                self._location(loc, doc.values(loc))
            if self.paths.launcher:
                self._launcher_stores()
            if self.settings.get('keystore_path') and self.settings.get('truststore_path'):
                self._warn_if_untrusted()
        except KeystoreError as exc:
            raise ConfigError('validation failed: %s; nothing was changed' % str(exc).rstrip('.')) from exc
        self._startup_access(doc, secrets_text, secrets_path)

    def _secrets(self, doc, secrets_text):
        if secrets_text is not None:
            return sv.SecretsFile(secrets_text)
        values = doc.values(sl.location('securevault')) or {}
        named = sl.VaultReferences(values, {}, self.paths.si_home).named_secrets_file
        return sv.read_secrets_file(named or '/nonexistent')

    def _location(self, loc, values):
        if not values:
            return
        for path_key, role in loc.keys:
            if role not in STORE_PATH_ROLES or path_key not in values:
                continue
            kind = sl.STORE_OF_ROLE[role]
            path = sl.resolve_config_path(values[path_key], self.paths.si_home)
            if path is None:
                self.module.warn('%s > %s holds a placeholder this module cannot resolve; not checked'
                                 % (loc.label, path_key))
                continue
            what = 'the %s %s (%s > %s)' % (kind, path, loc.label, path_key)
            for pw_key, pw_role in loc.keys:
                if pw_role == kind + '_password' and pw_key in values:
                    self._store(path, kind, what, values[pw_key])

    def _password(self, text):
        """The password a configured value stands for (None: a ${sec:} value not decrypted here)."""
        if text.startswith('${sec:') and text not in self.ours:
            return sv.plaintext_of(self.secrets, text[6:-1], self.vault) if self.secrets is not None else None
        return self.ours.get(text, text)

    def _store(self, path, kind, what, text):
        password = self._password(text)
        if (path, password, kind) in self.checked:
            return
        self.checked.add((path, password, kind))
        if password is None:
            if read_file(path, what=what) is None:
                raise ConfigError('%s does not exist' % what)
            self.module.warn('%s could not be opened: its password %s cannot be decrypted here' % (what, text))
            return
        store = self.opener.open(path, password, what)
        if kind == 'keystore':
            self._tls_keystore(store, password, what)
        if detect_type(read_file(path)) == 'pkcs12':
            self.module.warn('%s is PKCS#12; SI opens stores as JKS, which Java 8u60+ reads from PKCS#12 '
                             'too, but JKS is the zero-risk choice' % what)

    def _tls_keystore(self, store, password, what):
        entry = sa.check_tls_keystore(store, password, what)
        # SI would be restarted serving it: out-of-date or weak material is refused here
        p = self.module.params
        certs.check_key_strength(entry.certificate.public_key(), what, p['allow_weak_keys'], self.module.warn)
        certs.check_validity(entry.chain, what, p['allow_expired'], self.module.warn)

    def _launcher_stores(self):
        for dummy, role in sl.LAUNCHER_PROPS:
            path = self.settings.get(role) if role in sl.PATH_ROLES else None
            if path and read_file(path, what='the %s %s' % (sl.STORE_OF_ROLE[role], path)) is None:
                raise ConfigError('the %s %s does not exist' % (sl.STORE_OF_ROLE[role], path))

    def _warn_if_untrusted(self):
        s = self.settings
        keystore = self.opener.open(s['keystore_path'], s['keystore_password'].value, 'the keystore')
        truststore = self.opener.open(s['truststore_path'], s['truststore_password'].value, 'the truststore')
        trusted = set(e.fingerprint() for e in truststore.trusted_entries())
        entry = keystore.key_entries()[0]
        if not trusted & set(certs.fingerprint(c) for c in entry.chain):
            self.module.warn('the truststore trusts neither the keystore\'s certificate nor its issuers: SI\'s own data '
                             'agents that connect to this server will not trust it')

    def _startup_access(self, doc, secrets_text, secrets_path):
        user = si_user_of(self.module.params, self.paths)
        new_files = {}
        if secrets_text is not None and secrets_path and not os.path.exists(secrets_path):
            new_files[secrets_path] = access.new_file_owner(secrets_path, SECRETS_MODE)
        for path, what, reason in access.startup_access_problems(doc, self.paths.si_home, self.paths.deployment, user,
                                                                 new_files):
            raise ConfigError('validation failed: %s; nothing was changed'
                              % access.problem_sentence(user, path, what, reason))


# ---------------------------------------------------------------- state=audit

def audit(module, paths):
    p = module.params
    passwords = {
        'keystore': (p['keystore'] or {}).get('password'),
        'truststore': (p['truststore'] or {}).get('password'),
        'vault': (p['secure_vault'] or {}).get('password'),
        'vault_key': (p['secure_vault'] or {}).get('key_password'),
    }
    findings, facts = sa.audit(paths.si_home, paths.deployment, paths.launcher, passwords)
    user = si_user_of(p, paths)
    doc = yt.DeploymentConfig.parse(read_file(paths.deployment, what=paths.deployment), paths.deployment)
    for path, what, reason in access.startup_access_problems(doc, paths.si_home, paths.deployment, user):
        findings.append(sa.Finding('unreadable_by_si', path, what, access.problem_sentence(user, path, what, reason)))
    return dict(changed=False, findings=findings, secure=not findings, profile=facts['profile'],
                secrets_file=facts['secrets_file'])
