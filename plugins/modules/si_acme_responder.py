#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_acme_responder
short_description: A short-lived HTTP server on the managed host that answers ACME http-01 challenges
version_added: 0.4.0
description:
  - O(state=started) listens on O(address):O(port) and serves, in a detached Python process, only the given
    challenge paths (C(/.well-known/acme-challenge/<token>)) with their key authorizations; everything else gets 404.
    A port that is taken is refused, naming the process that holds it when the system lets this user read it.
  - O(state=stopped) ends that process (only a responder this module started) and waits until the port is free.
    Run it in an C(always) section. A responder that is never stopped exits by itself after O(lifetime) seconds.
  - Nothing is written on the host. The role C(wso2si.keystores.rollout) uses it with C(rollout_ca_mode=acme).
author: wso2si.keystores contributors (@wso2si)
attributes:
  check_mode:
    support: full
    description: Nothing is started or stopped in check mode.
  diff_mode:
    support: none
    description: Nothing it does is shown as a diff.
  idempotent:
    support: full
    description: The responder is transient; it never reports a change.
options:
  state:
    description: V(started) or V(stopped).
    type: str
    choices: [started, stopped]
    required: true
  address:
    description: Address to listen on; empty means every address of the host.
    type: str
    default: ''
  port:
    description: TCP port. ACME CAs validate http-01 on port 80; a test CA may use another.
    type: int
    default: 80
  challenges:
    description:
      - The http-01 challenges to answer (O(state=started)), as M(wso2si.keystores.si_acme_certificate) returns them,
        each with C(path) and C(key_authorization).
    type: list
    elements: dict
    default: []
  pid:
    description:
      - The responder's process id that O(state=started) returned (O(state=stopped)).
      - Without it, or when it is not a responder's, nothing is stopped.
    type: int
  lifetime:
    description: Seconds after which the responder exits by itself.
    type: int
    default: 300
'''

EXAMPLES = r'''
- name: Serve one challenge on port 80 of every address
  wso2si.keystores.si_acme_responder:
    state: started
    challenges:
      - path: /.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0
        key_authorization: LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI
  register: responder

- name: Answer the challenges, always stopping the responder
  block:
    - name: Start the responder
      wso2si.keystores.si_acme_responder:
        state: started
        challenges: "{{ acme_order.challenges }}"
      register: responder
    # ... step=finalize of wso2si.keystores.si_acme_certificate, on the controller
  always:
    - name: Stop the responder
      wso2si.keystores.si_acme_responder:
        state: stopped
        pid: "{{ responder.pid }}"
      when: responder.pid is defined
'''

RETURN = r'''
pid:
  description: Process id of the responder.
  returned: O(state=started), not in check mode
  type: int
stopped:
  description: Whether a responder was ended.
  returned: O(state=stopped)
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wso2si.keystores.plugins.module_utils import acme_responder
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import KeystoreError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['started', 'stopped'], required=True),
            address=dict(type='str', default=''),
            port=dict(type='int', default=80),
            challenges=dict(type='list', elements='dict', default=[]),
            pid=dict(type='int'),
            lifetime=dict(type='int', default=300),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        if p['state'] == 'started':
            acme_responder.check_challenges(p['challenges'])
            if module.check_mode:
                module.exit_json(changed=False)
            pid = acme_responder.start(p['address'], p['port'], p['challenges'], p['lifetime'])
            module.exit_json(changed=False, pid=pid)
        stopped = False if module.check_mode else acme_responder.stop(p['pid'], p['address'], p['port'])
        module.exit_json(changed=False, stopped=stopped)
    except KeystoreError as exc:
        module.fail_json(msg=str(exc))


if __name__ == '__main__':
    main()
