# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Options of every module that opens a store.
    # Each fragment here has its argument-spec twin in plugins/module_utils/argspec.py, named alike
    # (DOCUMENTATION: store(), OLD_PASSWORD: store_old_password(), ...): change both together.
    DOCUMENTATION = r'''
options:
  path:
    description:
      - Path of the keystore on the managed host.
      - The store type is read from the file's content, never from its name.
    type: path
    required: true
  password:
    description:
      - The store password. At least 6 characters, as Java requires.
      - Never logged and never passed on a command line.
    type: str
    required: true
  store_type:
    description:
      - C(jks) or C(pkcs12).
      - Default is the existing file's type; for a new file, C(pkcs12) when O(path) ends in C(.p12) or C(.pfx),
        C(jks) otherwise.
      - When it differs from the existing file's type, the store is converted and every entry kept, as
        C(keytool -importkeystore) does (in PKCS#12 every key is protected by the store password); an entry
        the new type cannot hold (a PKCS#12 secret key, in JKS) is refused by alias, and nothing is written.
      - SI opens its stores as JKS; JKS is the safest choice for SI.
    type: str
    choices: [jks, pkcs12]
requirements:
  # Keep in sync with plugins/module_utils/deps.py and requirements.txt.
  - cryptography >= 41.0.0 on the managed host
  - pyjks >= 20.0.0 on the managed host (with pyasn1 and pyasn1-modules, which it brings, for PKCS#12 stores)
notes:
  - No JVM or keytool is needed on the managed host.
  - A whole read-modify-write of a store holds an exclusive lock on its directory,
    so parallel tasks on one host never lose each other's entries.
  - Writes are atomic (a temporary file in the same directory, renamed over the old one).
'''

    # Change the store password.
    OLD_PASSWORD = r'''
options:
  old_password:
    description:
      - The current store password, when it is to be changed to O(password).
      - Used only when the store does not open with O(password). The store, and every key entry
        whose password was the old store password, is then protected with O(password), keeping every entry.
    type: str
'''

    # A key entry's own password. A module may document it its own way (its option replaces this one).
    KEY_PASSWORD = r'''
options:
  key_password:
    description:
      - The password of the key entry, when it differs from the store password.
      - Defaults to O(password). PKCS#12 stores have no separate key password.
    type: str
'''

    # Backups.
    BACKUP = r'''
options:
  backup:
    description:
      - Keep a timestamped copy of the file beside it before changing it.
    type: bool
    default: false
'''

    # The shipped WSO2 password and keys. Keep in sync with plugins/module_utils/store_file.py
    # (warn_on_default_password, warn_on_shipped_keys) and plugins/module_utils/defaults.py.
    STRICT_DEFAULTS = r'''
options:
  strict_defaults:
    description:
      - What to do when the store password is the shipped WSO2 password C(wso2carbon), or when the store, as the
        task leaves it, holds a shipped WSO2 key entry or trusts a shipped WSO2 certificate (every SI download
        contains their private keys).
      - V(false) warns loudly and goes on; V(true) fails the task before anything is written.
    type: bool
    default: false
'''

    ATTRIBUTES = r'''
attributes:
  check_mode:
    support: full
    description: Check mode predicts exactly what a real run does.
  diff_mode:
    support: full
    description: The diff lists aliases, kinds, subjects, fingerprints and expiry dates, never a secret.
  idempotent:
    support: full
    description: Judged by content (aliases, fingerprints, keys), never by file bytes.
'''
