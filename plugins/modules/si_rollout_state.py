#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_rollout_state
short_description: Record what a completed rollout left on an SI host, and tell whether the host is still so
version_added: 0.5.0
description:
  - With O(state=present), records in C(<si_home>/.rollout-state.json) (mode 0600) the digest of the caller's inputs
    (O(inputs_digest)), the SHA-256, owner, group and mode of every file whose content the rollout decides, and
    O(facts).
  - The files are the stores given (O(keystore), O(truststore), O(vault_keystore)), C(conf/server/deployment.yaml),
    C(wso2/server/bin/carbon.sh), the secure vault's secrets and master-keys files (where deployment.yaml names them)
    and SI's shipped stores in C(resources/security).
  - With O(state=check) (the default), changes nothing and returns RV(unchanged) - true when the record exists, the
    inputs digest and every one of those files are as recorded, each store opens with the password given, the key
    entries exist, and no renewal (O(renew_before_days)) or key rotation (O(key_max_age_days)) has come due - and,
    when it is false, the RV(reasons).
  - The role C(wso2si.keystores.rollout) records the host after every completed run and checks it first on the next
    one; an unchanged host then skips every step but the TLS check (docs/reruns.md).
  - Also returns whether O(si_home) is an SI home and who owns it (RV(si_home)), so that a caller reads the host once.
  - The record holds no password and no key, only digests.
author: wso2si.keystores contributors (@wso2si)
options:
  si_home:
    description: SI's home directory (C(carbon.home)).
    type: path
    required: true
  state:
    description:
      - V(check) reads the record and the host and tells whether the host is unchanged.
      - V(present) writes the record of the host as it is now.
    type: str
    choices: [check, present]
    default: check
  inputs_digest:
    description:
      - SHA-256 (lower-case hex) of everything the caller decided the host from, except secrets. A different digest
        means a changed host.
    type: str
    required: true
  keystore:
    description: The TLS keystore, opened with its password; its key entry's certificate is returned.
    type: dict
    required: true
    suboptions:
      path:
        description: Path of the keystore.
        type: path
        required: true
      password:
        description: Its store password.
        type: str
        required: true
      alias:
        description: Alias of the key entry.
        type: str
        required: true
  truststore:
    description: The client truststore, opened with its password. Without it, no truststore is checked or recorded.
    type: dict
    suboptions:
      path:
        description: Path of the truststore.
        type: path
        required: true
      password:
        description: Its store password.
        type: str
        required: true
  vault_keystore:
    description:
      - The secure vault's keystore, opened with its password; its key entry must exist and be unexpired.
      - Without it, no vault keystore is checked or recorded.
    type: dict
    suboptions:
      path:
        description: Path of the keystore.
        type: path
        required: true
      password:
        description: Its store password.
        type: str
        required: true
      alias:
        description: Alias of the vault's key entry.
        type: str
        required: true
  renew_before_days:
    description: The keystore's certificate has come due for renewal when it expires within this many days.
    type: int
    default: 0
  key_max_age_days:
    description: The keystore's key has come due for rotation at this age in days (its certificates tell it); 0 for never.
    type: int
    default: 0
  facts:
    description: With O(state=present), non-secret facts to keep in the record; O(state=check) returns them as RV(recorded).
    type: dict
    default: {}
  owner:
    description: Owner of the record file (by default, as for a new file of SI home).
    type: str
  group:
    description: Group of the record file.
    type: str
attributes:
  check_mode:
    support: full
    description: With O(state=present), check mode tells whether the record would change and writes nothing.
  diff_mode:
    support: none
    description: The record holds digests only; no diff is shown.
  idempotent:
    support: full
    description: The record holds no time of writing; the same host gives the same bytes.
seealso:
  - module: wso2si.keystores.si_report
'''

EXAMPLES = r'''
- name: Is the host as the last rollout left it?
  wso2si.keystores.si_rollout_state:
    si_home: /opt/wso2si
    inputs_digest: "{{ my_inputs | to_json(sort_keys=true) | hash('sha256') }}"
    keystore:
      path: /opt/wso2si/resources/security/si-tls.p12
      password: "{{ keystore_password }}"
      alias: si-tls
    renew_before_days: 30
  register: si_state

- name: Record it after a completed run
  wso2si.keystores.si_rollout_state:
    si_home: /opt/wso2si
    state: present
    inputs_digest: "{{ my_inputs | to_json(sort_keys=true) | hash('sha256') }}"
    keystore:
      path: /opt/wso2si/resources/security/si-tls.p12
      password: "{{ keystore_password }}"
      alias: si-tls
    facts:
      https_ports: [9443]
  when: not si_state.unchanged
'''

RETURN = r'''
unchanged:
  description: Whether the host is as recorded (see the module's description).
  returned: O(state=check)
  type: bool
  sample: true
reasons:
  description: Why the host is not as recorded, one sentence each.
  returned: O(state=check)
  type: list
  elements: str
  sample: ["/opt/wso2si/conf/server/deployment.yaml changed since the last run"]
recorded:
  description: The O(facts) of the record ({} without one).
  returned: O(state=check)
  type: dict
  sample: {https_ports: [9443]}
certificate:
  description: The certificate (PEM) of the keystore's key entry, or an empty string when the keystore or the entry cannot be read.
  returned: O(state=check)
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of RV(certificate), or an empty string.
  returned: O(state=check)
  type: str
si_home:
  description:
    - Whether O(si_home) is an SI home (C(conf/server/deployment.yaml) exists), and the user and group that own it
      (names, or ids where the host has no name for them; empty strings when O(si_home) does not exist).
    - With O(state=check), a directory that is not an SI home is not an error, only a reason.
  returned: always
  type: dict
  sample: {deployment_exists: true, owner: wso2si, group: wso2si}
record_path:
  description: Path of the record.
  returned: always
  type: str
  sample: /opt/wso2si/.rollout-state.json
'''

from ansible_collections.wso2si.keystores.plugins.module_utils import argspec
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_rollout_state import RolloutStateBackend
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import check_yaml_dependency


def store_options(alias):
    options = dict(path=dict(type='path', required=True), password=dict(type='str', required=True, no_log=True))
    if alias:
        options['alias'] = dict(type='str', required=True)
    return options


def argument_spec():
    return argspec.ArgumentSpec(dict(
        si_home=dict(type='path', required=True),
        state=dict(type='str', choices=['check', 'present'], default='check'),
        inputs_digest=dict(type='str', required=True),
        keystore=dict(type='dict', required=True, no_log=False, options=store_options(True)),
        truststore=dict(type='dict', no_log=False, options=store_options(False)),
        vault_keystore=dict(type='dict', no_log=False, options=store_options(True)),
        renew_before_days=dict(type='int', default=0),
        key_max_age_days=dict(type='int', default=0, no_log=False),
        facts=dict(type='dict', default={}),
        owner=dict(type='str'),
        group=dict(type='str'),
    ))


def main():
    module = argument_spec().create_ansible_module(supports_check_mode=True)
    check_yaml_dependency(module)
    run(module, RolloutStateBackend.execute)


if __name__ == '__main__':
    main()
