# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The shape of module_utils: no import cycle, no import hidden in a function (unless it
says why), SI's location table read by name only."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
MODULE_UTILS = os.path.join(REPO, 'plugins', 'module_utils')
PREFIX = 'ansible_collections.wso2si.keystores.plugins.module_utils.'
# SI's configuration files and the modules that edit them
SI_CONFIGURATION = ('si_locations', 'yaml_text', 'si_deployment', 'shell_words', 'launcher', 'masking', 'si_audit',
                    'config_files', 'secure_vault', 'access', 'snakeyaml', 'backends.si_config', 'backends.si_secret')


def sources():
    out = {}
    for top, dummy, files in os.walk(MODULE_UTILS):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(top, name)
                module = os.path.relpath(path, MODULE_UTILS)[:-3].replace(os.sep, '.')
                with open(path) as f:
                    out[module] = f.read()
    return out


def imported(tree, known):
    """The module_utils modules a module imports at its top level."""
    out = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX[:-1]):
            base = node.module[len(PREFIX):] if node.module != PREFIX[:-1] else ''
            for alias in node.names:
                full = (base + '.' if base else '') + alias.name
                out.add(full if full in known else base)
    return out & set(known)


def test_module_utils_import_no_cycle():
    src = sources()
    graph = dict((name, imported(ast.parse(text), src)) for name, text in src.items())
    state = {}

    def visit(name, path):
        if state.get(name) == 'done':
            return
        assert state.get(name) != 'open', 'import cycle: %s' % ' -> '.join(path + [name])
        state[name] = 'open'
        for dep in sorted(graph[name]):
            visit(dep, path + [name])
        state[name] = 'done'
    for name in sorted(graph):
        visit(name, [])


def test_no_function_local_imports_without_a_reason():
    src = sources()
    for name in SI_CONFIGURATION:
        text = src[name]
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    line = lines[inner.lineno - 1] + (lines[inner.lineno - 2] if inner.lineno > 1 else '')
                    assert 'lazy' in line.lower(), '%s line %d imports inside %s() without saying why (lazy)' \
                        % (name, inner.lineno, node.name)


def test_locations_are_read_by_name():
    positional = re.compile(r'LOCATIONS\[')
    for top in (os.path.join(REPO, 'plugins'), os.path.join(REPO, 'tests', 'unit')):
        for dirpath, dummy, files in os.walk(top):
            for name in files:
                if name.endswith('.py') and name != 'test_structure.py':
                    with open(os.path.join(dirpath, name)) as f:
                        assert not positional.search(f.read()), '%s reads LOCATIONS by position' % name
