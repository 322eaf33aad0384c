# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""playbooks/rollback.yml restarts SI the way the role does (issue 14): with
rollout_restart_command, or, without one, through the service manager
(rollout_service_name). One restart definition, roles/rollout/tasks/restart.yml."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import subprocess
import sys

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h


def run_rollback(tmp_path, extra):
    home = tmp_path / 'si'
    conf = home / 'conf' / 'server'
    conf.mkdir(parents=True)
    (conf / 'deployment.yaml').write_text('rolled: out\n')
    backup = conf / 'deployment.yaml.123.2026-01-01@00:00:00~'
    backup.write_text('as: before\n')
    (home / '.rollout-backups.json').write_text(json.dumps({str(conf / 'deployment.yaml'): str(backup)}))
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text('wso2si:\n  hosts:\n    si1:\n      ansible_connection: local\n'
                         '      ansible_python_interpreter: %s\n' % sys.executable)
    args = ['-e', json.dumps(dict(extra, rollout_si_home=str(home)))]
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', str(inventory)] + args
                          + [os.path.join(h.COLLECTION, 'playbooks', 'rollback.yml')],
                          cwd=str(tmp_path), env=h.child_env({'ANSIBLE_COLLECTIONS_PATH': h.COLLECTIONS_ROOT,
                                                              'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_HOME': str(tmp_path)}),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False)
    assert (conf / "deployment.yaml").read_text() == "as: before\n", proc.stdout.decode()
    return proc.returncode, proc.stdout.decode('utf-8', 'replace')


def test_rollback_restarts_with_the_restart_command(tmp_path):
    marker = tmp_path / 'restarted'
    rc, out = run_rollback(tmp_path, {'rollout_restart_command': 'touch %s' % marker})
    assert rc == 0, out
    assert marker.exists(), out


def test_rollback_restarts_the_service_without_a_restart_command(tmp_path):
    # no service manager knows this name: the restart is attempted, and fails
    rc, out = run_rollback(tmp_path, {'rollout_service_name': 'wso2si-test-no-such-service'})
    assert re.search(r'TASK \[wso2si\.keystores\.rollout : Restart the SI service\] \**\n', out), out
    assert re.search(r'(fatal|changed|ok): \[si1\].*wso2si-test-no-such-service', out), out
    assert rc != 0, out
