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
  # Keep in sync with plugins/module_utils/deps.py, yaml_text.py and requirements.txt.
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_config import ensure
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import check_yaml_dependency


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
    check_yaml_dependency(module)
    run(module, ensure)


if __name__ == '__main__':
    main()
