#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_config
short_description: Point WSO2 Streaming Integrator's configuration at your own keystores
version_added: 0.1.0
description:
  - Rewires every place where WSO2 Streaming Integrator (SI) 4.x names a keystore, truststore or the
    secure vault, so that a server stops using the shipped C(wso2carbon.jks), C(client-truststore.jks),
    C(securevault.jks) and the password C(wso2carbon) that every SI download contains.
  - "In C(deployment.yaml): the HTTPS listener (C(wso2.transport.http)), the store query API listener
    (C(siddhi.stores.query.api), server profile only), C(databridge.config), the Thrift and Binary data agents
    (C(data.agent.config)) and the secure vault (C(wso2.securevault)). The server and tooling profiles are told
    apart by content (the tooling profile's server name says Tooling, or its HTTPS listener is on 9740)."
  - In the launcher C(carbon.sh), the values of the four C(-Djavax.net.ssl.*) options, read as the shell reads the
    file (backslash-newline continuations, quoting); every other byte of the launcher, other options on the same
    line included, stays. The rewritten launcher is read back the same way and must give the JVM exactly the new
    values, or nothing is written.
  - Nothing else changes. The file is edited line by line, guided by its YAML structure, so comments, blank
    lines, key order, quoting and each location's placeholder style (C(${carbon.home}) or
    C(${sys:carbon.home})) stay as they were. A top-level C(transports) or C(securevault) key is never added.
  - "A byte order mark, CRLF line endings and document markers (C(---), C(...)) are kept, and added lines take the
    file's line ending. An optional block reached through a flow collection (for example C(siddhi: {extensions: []}))
    is written by rewriting that collection in block style."
  - A store under O(si_home) is written relative to the placeholder its location already uses; a store elsewhere
    is written as an absolute path. Literal passwords are written quoted, so YAML keeps them strings.
  - O(state=audit) changes nothing and reports every reference that still points at the shipped defaults.
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store.BACKUP
  - wso2si.keystores.material
  - wso2si.keystores.material.EXPIRED
