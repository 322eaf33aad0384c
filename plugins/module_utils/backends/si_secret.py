# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_secret's backend: every decision of the module, testable without running it.

``ensure(module)`` is the module's logic. ``SecretBackend`` has fixed verbs,
called in this order under the lock of the files it writes:

- ``read()``: the vault key (when one is needed) and the secrets file;
- ``decide()``: the new secrets file (entries encrypted or removed) and
  master-keys.yaml, nothing written;
- ``write()``: the changed files, as one change (nothing in check mode);
- ``dump()``: the module's result, diffs included.

``module`` is anything with ``params``, ``warn()``, ``check_mode`` and ``_diff``
(an AnsibleModule in the module, a stand-in in unit tests).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.wso2si.keystores.plugins.module_utils import config_files as cf
from ansible_collections.wso2si.keystores.plugins.module_utils import masking
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import si_audit as sa
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as sl
from ansible_collections.wso2si.keystores.plugins.module_utils import yaml_text as yt
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError, InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file, remove_stale_temporaries
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import warn_on_default_password

FILE_MODE = 0o600
LOCATED = ('secrets_file', 'vault_keystore_path', 'vault_key_alias', 'master_keys_file')


def locate(p):
    """Paths and vault facts from the options, then deployment.yaml, then SI's defaults."""
    found = _located_in_home(p['si_home']) if p['si_home'] else {}
    for name in LOCATED:
        if p[name]:
            found[name] = os.path.abspath(p[name]) if name != 'vault_key_alias' else p[name]
    if not found.get('secrets_file'):
        raise InvalidInputError('give si_home or secrets_file')
    if not found.get('master_keys_file'):
        found['master_keys_file'] = os.path.join(os.path.dirname(found['secrets_file']), 'master-keys.yaml')
    return found


def _located_in_home(si_home):
    home = os.path.abspath(si_home)
    if not os.path.isdir(home):
        raise InvalidInputError('si_home %s is not a directory' % home)
    deployment = os.path.join(home, 'conf', 'server', 'deployment.yaml')
    data = read_file(deployment, what='the configuration %s' % deployment)
    doc = yt.DeploymentConfig.parse(data, deployment) if data is not None else None
    refs = sl.vault_references(doc, home)
    return {'secrets_file': refs.secrets_file, 'vault_keystore_path': refs.keystore or refs.default_keystore,
            'vault_key_alias': refs.alias, 'master_keys_file': refs.master_keys_file}


def ensure(module):
    """The module's logic: check the options, then apply them under the lock."""
    p = module.params
    where = locate(p)
    check_aliases(p['secrets'])
    need_vault = bool((p['state'] == 'present' and p['secrets']) or p['master_keys'])
    if need_vault:
        for name in ('vault_keystore_path', 'vault_key_alias'):
            if not where.get(name):
                raise InvalidInputError('give si_home or %s' % name)
    files = [where['secrets_file']] + ([where['master_keys_file']] if p['master_keys'] else [])
    for f in files:
        remove_stale_temporaries(f)
    with cf.locked_all(files):
        # read deployment.yaml again under the lock, the same lock si_config writes it under
        again = locate(p)
        if [again['secrets_file'], again['master_keys_file']] != [where['secrets_file'], where['master_keys_file']]:
            raise ConfigError('the secure vault settings in deployment.yaml changed while this task ran; run it again')
        backend = SecretBackend(module, again, need_vault)
        backend.read()
        backend.decide()
        backend.write()
        return backend.dump()


def check_aliases(items):
    aliases = [sv.check_alias(item['alias']) for item in items]
    if len(set(aliases)) != len(aliases):
        raise InvalidInputError('the alias %r is listed more than once' % [a for a in aliases if aliases.count(a) > 1][0])


def vault_passwords(p, where):
    """(store password, key password) from the options, else the master keys file."""
    store_pw, key_pw = p['vault_keystore_password'], p['vault_key_password']
    if store_pw is None:
        master = sv.read_master_keys(where['master_keys_file'])
        if master is None or not master.get('keyStorePassword'):
            raise InvalidInputError('give vault_keystore_password: the master keys file %s does not provide it'
                                    % where['master_keys_file'])
        store_pw = master['keyStorePassword']
        if key_pw is None:
            key_pw = master.get('privateKeyPassword')
    return store_pw, (key_pw if key_pw is not None else store_pw)


def wanted_secrets(items):
    """{alias: value} of state=present, refusing an item without a value."""
    wanted = {}
    for item in items:
        if item.get('value') is None:
            raise InvalidInputError('the secret %r needs a value' % item['alias'])
        wanted[item['alias']] = item['value']
    return wanted


