#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_report
short_description: Report the stores of a WSO2 Streaming Integrator host, with Prometheus metrics
version_added: 0.4.0
description:
  - Reads WSO2 Streaming Integrator's (SI) configuration as SI reads it, and reports every store it names (the TLS keystore,
    the truststores, the secure vault keystore) with every entry of each, whether SI can open each store with the
    password its configuration gives (in plain text, or a C(${sec:}) alias the vault decrypts), and the findings of the
    configuration audit (M(wso2si.keystores.si_config) with O(wso2si.keystores.si_config#module:state=audit)).
  - Optionally writes the same facts as a Prometheus textfile-collector file (O(metrics_file)) for node_exporter's
    C(--collector.textfile.directory), atomically, and only when its content changes.
  - The report holds no password or key. The playbook C(wso2si.keystores.report) gathers it from every host and writes
    the fleet report (JSON, HTML, Markdown) on the controller; docs/report.md describes both.
author: wso2si.keystores contributors (@wso2si)
options:
  si_home:
    description: SI's home directory (C(carbon.home)).
    type: path
    required: true
  deployment_yaml:
    description: SI's C(deployment.yaml). Default C(<si_home>/conf/server/deployment.yaml).
    type: path
  launcher:
    description:
      - SI's launcher, whose C(-Djavax.net.ssl.*) options name stores too. Default
        C(<si_home>/wso2/server/bin/carbon.sh); an empty string leaves the launcher out.
    type: path
  passwords:
    description:
      - Passwords the operator knows, tried (after the configured ones) to list a store's entries when its configured
        password does not open it, and to open the vault when C(master-keys.yaml) is absent. Never reported.
    type: dict
    suboptions:
      keystore:
        description: The keystore password; without it, only the configured passwords are tried.
        type: str
      truststore:
        description: The truststore password; without it, only the configured passwords are tried.
        type: str
      vault:
        description: The secure vault keystore password; without it, only the configured passwords are tried.
        type: str
      vault_key:
        description: The secure vault key password; without it, only the configured passwords are tried.
        type: str
  renew_before_days:
    description:
      - The renewal window, in days, exported as C(wso2si_renewal_window_seconds) for alerting rules.
    type: int
    default: 30
  metrics_file:
    description:
      - Write the Prometheus textfile-collector file here (its name must end in C(.prom)). Not written when omitted.
    type: path
attributes:
  check_mode:
    support: full
    description: In check mode the metrics file is not written; C(changed) tells whether it would be.
  diff_mode:
    support: none
    description: The metrics file holds no secret, but its diff is not shown.
  idempotent:
    support: full
    description: The metrics file holds no time of collection; an unchanged host leaves it unchanged.
seealso:
  - module: wso2si.keystores.si_keystore_info
  - module: wso2si.keystores.si_config
'''

EXAMPLES = r'''
- name: Report this host's stores, and refresh its Prometheus textfile
  wso2si.keystores.si_report:
    si_home: /opt/wso2si
    metrics_file: /var/lib/prometheus/node-exporter/wso2si_keystores.prom
    renew_before_days: 30
  register: si_report

- name: Stores SI cannot open
  ansible.builtin.debug:
    msg: "{{ si_report.report.stores | rejectattr('open_ok') | map(attribute='path') | list }}"
'''

RETURN = r'''
report:
  description:
    - The host report, as docs/report.md describes it (the C(hosts[].report) object of the fleet's C(report.json)).
  returned: success
  type: dict
  contains:
    si_home:
      description: SI's home.
      type: str
    profile:
      description: The configuration's profile (C(server) or C(tooling)).
      type: str
    gathered_at:
      description: When the report was gathered (UTC, ISO 8601).
      type: str
    stores:
      description: Every store the configuration names, with its entries.
      type: list
      elements: dict
    unresolved_references:
      description: Store references whose path holds a placeholder the report cannot resolve.
      type: list
      elements: dict
    findings:
      description: The configuration audit's findings.
      type: list
      elements: dict
    secure:
      description: True when the audit found nothing.
      type: bool
metrics_file:
  description: The metrics file written (or that would be, in check mode).
  returned: when O(metrics_file) is given
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wso2si.keystores.plugins.module_utils import report as rp
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import check_yaml_dependency
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run


def report(module):
    p = module.params
    if p['renew_before_days'] < 0:
        raise InvalidInputError('renew_before_days must be 0 or more (got %d)' % p['renew_before_days'])
    if p['metrics_file'] and not p['metrics_file'].endswith('.prom'):
        raise InvalidInputError('metrics_file must end in .prom, which node_exporter reads (got %s)' % p['metrics_file'])
    host = rp.gather(p['si_home'], p['deployment_yaml'], p['launcher'], p['passwords'])
    result = dict(changed=False, report=host)
    if p['metrics_file']:
        result['changed'] = rp.write_metrics(p['metrics_file'], rp.metrics_text(host, p['renew_before_days']),
                                             check_mode=module.check_mode)
        result['metrics_file'] = p['metrics_file']
    return result


def main():
    argument_spec = dict(
        si_home=dict(type='path', required=True),
        deployment_yaml=dict(type='path'),
        launcher=dict(type='path'),
        passwords=dict(type='dict', no_log=False, options=dict(
            keystore=dict(type='str', no_log=True),
            truststore=dict(type='str', no_log=True),
            vault=dict(type='str', no_log=True),
            vault_key=dict(type='str', no_log=True),
        )),
        renew_before_days=dict(type='int', default=30),
        metrics_file=dict(type='path'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    check_yaml_dependency(module)
    run(module, report)


if __name__ == '__main__':
    main()