options:
  si_home:
    description:
      - The SI installation directory (C(<SI_HOME>), or C(<SI_TOOLING_HOME>) for the tooling profile).
    type: path
    required: true
  deployment_yaml:
    description:
      - The configuration file. Default C(<si_home>/conf/server/deployment.yaml).
    type: path
  launcher:
    description:
      - The launcher whose C(-Djavax.net.ssl.*) lines are rewired. Default C(<si_home>/wso2/server/bin/carbon.sh).
      - An empty string skips the launcher. A launcher that is set but missing is an error.
    type: path
  keystore:
    description:
      - The TLS keystore SI's HTTPS listeners and databridge receivers present, and the JVM-wide
        C(javax.net.ssl.keyStore).
      - With O(validate=true) it must exist, open with O(keystore.password), and hold exactly one key entry whose
        key password is the store password (SI opens the key with the store password).
    type: dict
    suboptions:
      path:
        description: The keystore file on the managed host. JKS is what SI expects.
        type: path
        required: true
      password:
        description:
          - Its store password, which is also the key password.
          - With O(passwords_as=secure_vault) use characters from C([A-Za-z0-9._-]) starting with a letter.
        type: str
        required: true
  truststore:
    description:
      - The truststore SI's data agents use, and the JVM-wide C(javax.net.ssl.trustStore).
      - Without it, the truststore references are left as they are.
    type: dict
    suboptions:
      path:
        description: The truststore file on the managed host.
        type: path
        required: true
      password:
        description: Its store password.
        type: str
        required: true
  secure_vault:
    description:
      - The secure vault keystore (C(wso2.securevault > secretRepository > parameters)).
      - Required with O(passwords_as=secure_vault), whose secrets are encrypted with this key.
      - SI reads the vault's passwords from C(master-keys.yaml) or the environment; write them with
        M(wso2si.keystores.si_secret) (O(wso2si.keystores.si_secret#module:master_keys=true)).
      - "When this key is not the one C(deployment.yaml) names now, every C(cipherText) entry of the secrets file that
        the previous key decrypts is encrypted again with this key, under the same lock and in the same write as the
        rest (SI would read an entry of another key as an empty string, without an error). The previous vault is
        opened with the passwords of C(master-keys.yaml), of this option, or the shipped C(wso2carbon); SI's shipped
        sample entries are therefore always moved. When some entries decrypt with neither key, the task fails, naming
        their aliases, and writes nothing: remove them with M(wso2si.keystores.si_secret) (O(wso2si.keystores.si_secret#module:state=absent)).
        Entries the key already decrypts are never rewritten."
      - "Its passwords must be ASCII without control characters: SI reads C(master-keys.yaml) byte by byte and would
        not open the vault."
    type: dict
    suboptions:
      keystore_path:
        description: The vault keystore file.
        type: path
        required: true
      key_alias:
        description: The alias of its RSA key entry (C(privateKeyAlias)).
        type: str
        required: true
      password:
        description: The vault keystore's store password.
        type: str
        required: true
      key_password:
        description: The key entry's password. Default O(secure_vault.password).
        type: str
  ssl_configs:
    description:
      - Also write the C(ssl.configs) block (key and trust store locations and passwords). When all four are
        set, SI overrides the JVM's C(javax.net.ssl.*) properties with them at start, and C(${sec:}) works there.
      - Needs O(keystore) and O(truststore).
      - Default V(true) with O(passwords_as=secure_vault), which needs it, and V(false) otherwise.
    type: bool
  siddhi_http_extensions:
    description:
      - Also write C(siddhi > extensions) overrides for the Siddhi C(http) source (keystore) and sink (keystore
        and truststore), whose built-in defaults are the shipped stores and password.
      - Needs O(keystore) and O(truststore).
    type: bool
    default: false
  passwords_as:
    description:
      - V(plain) writes the passwords as quoted literals.
      - "V(secure_vault) writes C(${sec:ALIAS}) references instead, with the aliases C(wso2si.keystore.password)
        and C(wso2si.truststore.password) (returned in RV(secret_aliases)), and writes those two entries to the
        secrets file that C(wso2.securevault) names, encrypted with O(secure_vault) (RSA PKCS#1 v1.5, as SI's
        cipher tool does). Writing both in one task, under one lock, means C(deployment.yaml) never names an alias
        the secrets file lacks; an unknown alias would silently become an empty password in SI.
        Other secrets, and C(master-keys.yaml), are M(wso2si.keystores.si_secret)'s job."
      - "C(carbon.sh) cannot resolve C(${sec:}). With V(secure_vault) its two store path lines point at the new
        stores, and its two password lines are set to empty values: a password there would sit in clear text in
        the launcher and in the process list (C(/proc/PID/cmdline)). C(ssl.configs), written with C(${sec:}), makes
        SI set C(javax.net.ssl.*) with the real passwords at start (so V(secure_vault) forces O(ssl_configs)), and
        the JDK reads a JKS truststore's certificates without a password."
      - "Passwords must then survive SI's unquoted paste into the YAML text, judged by the rules of SI's YAML
        parser, SnakeYAML 2.2 (C(0123) would become 83, C(yes) true, C(12345e6) 1.2345E10, C(#) a comment): use
        C([A-Za-z0-9._-]) starting with a letter. Non-ASCII passwords are refused: SI would read them back from the
        vault with a NUL appended per extra UTF-8 byte."
    type: str
    choices: [plain, secure_vault]
    default: plain
  validate:
    description:
      - Before anything is written, every store the new configuration names must exist and open with its password
        (catching a typo such as C(wos2carbon) before a restart), the keystore must hold exactly one key entry
        whose key password is the store password, a certificate chain inside its validity period (see
        O(allow_expired)) and a key of at least RSA 2048 or EC 256 bits (see O(allow_weak_keys)), and the vault key
        must be an RSA key that its password unlocks.
        A store whose password is a C(${sec:}) reference this task cannot decrypt must at least exist.
      - Every file SI opens at start (C(deployment.yaml), every store it names, the secure vault keystore, the
        secrets file and C(master-keys.yaml)) must be readable by O(si_user), judged from owner, group, mode,
        POSIX ACL and the search permission of every directory on the way (with C(os.access) when the task runs
        as that user). A task run as root would otherwise not notice a store SI cannot read, and SI would not start.
      - The new C(deployment.yaml) is always parsed and checked to hold exactly the wanted values, whatever this
        option says. Any failure writes nothing.
    type: bool
    default: true
  si_user:
    description:
      - The user SI runs as, by name or uid, for the read-access check of O(validate) and O(state=audit).
      - Default is the owner of O(si_home).
    type: str
  state:
    description:
      - V(present) rewires the configuration.
      - V(audit) changes nothing and returns RV(findings) and RV(secure). It opens the stores with the passwords the
        configuration holds (decrypting C(${sec:}) values with the vault, whose passwords come from O(secure_vault)
        or C(master-keys.yaml)), with the passwords given in O(keystore), O(truststore) and O(secure_vault), and with
        the shipped password.
    type: str
    choices: [present, audit]
    default: present
requirements:
  # Keep in sync with plugins/module_utils/deps.py, si_configuration.py and requirements.txt.
  - cryptography >= 41.0.0 on the managed host
  - pyjks >= 20.0.0 on the managed host
  - PyYAML >= 5.1 on the managed host (the structure walk and the parse check of the result)
notes:
  - One task holds an exclusive lock on the directories of the files it writes (C(deployment.yaml) and the
    secrets file share C(conf/server)), so si_config and si_secret running on one SI home never lose each other's
    changes. Writes are atomic; a new secrets file is created C(0600), owned like its directory.
  - Restart SI for the changes to take effect.
attributes:
  check_mode:
    support: full
    description: Check mode predicts exactly what a real run does, including validation.
  diff_mode:
    support: full
    description: One diff per changed file; every password value is masked.
  idempotent:
    support: full
    description: Judged by the parsed values, and by decrypting existing secrets, never by ciphertext.
seealso:
  - module: wso2si.keystores.si_secret
  - module: wso2si.keystores.si_truststore
'''

EXAMPLES = r'''
- name: Point SI at its own keystore and truststore
  wso2si.keystores.si_config:
    si_home: /opt/wso2si-4.3.0
    keystore:
      path: /opt/wso2si-4.3.0/resources/security/si-tls.jks
      password: "{{ vault_si_keystore_password }}"
    truststore:
      path: /opt/wso2si-4.3.0/resources/security/si-trust.jks
      password: "{{ vault_si_truststore_password }}"
    ssl_configs: true
    siddhi_http_extensions: true
  notify: Restart SI

- name: The same with the passwords in SI's secure vault
  wso2si.keystores.si_config:
    si_home: /opt/wso2si-4.3.0
    keystore:
      path: /opt/wso2si-4.3.0/resources/security/si-tls.jks
      password: "{{ vault_si_keystore_password }}"
    truststore:
      path: /opt/wso2si-4.3.0/resources/security/si-trust.jks
      password: "{{ vault_si_truststore_password }}"
    secure_vault:
      keystore_path: /opt/wso2si-4.3.0/resources/security/si-vault.jks
      key_alias: si-vault
      password: "{{ vault_si_vault_password }}"
    passwords_as: secure_vault
    siddhi_http_extensions: true
  notify: Restart SI

- name: Let SI open the new vault at start
  wso2si.keystores.si_secret:
    si_home: /opt/wso2si-4.3.0
    vault_keystore_password: "{{ vault_si_vault_password }}"
    master_keys: true

- name: Is anything still on the shipped defaults?
  wso2si.keystores.si_config:
    si_home: /opt/wso2si-4.3.0
    state: audit
  register: si_audit

- name: Fail when it is
  ansible.builtin.assert:
    that: si_audit.secure
    fail_msg: "{{ si_audit.findings | map(attribute='detail') | list }}"
'''

RETURN = r'''
changed_locations:
  description: One item per location changed (or, in check mode, to be changed).
  returned: state=present
  type: list
  elements: dict
  contains:
    location:
      description: The location, as C(a > b[key=value] > c), C(carbon.sh -Djavax.net.ssl.*) or C(secrets file).
      type: str
    file:
      description: The file it is in.
      type: str
    keys:
      description: The keys (or launcher properties, or secret aliases) changed there.
      type: list
      elements: str
  sample:
    - location: wso2.transport.http > listenerConfigurations[id=msf4j-https]
      file: /opt/wso2si-4.3.0/conf/server/deployment.yaml
      keys: [keyStoreFile, keyStorePassword, certPass]
secret_aliases:
  description: With O(passwords_as=secure_vault), the secure vault alias written for each password.
  returned: state=present and passwords_as=secure_vault
  type: dict
  sample: {keystore_password: wso2si.keystore.password, truststore_password: wso2si.truststore.password}
https_ports:
  description:
    - The ports of the HTTPS listeners of the resulting C(deployment.yaml) (C(wso2.transport.http) and
      C(siddhi.stores.query.api) listener configurations with scheme C(https)), with C(wso2.carbon > ports.offset)
      added.
    - The ports to check with M(wso2si.keystores.si_tls_check). Ports given as placeholders are left out.
  returned: state=present
  type: list
  elements: int
  sample: [9443, 7443]
profile:
  description: The SI profile the configuration belongs to, told apart by content.
  returned: always
  type: str
  sample: server
secrets_file:
  description: The secrets file the configuration names.
  returned: state=audit, or passwords_as=secure_vault
  type: str
  sample: /opt/wso2si-4.3.0/conf/server/secrets.properties
backup_files:
  description: The backups made, by file.
  returned: changed and O(backup=true)
  type: dict
  sample: {/opt/wso2si-4.3.0/conf/server/deployment.yaml: /opt/wso2si-4.3.0/conf/server/deployment.yaml.2403.2026-11-27@13:45:01~}
findings:
  description:
    - Every reference still on the shipped defaults, and every problem that keeps the audit from proving otherwise.
    - "C(kind) is one of: C(default_store_file) (names wso2carbon.jks, client-truststore.jks or securevault.jks),
      C(default_password) (the password, or a store's real password, is C(wso2carbon)), C(shipped_key) (a store holds
      a shipped WSO2 key), C(trusts_shipped_certificate), C(missing_secret_alias) (a C(${sec:}) alias the secrets file
      lacks), C(implicit_default) (no Siddhi http override, so its shipped defaults apply), C(missing_store),
      C(unverified_store) (no known password opens it), C(missing_location), C(missing_launcher), C(shadowing_key),
      C(undecryptable_secret) (a C(${sec:}) alias whose entry the configured vault key does not decrypt, for example
      one encrypted with a previous key: SI reads it as an empty string), C(unverified_secret) (no known password
      unlocks the vault key, so the entry was not checked),
      C(unreadable_by_si) (a file SI opens at start that O(si_user) cannot read; its C(file) is that file)."
  returned: state=audit
  type: list
  elements: dict
  contains:
    kind:
      description: What was found.
      type: str
    file:
      description: The file holding the reference.
      type: str
    location:
      description: The location in it.
      type: str
    key:
      description: The key or launcher property, when there is one.
      type: str
    detail:
      description: One sentence; never a secret.
      type: str
  sample:
    - kind: default_store_file
      file: /opt/wso2si-4.3.0/conf/server/deployment.yaml
      location: databridge.config
      key: keyStoreLocation
      detail: names the shipped wso2carbon.jks
secure:
  description: True when the audit found nothing.
  returned: state=audit
  type: bool
  sample: false
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import access
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import config_files as cf
from ansible_collections.wso2si.keystores.plugins.module_utils import launcher as carbon_sh
from ansible_collections.wso2si.keystores.plugins.module_utils import masking
from ansible_collections.wso2si.keystores.plugins.module_utils import si_audit as sa
from ansible_collections.wso2si.keystores.plugins.module_utils import si_deployment as sd
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as sl
from ansible_collections.wso2si.keystores.plugins.module_utils import yaml_text as yt
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError, InvalidInputError, KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file, remove_stale_temporaries
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import detect_type
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run, warn_on_default_password

SECRETS_MODE = 0o600


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


def secrets_path_of(text, paths):
    """The secrets file deployment.yaml names (SI's default when it cannot be resolved)."""
    try:
        values = yt.DeploymentConfig.parse(text, paths.deployment).values(sl.location('securevault')) or {}
    except ConfigError:
        values = {}
    return sl.resolve_config_path(values.get('secretPropertiesFile'), paths.si_home) or \
        os.path.join(paths.si_home, 'conf', 'server', 'secrets.properties')


def read_text(path, what):
    data = read_file(path, what=what)
    if data is None:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise ConfigError('%s is not UTF-8 text' % what) from exc


def check_options(module):
    p = module.params
    if p['state'] == 'audit':
        return
    if not (p['keystore'] or p['truststore'] or p['secure_vault']):
        raise InvalidInputError('state=present needs keystore, truststore or secure_vault')
    vault_mode = p['passwords_as'] == 'secure_vault'
    if vault_mode and not p['secure_vault']:
        raise InvalidInputError('passwords_as=secure_vault needs secure_vault: the vault whose key encrypts the passwords')
    if vault_mode and not (p['keystore'] or p['truststore']):
        raise InvalidInputError('passwords_as=secure_vault needs keystore or truststore: the passwords to keep in the vault')
    if vault_mode and p['ssl_configs'] is False:
        raise InvalidInputError('passwords_as=secure_vault needs ssl_configs: carbon.sh cannot resolve ${sec:}, so SI '
                                'must set javax.net.ssl.* from ssl.configs at start')
    if (ssl_configs_wanted(p) or p['siddhi_http_extensions']) and not (p['keystore'] and p['truststore']):
        raise InvalidInputError('ssl_configs and siddhi_http_extensions need both keystore and truststore')
    for name in ('keystore', 'truststore'):
        if p[name]:
            sd.check_config_password(p[name]['password'], 'the %s password' % name)
            warn_on_default_password(module, p[name]['password'], 'the %s password' % name)
            if vault_mode:
                sv.check_secret_value('%s password' % name, p[name]['password'])
                if set(p[name]['password']) & set('\'"\\'):
                    raise InvalidInputError('the %s password contains a quote or backslash, which SI\'s unquoted paste '
                                            'of ${sec:} values into deployment.yaml would break' % name)
    if p['secure_vault']:
        sv.check_vault_password(p['secure_vault']['password'], 'the secure vault password')
        if p['secure_vault']['key_password'] is not None:
            sv.check_vault_password(p['secure_vault']['key_password'], 'the secure vault key password')
        warn_on_default_password(module, p['secure_vault']['password'], 'the secure vault password')


def ssl_configs_wanted(p):
    if p['ssl_configs'] is None:
        return p['passwords_as'] == 'secure_vault'
    return p['ssl_configs']


def settings_of(p):
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


def ensure(module):
    p = module.params
    check_options(module)
    paths = Paths(p)
    if p['state'] == 'audit':
        return audit(module, paths)
    current = read_text(paths.deployment, 'the configuration %s' % paths.deployment)
    if current is None:
        raise ConfigError('the configuration %s does not exist' % paths.deployment)
    # with a vault, the secrets file too: its entries move to the vault's key (re-encrypted) under this lock
    secrets_path = secrets_path_of(current, paths) if p['secure_vault'] else None
    files = [paths.deployment, paths.launcher, secrets_path]
    for f in files:
        if f:
            remove_stale_temporaries(f)
    with cf.locked_all(files):
        text = read_text(paths.deployment, 'the configuration %s' % paths.deployment)
        if text is None:
            raise ConfigError('the configuration %s does not exist' % paths.deployment)
        if secrets_path is not None and secrets_path_of(text, paths) != secrets_path:
            raise ConfigError('%s changed while this task ran; run it again' % paths.deployment)
        return present(module, paths, text, secrets_path)


def present(module, paths, text, secrets_path):
    p = module.params
    settings = settings_of(p)
    doc = yt.DeploymentConfig.parse(text, paths.deployment)
    for key in sl.SHADOWING_KEYS:
        if key in doc.top_keys():
            module.warn('%s has a top-level %r key, which SI prefers over the namespace this module edits; remove it '
                        'or the changes will not take effect' % (paths.deployment, key))
    plan = sd.plan_deployment(text, settings, paths.si_home, ssl_configs=ssl_configs_wanted(p),
                              siddhi_http=p['siddhi_http_extensions'], what=paths.deployment)
    changes = [c.as_dict() for c in plan.changes]

    launcher_before = launcher_after = None
    if paths.launcher:
        launcher_before = read_text(paths.launcher, 'the launcher %s' % paths.launcher)
        if launcher_before is None:
            raise ConfigError('the launcher %s does not exist (set launcher to an empty string to skip it); nothing '
                              'was changed' % paths.launcher)
        launcher_after, props = carbon_sh.plan_launcher(launcher_before, settings, paths.si_home, what=paths.launcher)
        if props:
            changes.append({'location': sl.LAUNCHER_LABEL, 'file': paths.launcher, 'keys': props})

    vault = None
    if p['secure_vault']:
        sv_p = p['secure_vault']
        vault = sv.open_vault(settings['vault_path'], sv_p['password'], sv_p['key_alias'], sv_p['key_password'],
                              what='the secure vault keystore %s' % settings['vault_path'])
        if sa.is_shipped_certificate(vault.certificate):
            module.warn('the secure vault key is the shipped WSO2 key, which everyone has: secrets it encrypts are '
                        'not protected')

    secrets_before = secrets_after = None
    if vault is not None:
        vault_mode = p['passwords_as'] == 'secure_vault'
        existing = read_text(secrets_path, 'the secrets file %s' % secrets_path)
        secrets = sv.SecretsFile(existing or '')
        wanted = {}
        if vault_mode:
            wanted = dict((pw.alias, pw.value) for pw in (settings.get('keystore_password'),
                                                          settings.get('truststore_password')) if pw is not None)
        moved = move_secrets(module, paths, text, secrets, vault, secrets_path, skip=wanted)
        changed_aliases = moved + sv.ensure_secrets(secrets, vault, wanted)
        secrets_before, secrets_after = existing, secrets.dumps()
        if changed_aliases or (vault_mode and (existing is None or cf.mode_differs(secrets_path, SECRETS_MODE))):
            changes.insert(0, {'location': 'secrets file', 'file': secrets_path, 'keys': changed_aliases})
        elif not vault_mode:
            secrets_after = None  # literal passwords and nothing to move: the secrets file is left alone

    if p['validate']:
        validate(module, paths, plan.after, settings, vault, secrets_after, secrets_path)

    result = dict(changed=bool(changes), changed_locations=changes, profile=plan.profile,
                  https_ports=sd.https_ports(plan.after_data))
    if p['passwords_as'] == 'secure_vault':
        result['secret_aliases'] = dict((role, sl.SECRET_ALIASES[role]) for role in sl.PASSWORD_ROLES
                                        if settings.get(role) is not None)
        result['secrets_file'] = secrets_path
    known = [x for x in ((p['keystore'] or {}).get('password'), (p['truststore'] or {}).get('password')) if x]
    if module._diff:
        diffs = []
        if plan.changed:
            before, after = masking.mask_deployment(plan.before, plan.after, known)
            diffs.append(dict(before_header=paths.deployment, after_header=paths.deployment, before=before, after=after))
        if launcher_after is not None and launcher_after != launcher_before:
            before, after = masking.mask_launcher(launcher_before, launcher_after, known)
            diffs.append(dict(before_header=paths.launcher, after_header=paths.launcher, before=before, after=after))
        if secrets_after is not None and secrets_after != (secrets_before or ''):
            diffs.append(dict(before_header=secrets_path, after_header=secrets_path,
                              before=masking.mask_properties(secrets_before or ''), after=masking.mask_properties(secrets_after)))
        result['diff'] = diffs
    if changes and not module.check_mode:
        writes = []
        # the secrets first: deployment.yaml never names an alias the secrets file lacks; one change: every file
        # is checked writable first, and a later failure puts the earlier files back (fileio.WriteSet)
        if secrets_after is not None and (secrets_after != (secrets_before or '') or secrets_before is None
                                          or cf.mode_differs(secrets_path, SECRETS_MODE)):
            writes.append(dict(path=secrets_path, data=secrets_after.encode('utf-8'), mode=SECRETS_MODE,
                               backup=p['backup'], enforce_mode=True))
        if plan.changed:
            writes.append(dict(path=paths.deployment, data=plan.after.encode('utf-8'), backup=p['backup']))
        if launcher_after is not None and launcher_after != launcher_before:
            writes.append(dict(path=paths.launcher, data=launcher_after.encode('utf-8'), backup=p['backup']))
        backups = dict((k, v) for k, v in cf.write_files(writes).items() if v)
        if backups:
            result['backup_files'] = backups
    return result


def previous_vault(module, paths, text):
    """The vault key the current deployment.yaml names, opened with the master keys
    file's passwords, the new vault's or the shipped one; None when none opens it.
    Returns (key or None, path, alias)."""
    doc = yt.DeploymentConfig.parse(text, paths.deployment)
    values = doc.values(sl.location('securevault')) or {}
    master_values = doc.values(sl.location('master_key_reader')) or {}
    path = sl.resolve_config_path(values.get('keystoreLocation'), paths.si_home) if values.get('keystoreLocation') \
        else os.path.join(paths.si_home, 'resources', 'security', 'securevault.jks')
    alias = values.get('privateKeyAlias') or sl.DEFAULT_PASSWORD
    master_path = sl.resolve_config_path(master_values.get('masterKeyReaderFile'), paths.si_home) or \
        os.path.join(paths.si_home, 'conf', 'server', 'master-keys.yaml')
    master = sv.read_master_keys(master_path) or {}
    new = module.params['secure_vault']
    if path is None:
        return None, values.get('keystoreLocation'), alias
    store_pws = [master.get('keyStorePassword'), new['password'], sl.DEFAULT_PASSWORD]
    key_pws = [master.get('privateKeyPassword'), master.get('keyStorePassword'), new['key_password'], new['password'],
               sl.DEFAULT_PASSWORD]
    return sv.open_previous_vault(path, alias, store_pws, key_pws), path, alias


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


def validate(module, paths, new_text, settings, vault, secrets_text, secrets_path):
    """Every store the new configuration names exists and opens with its password;
    the TLS keystore holds one key entry keyed with the store password."""
    doc = yt.DeploymentConfig.parse(new_text, paths.deployment)
    opener = sa.StoreOpener()
    secrets = sv.SecretsFile(secrets_text) if secrets_text is not None else \
        sv.read_secrets_file(sl.resolve_config_path((doc.values(sl.location('securevault')) or {}).get('secretPropertiesFile'),
                                                    paths.si_home) or '/nonexistent')
    ours = dict((pw.text, pw.value) for pw in (settings.get('keystore_password'), settings.get('truststore_password'))
                if pw is not None)
    checked = {}
    try:
        for loc in sl.locations_for(sd.profile_of(doc), doc) + sl.OPTIONAL_LOCATIONS:
            values = doc.values(loc)
            if not values:
                continue
            for path_key, role in loc.keys:
                if role not in ('keystore_path', 'truststore_path') or path_key not in values:
                    continue
                kind = sl.STORE_OF_ROLE[role]
                path = sl.resolve_config_path(values[path_key], paths.si_home)
                if path is None:
                    module.warn('%s > %s holds a placeholder this module cannot resolve; not checked'
                                % (loc.label, path_key))
                    continue
                for pw_key, pw_role in loc.keys:
                    if pw_role != kind + '_password' or pw_key not in values:
                        continue
                    text = values[pw_key]
                    password = ours.get(text, text)
                    if text.startswith('${sec:') and text not in ours:
                        password = sv.plaintext_of(secrets, text[6:-1], vault) if secrets is not None else None
                    what = 'the %s %s (%s > %s)' % (kind, path, loc.label, path_key)
                    if (path, password, kind) in checked:
                        continue
                    checked[(path, password, kind)] = True
                    if password is None:
                        if read_file(path, what=what) is None:
                            raise ConfigError('%s does not exist' % what)
                        module.warn('%s could not be opened: its password %s cannot be decrypted here' % (what, text))
                        continue
                    store = opener.open(path, password, what)
                    if kind == 'keystore':
                        entry = sa.check_tls_keystore(store, password, what)
                        # SI would be restarted serving it: out-of-date or weak material is refused here
                        certs.check_key_strength(entry.certificate.public_key(), what,
                                                 module.params['allow_weak_keys'], module.warn)
                        certs.check_validity(entry.chain, what, module.params['allow_expired'], module.warn)
                    if detect_type(read_file(path)) == 'pkcs12':
                        module.warn('%s is PKCS#12; SI opens stores as JKS, which Java 8u60+ reads from PKCS#12 '
                                    'too, but JKS is the zero-risk choice' % what)
        if paths.launcher:
            for prop, role in sl.LAUNCHER_PROPS:
                if role in sl.PATH_ROLES and settings.get(role):
                    if read_file(settings[role], what='the %s %s' % (sl.STORE_OF_ROLE[role], settings[role])) is None:
                        raise ConfigError('the %s %s does not exist' % (sl.STORE_OF_ROLE[role], settings[role]))
        if settings.get('keystore_path') and settings.get('truststore_path'):
            warn_if_untrusted(module, opener, settings)
    except KeystoreError as exc:
        raise ConfigError('validation failed: %s; nothing was changed' % str(exc).rstrip('.')) from exc
    user = si_user_of(module.params, paths)
    new_files = {}
    if secrets_text is not None and secrets_path and not os.path.exists(secrets_path):
        new_files[secrets_path] = access.new_file_owner(secrets_path, SECRETS_MODE)
    for path, what, reason in access.startup_access_problems(doc, paths.si_home, paths.deployment, user, new_files):
        raise ConfigError('validation failed: %s; nothing was changed' % access.problem_sentence(user, path, what, reason))


def si_user_of(p, paths):
    """The user SI runs as: si_user, or the owner of si_home."""
    return access.lookup_user(p['si_user']) if p['si_user'] else access.owner_of(paths.si_home)


def warn_if_untrusted(module, opener, settings):
    keystore = opener.open(settings['keystore_path'], settings['keystore_password'].value, 'the keystore')
    truststore = opener.open(settings['truststore_path'], settings['truststore_password'].value, 'the truststore')
    trusted = set(e.fingerprint() for e in truststore.trusted_entries())
    entry = keystore.key_entries()[0]
    if not trusted & set(certs.fingerprint(c) for c in entry.chain):
        module.warn('the truststore trusts neither the keystore\'s certificate nor its issuers: SI\'s own data agents '
                    'that connect to this server will not trust it')


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


def main():
    store = dict(type='dict', no_log=False, options=dict(
        path=dict(type='path', required=True),
        password=dict(type='str', required=True, no_log=True),
    ))
    argument_spec = dict(
        si_home=dict(type='path', required=True),
        deployment_yaml=dict(type='path'),
        launcher=dict(type='path'),
        keystore=store,
        truststore=dict(store),
        secure_vault=dict(type='dict', no_log=False, options=dict(
            keystore_path=dict(type='path', required=True),
            key_alias=dict(type='str', required=True, no_log=False),
            password=dict(type='str', required=True, no_log=True),
            key_password=dict(type='str', no_log=True),
        )),
        ssl_configs=dict(type='bool'),
        siddhi_http_extensions=dict(type='bool', default=False),
        passwords_as=dict(type='str', choices=['plain', 'secure_vault'], default='plain'),
        validate=dict(type='bool', default=True),
        allow_expired=dict(type='bool', default=False),
        allow_weak_keys=dict(type='bool', default=False),
        si_user=dict(type='str'),
        backup=dict(type='bool', default=False),
        state=dict(type='str', choices=['present', 'audit'], default='present'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    yt.check_yaml_dependency(module)
    run(module, ensure)


if __name__ == '__main__':
    main()
