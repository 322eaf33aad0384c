# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Run every module's EXAMPLES, as ansible-doc shows them, so that they cannot rot.

    python run_examples.py --inventory INVENTORY --work-dir DIR [--module si_csr ...]

For each module of the collection (ansible-doc -l), the EXAMPLES text is taken
from ansible-doc, absolute paths under /opt/ and /etc/ are moved into a
sandbox (DIR/<module>/root/opt/..., DIR/<module>/root/etc/...), the
module-specific substitutions of examples.yml are applied (a free port, an
existing user), and the tasks become one play, after the setup tasks that make
what the examples expect (an SI home, stores, a CA hierarchy, a listener) and
before the checks of what they did. Relative files the examples read with
lookups (pki/root-ca.pem, replies/...) are made beside the generated playbook.
Each play runs with ansible-playbook; every module must have an entry in
examples.yml, so that a new module's examples are run too.

The collection is taken from ANSIBLE_COLLECTIONS_PATH (ansible-test sets it),
and roles (setup_si_pki) from the integration targets directory.
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import pwd
import re
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = 'wso2si.keystores'
SANDBOXED = re.compile(r'(?<![\w.~/-])/(opt|etc)/')


def collection_root():
    for entry in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep):
        path = os.path.join(entry, 'ansible_collections', 'wso2si', 'keystores')
        if entry and (os.path.isfile(os.path.join(path, 'galaxy.yml')) or os.path.isfile(os.path.join(path, 'MANIFEST.json'))):
            return path
    raise SystemExit('run_examples: no wso2si.keystores under ANSIBLE_COLLECTIONS_PATH')


def module_examples():
    names = json.loads(subprocess.run(['ansible-doc', '-t', 'module', '-l', COLLECTION, '--json'],
                                      capture_output=True, text=True, check=True).stdout)
    docs = json.loads(subprocess.run(['ansible-doc', '--json'] + sorted(names),
                                     capture_output=True, text=True, check=True).stdout)
    return {fqcn.rsplit('.', 1)[1]: docs[fqcn].get('examples') or '' for fqcn in sorted(names)}


def build_play(name, examples, entry, sandbox, common_vars):
    text = SANDBOXED.sub(lambda m: '%s/%s/' % (sandbox, m.group(1)), examples)
    for old, new in entry.get('substitutions') or []:
        if old not in text:
            raise ValueError('the substitution %r does not apply to the examples of %s any more' % (old, name))
        text = text.replace(old, new)
    tasks = yaml.safe_load(text)
    if not isinstance(tasks, list) or not tasks:
        raise ValueError('the EXAMPLES of %s are not a list of tasks' % name)
    main = []
    if entry.get('setup'):
        main.append({'name': 'Set up what the examples of %s expect' % name, 'block': entry['setup']})
    main.append({'name': 'The EXAMPLES of %s.%s' % (COLLECTION, name), 'block': tasks})
    if entry.get('verify'):
        main.append({'name': 'Check what the examples of %s did' % name, 'block': entry['verify']})
    body = {'name': 'Examples of %s' % name, 'block': main}
    if entry.get('cleanup'):
        body['always'] = entry['cleanup']
    play_vars = dict(common_vars)
    play_vars.update(entry.get('vars') or {})
    play_vars['examples_root'] = sandbox
    return [{
        'name': 'EXAMPLES of %s.%s' % (COLLECTION, name),
        'hosts': 'testhost',
        'gather_facts': False,
        'vars': play_vars,
        'tasks': [body],
        # the examples notify the handler a playbook of theirs would have
        'handlers': [{'name': 'Restart SI', 'ansible.builtin.debug': {'msg': 'SI would restart now'}}],
    }]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--inventory', required=True)
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--module', action='append', help='run only these modules\' examples')
    parser.add_argument('ansible_args', nargs='*', help='more ansible-playbook arguments (-v)')
    args = parser.parse_args()

    with open(os.path.join(HERE, 'examples.yml')) as handle:
        config = yaml.safe_load(handle)
    entries = config['modules']
    examples = module_examples()
    problems = sorted(set(examples) ^ set(entries))
    if problems:
        raise SystemExit('run_examples: examples.yml and the collection\'s modules differ: %s' % ', '.join(problems))

    root = collection_root()
    work = os.path.abspath(args.work_dir)
    common_vars = dict(config.get('vars') or {})
    common_vars.update(
        examples_collection=root,
        examples_python=sys.executable,
        examples_user=pwd.getpwuid(os.getuid()).pw_name,
        examples_group=grp.getgrgid(os.getgid()).gr_name,
        output_dir=work,
    )
    inventory = os.path.abspath(args.inventory)
    if not os.path.isfile(inventory):
        raise SystemExit('run_examples: no inventory %s' % inventory)
    # a play that matched no host, or an inventory that did not parse, must fail
    env = dict(os.environ, ANSIBLE_ROLES_PATH=os.path.dirname(HERE), ANSIBLE_INVENTORY_UNPARSED_FAILED='true',
               ANSIBLE_HOST_PATTERN_MISMATCH='error')
    results = []
    for name in args.module or sorted(examples):
        play_dir = os.path.join(work, name)
        sandbox = os.path.join(play_dir, 'root')
        os.makedirs(sandbox, exist_ok=True)
        play = build_play(name, examples[name], entries[name], sandbox, dict(common_vars, output_dir=play_dir))
        if entries[name].get('not_run'):
            # the examples still parse and take their substitutions (build_play above); they are not run here
            print('=== %s.%s: not run here: %s' % (COLLECTION, name, entries[name]['not_run']), flush=True)
            continue
        playbook = os.path.join(play_dir, 'playbook.yml')
        with open(playbook, 'w') as handle:
            handle.write('---\n# Generated by %s from the EXAMPLES of %s.%s\n' % (os.path.basename(__file__), COLLECTION, name))
            yaml.safe_dump(play, handle, default_flow_style=False, sort_keys=False, width=120)
        print('=== %s.%s: %s' % (COLLECTION, name, playbook), flush=True)
        started = time.monotonic()
        proc = subprocess.run(['ansible-playbook', '-i', inventory, playbook] + list(args.ansible_args),
                              cwd=play_dir, env=env, check=False)
        results.append((name, proc.returncode, time.monotonic() - started))
    failed = [name for name, rc, dummy in results if rc != 0]
    for name, rc, seconds in results:
        print('%-18s %5.1f s  %s' % (name, seconds, 'ok' if rc == 0 else 'FAILED (ansible-playbook exited %d)' % rc))
    print('module_examples: %d passed, %d failed' % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
