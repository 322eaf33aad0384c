# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Check that ansible-doc renders every module and role of the collection, and
that their documentation is complete.

    python tests/utils/check_docs.py [--collection-root DIR]

Run with ANSIBLE_COLLECTIONS_PATH naming the directory that holds
ansible_collections/wso2si/keystores (`make lint` does).  For every module:

- ansible-doc renders it as text and as JSON, and every plugins/modules/*.py
  file is listed (a module whose documentation does not load is missing);
- every option and suboption has a type and a description, and either a
  default, required: true, or (ansible-doc renders that as `default: null`) a
  description that says what happens without it;
- EXAMPLES is a YAML list of named tasks that use the module by its FQCN
  (tests/integration/targets/module_examples runs them), and RETURN is there.

For every role (ansible-doc -t role): the same option rules, and
meta/argument_specs.yml agrees with defaults/main.yml key for key and value for
value (required options may hold a placeholder there).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

import yaml

NAMESPACE, NAME = 'wso2si', 'keystores'
COLLECTION = '%s.%s' % (NAMESPACE, NAME)
# Options documented by ansible-core's own fragment (ansible.builtin.files).
FILE_COMMON = {'owner', 'group', 'mode', 'seuser', 'serole', 'setype', 'selevel', 'unsafe_writes', 'attributes'}
# A description that tells what happens when an option without a default is not given.
UNSET_WORDS = re.compile(
    r'\b(default|defaults|defaulting|without|unset|not set|not given|omitted|omit|only|required|requires|'
    r'needed|exactly one|one of|either|when|unless|instead|empty|none|otherwise)\b',
    re.IGNORECASE)


def ansible_doc(*args):
    proc = subprocess.run(['ansible-doc'] + list(args), capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def text_of(description):
    if isinstance(description, list):
        return ' '.join(str(d) for d in description)
    return str(description or '')


def check_options(where, options, problems, file_common=True):
    for name, spec in sorted((options or {}).items()):
        if file_common and name in FILE_COMMON:
            continue
        label = '%s: option %s' % (where, name)
        if not spec.get('type'):
            problems.append('%s has no type' % label)
        description = text_of(spec.get('description')).strip()
        if not description:
            problems.append('%s has no description' % label)
        if 'default' not in spec and not spec.get('required') and not UNSET_WORDS.search(description):
            problems.append('%s has no default, is not required, and its description does not say what '
                            'happens without it' % label)
        if spec.get('suboptions'):
            check_options('%s.%s' % (where, name), spec['suboptions'], problems, file_common=False)


def check_examples(fqcn, examples, problems):
    if not (examples or '').strip():
        problems.append('%s: EXAMPLES is empty' % fqcn)
        return
    try:
        tasks = yaml.safe_load(examples)
    except yaml.YAMLError as exc:
        problems.append('%s: EXAMPLES is not YAML: %s' % (fqcn, exc))
        return
    if not isinstance(tasks, list) or not tasks:
        problems.append('%s: EXAMPLES is not a list of tasks' % fqcn)
        return
    for task in tasks:
        if not isinstance(task, dict) or not task.get('name'):
            problems.append('%s: an example task has no name: %r' % (fqcn, task))
    if not any(isinstance(t, dict) and fqcn in t for t in tasks):
        problems.append('%s: no example task uses the module by its FQCN' % fqcn)


def check_modules(root, problems):
    rc, out, err = ansible_doc('-t', 'module', '-l', COLLECTION, '--json')
    if rc != 0:
        problems.append('ansible-doc -l failed: %s' % err.strip())
        return 0
    listed = set(json.loads(out))
    sources = sorted(f[:-3] for f in os.listdir(os.path.join(root, 'plugins', 'modules'))
                     if f.endswith('.py') and not f.startswith('_'))
    for name in sources:
        if '%s.%s' % (COLLECTION, name) not in listed:
            problems.append('%s.%s: not listed by ansible-doc (its documentation does not load)' % (COLLECTION, name))
    for fqcn in sorted(listed):
        rc, out, err = ansible_doc(fqcn)
        if rc != 0 or fqcn.upper() not in out.upper() or 'EXAMPLES' not in out:
            problems.append('%s: ansible-doc does not render it: %s' % (fqcn, (err or out).strip()[:300]))
            continue
        rc, out, err = ansible_doc('--json', fqcn)
        if rc != 0:
            problems.append('%s: ansible-doc --json failed: %s' % (fqcn, err.strip()[:300]))
            continue
        data = json.loads(out)[fqcn]
        doc = data.get('doc') or {}
        for key in ('short_description', 'description', 'author', 'version_added'):
            if not doc.get(key):
                problems.append('%s: documentation has no %s' % (fqcn, key))
        check_options(fqcn, doc.get('options'), problems)
        check_examples(fqcn, data.get('examples'), problems)
        if not data.get('return'):
            problems.append('%s: RETURN is empty' % fqcn)
    return len(listed)


def _same(a, b):
    if a == b:
        return True
    # argument_specs may quote what defaults/main.yml leaves bare, and the reverse
    return str(a) == str(b)


def check_roles(root, problems):
    rc, out, err = ansible_doc('-t', 'role', '-l', COLLECTION, '--json')
    if rc != 0:
        problems.append('ansible-doc -t role -l failed: %s' % err.strip())
        return 0
    listed = set(json.loads(out))
    roles_dir = os.path.join(root, 'roles')
    sources = sorted(d for d in os.listdir(roles_dir) if os.path.isdir(os.path.join(roles_dir, d))) \
        if os.path.isdir(roles_dir) else []
    for name in sources:
        if '%s.%s' % (COLLECTION, name) not in listed:
            problems.append('role %s.%s: not listed by ansible-doc -t role (no meta/argument_specs.yml?)'
                            % (COLLECTION, name))
    for fqcn in sorted(listed):
        rc, out, err = ansible_doc('-t', 'role', fqcn)
        if rc != 0 or 'ENTRY POINT' not in out.upper():
            problems.append('role %s: ansible-doc -t role does not render it: %s' % (fqcn, (err or out).strip()[:300]))
            continue
        rc, out, err = ansible_doc('-t', 'role', '--json', fqcn)
        if rc != 0:
            problems.append('role %s: ansible-doc -t role --json failed: %s' % (fqcn, err.strip()[:300]))
            continue
        entry_points = json.loads(out)[fqcn]['entry_points']
        name = fqcn.rsplit('.', 1)[1]
        defaults_file = os.path.join(roles_dir, name, 'defaults', 'main.yml')
        defaults = {}
        if os.path.exists(defaults_file):
            with open(defaults_file) as handle:
                defaults = yaml.safe_load(handle) or {}
        for entry, spec in sorted(entry_points.items()):
            where = 'role %s (%s)' % (fqcn, entry)
            for key in ('short_description', 'description', 'author'):
                if not spec.get(key):
                    problems.append('%s: argument spec has no %s' % (where, key))
            options = spec.get('options') or {}
            check_options(where, options, problems, file_common=False)
            if entry != 'main':
                continue
            for option, ospec in sorted(options.items()):
                if option not in defaults:
                    if not ospec.get('required'):
                        problems.append('%s: %s is not in defaults/main.yml' % (where, option))
                elif 'default' in ospec and not _same(ospec['default'], defaults[option]):
                    problems.append('%s: %s defaults to %r in argument_specs but %r in defaults/main.yml'
                                    % (where, option, ospec['default'], defaults[option]))
            for variable in sorted(set(defaults) - set(options)):
                problems.append('%s: defaults/main.yml sets %s, which argument_specs does not document'
                                % (where, variable))
    return len(listed)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--collection-root', default=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), help='the collection checkout (default: this one)')
    args = parser.parse_args()
    problems = []
    modules = check_modules(args.collection_root, problems)
    roles = check_roles(args.collection_root, problems)
    for problem in problems:
        print('docs: %s' % problem)
    print('docs: %d modules and %d roles checked, %d problems' % (modules, roles, len(problems)))
    return 1 if problems or not modules else 0


if __name__ == '__main__':
    sys.exit(main())
