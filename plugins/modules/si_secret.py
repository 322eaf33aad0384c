#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_secret
short_description: Manage encrypted secrets in WSO2 Streaming Integrator's secure vault
version_added: 0.1.0
description:
  - Ensures entries C(alias=cipherText BASE64) in SI's C(secrets.properties), which C(deployment.yaml) references as
    C(${sec:alias}).
  - A value is encrypted with RSA PKCS#1 v1.5 and the public key of the certificate under the vault key alias,
    then base64 encoded, exactly what SI's own cipher tool writes and SI decrypts with Java's
    RSA cipher (C(Cipher.getInstance) with the transformation C(RSA)). SI's cipher tool refuses to run on JDK > 11; this module needs no JVM.
  - The encryption is randomised, so an existing entry is decrypted with the vault's private key and rewritten
    only when its value differs (or it is a C(plainText) entry). Other lines and comments are kept.
  - "Refuses, naming the alias but never the value: an empty value, a value with a space (SI splits the entry on
    a space), a value longer than the vault key can encrypt (keysize/8 - 11 bytes, 245 for RSA 2048; SI would
    silently read it as empty), and a value that would not read back as itself once SI pastes it unquoted into
    deployment.yaml, judged by the rules of SI's YAML parser, SnakeYAML 2.2 (C(0123) becomes 83, C(yes) becomes
    true, C(1e3) becomes 1000.0, C(._5) becomes 0.5, C(#) starts a comment, C(${) starts a placeholder).
    Use C([A-Za-z0-9._-]), starting with a letter."
  - "Also refused: a non-ASCII value or one with a control character (NUL among them). SI decodes a decrypted secret
    byte by byte, so every extra UTF-8 byte comes back as an appended NUL; a NUL pasted into deployment.yaml makes
    SnakeYAML refuse the whole namespace."
  - "Refuses to add or change an entry in a secrets file that holds C(cipherText) entries the vault key does not
    decrypt, naming their aliases: they belong to another key, and SI reads them as empty strings. Remove them
    (O(state=absent)), or let M(wso2si.keystores.si_config) move them when it moves SI from their key to this one.
    When nothing would be written, the same finding is a warning."
  - "Division of labour with M(wso2si.keystores.si_config): with O(wso2si.keystores.si_config#module:passwords_as=secure_vault),
    si_config writes the two store-password entries it references (C(wso2si.keystore.password),
    C(wso2si.truststore.password)) itself, through the same helpers and under the same lock, so deployment.yaml
    never names a missing alias. This module is for every other secret, and for C(master-keys.yaml)."
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store.BACKUP
options:
  si_home:
    description:
      - The SI installation directory. Its C(conf/server/deployment.yaml) (C(wso2.securevault)) gives the defaults
        of O(secrets_file), O(vault_keystore_path), O(vault_key_alias) and O(master_keys_file), with SI's own
        defaults when the file does not exist.
      - Give either this or O(secrets_file) (with O(vault_keystore_path) and O(vault_key_alias) for O(state=present)).
    type: path
  secrets_file:
    description: The secrets file. Default, the C(secretPropertiesFile) that deployment.yaml names.
    type: path
  vault_keystore_path:
    description: The vault keystore. Default, the C(keystoreLocation) that deployment.yaml names.
    type: path
  vault_keystore_password:
    description:
      - The vault keystore's store password.
      - Default, the C(keyStorePassword) in the master keys file, which SI reads too.
    type: str
  vault_key_alias:
    description: The alias of the vault's RSA key entry. Default, the C(privateKeyAlias) that deployment.yaml names.
    type: str
  vault_key_password:
    description:
      - The vault key entry's password, needed to decrypt existing entries (idempotence).
      - Default, the master keys file's C(privateKeyPassword) when the store password came from it, else
        O(vault_keystore_password).
    type: str
  secrets:
    description:
      - The secrets. With O(state=absent) only O(secrets[].alias) is used.
    type: list
    elements: dict
    default: []
    suboptions:
      alias:
        description:
          - The alias, as used in C(${sec:alias}). Letters, digits, C(.), C(_) and C(-).
        type: str
        required: true
      value:
        description: The secret. Never logged. Required with O(state=present).
        type: str
  state:
    description:
      - V(present) ensures the entries; V(absent) removes the entries with these aliases.
    type: str
    choices: [present, absent]
    default: present
  master_keys:
    description:
      - Also write the master keys file with C(permanent true) (so SI does not delete it after reading), mode
        C(0600), holding the vault's store and key passwords as C(!!binary) base64, so SI can open the vault at start
        without a prompt or environment variables.
      - The two passwords must then be ASCII without control characters; SI reads them byte by byte, so a non-ASCII
        password gains a NUL per extra UTF-8 byte and the vault does not open. Others are refused.
    type: bool
    default: false
  master_keys_file:
    description: The master keys file. Default, the C(masterKeyReaderFile) that deployment.yaml names.
    type: path
requirements:
  # Keep in sync with plugins/module_utils/deps.py, yaml_text.py and requirements.txt.
  - cryptography >= 41.0.0 on the managed host
  - pyjks >= 20.0.0 on the managed host
  - PyYAML >= 5.1 on the managed host (reading deployment.yaml and master-keys.yaml, and the paste check of values)
notes:
  - The secrets file and the master keys file are written atomically and are never readable by others. A new file
    is C(0600) and owned like its directory; an existing file keeps its owner and the group's read access it had on
    purpose (C(0640)); one that SI's user could read only as others is refused (see C(docs/files.md)).
  - The task holds an exclusive lock on their directories, the same lock M(wso2si.keystores.si_config) takes, so
    the two modules never lose each other's changes on one SI home.
  - A vault that still holds the shipped WSO2 key protects nothing; the module warns about it.
attributes:
  check_mode:
    support: full
    description: Check mode predicts exactly what a real run does.
  diff_mode:
    support: full
    description: The diff shows which aliases change; values and ciphertexts are masked.
  idempotent:
    support: full
    description: Judged by decrypting existing entries, never by comparing ciphertexts.
seealso:
  - module: wso2si.keystores.si_config
'''

EXAMPLES = r'''
- name: Keep SI's datasource password in the secure vault
  wso2si.keystores.si_secret:
    si_home: /opt/wso2si-4.3.0
    vault_keystore_password: "{{ vault_si_vault_password }}"
    secrets:
      - alias: wso2.datasource.password
        value: "{{ vault_si_db_password }}"

- name: Write master-keys.yaml so SI opens the vault at start
  wso2si.keystores.si_secret:
    si_home: /opt/wso2si-4.3.0
    vault_keystore_password: "{{ vault_si_vault_password }}"
    master_keys: true

- name: Explicit files, outside an SI home
  wso2si.keystores.si_secret:
    secrets_file: /etc/wso2si/secrets.properties
    vault_keystore_path: /etc/wso2si/vault.jks
    vault_key_alias: si-vault
    vault_keystore_password: "{{ vault_si_vault_password }}"
    secrets:
      - alias: kafka.sasl.password
        value: "{{ vault_kafka_password }}"

- name: Drop the sample entries SI ships
  wso2si.keystores.si_secret:
    si_home: /opt/wso2si-4.3.0
    state: absent
    secrets:
      - alias: wso2.sample.password1
      - alias: wso2.sample.password2
'''

RETURN = r'''
changed_aliases:
  description: Aliases written (added, or whose value differed or was plainText).
  returned: always
  type: list
  elements: str
  sample: [wso2.datasource.password]
removed:
  description: Aliases removed.
  returned: always
  type: list
  elements: str
  sample: []
secrets_file:
  description: The secrets file.
  returned: always
  type: str
  sample: /opt/wso2si-4.3.0/conf/server/secrets.properties
master_keys_file:
  description: The master keys file.
  returned: O(master_keys=true)
  type: str
  sample: /opt/wso2si-4.3.0/conf/server/master-keys.yaml
vault_key_sha256:
  description: The SHA-256 fingerprint of the vault key's certificate.
  returned: when the vault was opened
  type: str
  sample: 3C:1F:...:9A
backup_files:
  description: The backups made, by file.
  returned: changed and O(backup=true)
  type: dict
  sample: {}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_secret import ensure
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import check_yaml_dependency


def main():
    argument_spec = dict(
        si_home=dict(type='path'),
        secrets_file=dict(type='path'),
        vault_keystore_path=dict(type='path'),
        vault_keystore_password=dict(type='str', no_log=True),
        vault_key_alias=dict(type='str', no_log=False),
        vault_key_password=dict(type='str', no_log=True),
        secrets=dict(type='list', elements='dict', default=[], no_log=False, options=dict(
            alias=dict(type='str', required=True, no_log=False),
            value=dict(type='str', no_log=True),
        )),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        master_keys=dict(type='bool', default=False),
        master_keys_file=dict(type='path'),
        backup=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[('si_home', 'secrets_file')])
    check_yaml_dependency(module)
    run(module, ensure)


if __name__ == '__main__':
    main()