class SecretBackend(object):
    """One si_secret run; see the verbs in the module's docstring."""

    def __init__(self, module, where, need_vault):
        self.module = module
        self.p = module.params
        self.where = where
        self.need_vault = need_vault
        self.secrets_path = where['secrets_file']
        self.master_path = where['master_keys_file']
        self.vault = None
        self.store_pw = self.key_pw = None
        self.before = self.after = None
        self.secrets = None
        self.changed_aliases = []
        self.removed = []
        self.master_before = self.master_after = None
        self.master_mode = False
        self.secrets_changed = self.secrets_mode = self.changed = False
        self.backups = {}

    # ------------------------------------------------------------ read

    def read(self):
        if self.need_vault:
            self.vault = self._open_vault()
        self.before = cf.read_text(self.secrets_path, 'the secrets file %s' % self.secrets_path)
        self.secrets = sv.SecretsFile(self.before or '')
        for alias in self.secrets.duplicates():
            self.module.warn('the secrets file lists %r more than once; Java uses the last entry' % alias)

    def _open_vault(self):
        self.store_pw, self.key_pw = vault_passwords(self.p, self.where)
        if self.p['master_keys']:  # SI could not read them back from master-keys.yaml
            sv.check_vault_password(self.store_pw, 'the vault keystore password')
            sv.check_vault_password(self.key_pw, 'the vault key password')
        warn_on_default_password(self.module, self.store_pw, 'the vault keystore password')
        path = self.where['vault_keystore_path']
        vault = sv.open_vault(path, self.store_pw, self.where['vault_key_alias'], self.key_pw,
                              what='the vault keystore %s' % path)
        if sa.is_shipped_certificate(vault.certificate):
            self.module.warn('the vault holds the shipped WSO2 key, which everyone has: secrets it encrypts are not '
                             'protected; create your own vault keystore and point SI at it with si_config')
        return vault

    # ------------------------------------------------------------ decide

    def decide(self):
        if self.p['state'] == 'present':
            self._decide_present(wanted_secrets(self.p['secrets']))
        else:
            self.removed = [item['alias'] for item in self.p['secrets'] if self.secrets.remove(item['alias'])]
        self._judge_secrets_file()
        if self.p['master_keys']:
            self._decide_master_keys()
        self.changed = any((self.secrets_changed, self.secrets_mode, self.master_after is not None, self.master_mode))

    def _judge_secrets_file(self):
        self.after = self.secrets.dumps()
        self.secrets_changed = self.after != (self.before or '') and not (self.before is None and not self.after)
        # judged before anything is written: the write gives the file its mode
        self.secrets_mode = self.before is not None and cf.mode_differs(self.secrets_path, FILE_MODE)

    def _decide_present(self, wanted):
        for alias, value in wanted.items():  # all refusals before anything changes
            sv.check_secret_value(alias, value, self.vault.key_size if self.vault else None)
        if not wanted:
            return
        foreign = sv.foreign_entries(self.secrets, self.vault, skip=wanted)
        self.changed_aliases = sv.ensure_secrets(self.secrets, self.vault, wanted)
        if foreign and self.changed_aliases:
            raise ConfigError('the secrets file %s holds entries the vault key (%s, alias %r) does not decrypt, so they '
                              'belong to another key and SI reads them as empty strings: %s; remove them (state=absent) '
                              'or re-encrypt them with this key (si_config does when it moves SI from their key to this '
                              'one) before adding secrets; nothing was changed'
                              % (self.secrets_path, self.where['vault_keystore_path'], self.where['vault_key_alias'],
                                 ', '.join(foreign)))
        if foreign:
            self.module.warn('the secrets file %s holds entries the vault key does not decrypt, which SI reads as '
                             'empty strings: %s' % (self.secrets_path, ', '.join(foreign)))

    def _decide_master_keys(self):
        raw = read_file(self.master_path, what='the master keys file %s' % self.master_path)
        current = None
        if raw is not None:
            try:
                current = sv.parse_master_keys(raw, 'the master keys file %s' % self.master_path)
            except ConfigError:
                current = None
            self.master_before = raw.decode('utf-8', 'replace')
        if current != {'permanent': True, 'keyStorePassword': self.store_pw, 'privateKeyPassword': self.key_pw}:
            self.master_after = sv.master_keys_text(self.store_pw, self.key_pw)
        self.master_mode = raw is not None and cf.mode_differs(self.master_path, FILE_MODE)

    # ------------------------------------------------------------ write

    def writes(self):
        """The files to write: both checked writable first, put back on a later failure (fileio.WriteSet)."""
        backup = self.p['backup']
        out = []
        if self.secrets_changed or self.secrets_mode:
            out.append(dict(path=self.secrets_path, data=self.after.encode('utf-8'), mode=FILE_MODE,
                            backup=backup and self.secrets_changed, enforce_mode=True))
        if self.master_after is not None or self.master_mode:
            text = self.master_after if self.master_after is not None else self.master_before
            out.append(dict(path=self.master_path, data=text.encode('utf-8'), mode=FILE_MODE,
                            backup=backup and self.master_after is not None, enforce_mode=True))
        return out

    def write(self):
        if self.changed and not self.module.check_mode:
            self.backups = dict((k, v) for k, v in cf.write_files(self.writes()).items() if v)

    # ------------------------------------------------------------ dump

    def dump(self):
        result = dict(changed=self.changed, changed_aliases=self.changed_aliases, removed=self.removed,
                      secrets_file=self.secrets_path)
        if self.vault is not None:
            result['vault_key_sha256'] = self.vault.fingerprint()
        if self.p['master_keys']:
            result['master_keys_file'] = self.master_path
        if self.module._diff:
            result['diff'] = self.diffs()
        if self.backups:
            result['backup_files'] = self.backups
        return result

    def diffs(self):
        out = []
        if self.secrets_changed:
            out.append(dict(before_header=self.secrets_path, after_header=self.secrets_path,
                            before=masking.mask_properties(self.before or ''), after=masking.mask_properties(self.after)))
        if self.master_after is not None:
            out.append(dict(before_header=self.master_path, after_header=self.master_path,
                            before=masking.mask_master(self.master_before or ''),
                            after=masking.mask_master(self.master_after)))
        return out
