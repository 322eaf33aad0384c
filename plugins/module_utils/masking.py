# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What ``--diff`` shows of SI's files: every password and secret masked.

A value that changed shows as ``******** (changed)`` so the diff still tells
that it did; ``secrets`` (the passwords a task was given) are masked wherever
they appear, even in a file that cannot be parsed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError
from ansible_collections.wso2si.keystores.plugins.module_utils.launcher import LauncherLines
from ansible_collections.wso2si.keystores.plugins.module_utils import shell_words
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import (
    DeploymentConfig, MappingNode, ScalarNode, SequenceNode, apply_edits,
)

# What diffs show in place of a secret.
MASK = '********'

PASSWORD_KEY = re.compile(r'(?i)(pass(word)?|passwd|secret)$')


def _secret_pairs(doc):
    """(path, value_node) for every scalar whose key looks like a password."""
    out = []

    def visit(node, path):
        if isinstance(node, MappingNode):
            for k, v in node.value:
                key = k.value if isinstance(k, ScalarNode) else '?'
                if isinstance(v, ScalarNode):
                    if PASSWORD_KEY.search(key) and v.value and not v.value.startswith('${'):
                        out.append((path + (key,), v))
                else:
                    visit(v, path + (key,))
        elif isinstance(node, SequenceNode):
            for n, item in enumerate(node.value):
                visit(item, path + (n,))
    visit(doc.root, ())
    return out


def mask_deployment(before, after, secrets=()):
    """(before, after) texts with every password value masked. A value that changed
    shows as ******** (changed) so the diff still tells that it did."""
    masked = []
    old_values = {}
    for n, text in enumerate((before, after)):
        try:
            doc = DeploymentConfig.parse(text)
        except ConfigError:
            masked.append(_mask_known(text, secrets))
            continue
        edits = []
        for path, node in _secret_pairs(doc):
            if n == 0:
                old_values[path] = node.value
                mask = MASK
            else:
                mask = MASK if old_values.get(path) == node.value else MASK + ' (changed)'
            q = doc.text[node.start_mark.index] if node.style in ("'", '"') else ''
            edits.append((node.start_mark.index, node.end_mark.index, q + mask + q))
        masked.append(_mask_known(apply_edits(doc.text, edits), secrets))
    return masked[0], masked[1]


def mask_launcher(before, after, secrets=()):
    """(before, after) launchers with the value of every -Djavax.net.ssl.*Password masked,
    wherever it is on its line and however it is continued."""
    out = []
    old = {}
    for n, text in enumerate((before, after)):
        try:
            launcher = LauncherLines(text, 'carbon.sh')
        except ConfigError:
            out.append(_mask_known(text, secrets))
            continue
        edits = []
        for prop, hits in sorted(launcher.found.items()):
            if not prop.endswith('Password'):
                continue
            for hit in hits:
                value = shell_words.symbols(hit.pieces)
                if not value:
                    continue
                if n == 0:
                    old[prop] = value
                    mask = MASK
                else:
                    mask = MASK if old.get(prop) == value else MASK + ' (changed)'
                edits.append((hit.start, hit.end, hit.replacement('"%s"' % mask)))
        out.append(_mask_known(apply_edits(text, edits), secrets))
    return out[0], out[1]


def _mask_known(text, secrets):
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


def mask_properties(text):
    """secrets.properties text for a diff: every value masked, comments and kinds kept."""
    out = []
    for line in text.splitlines(True):
        stripped = line.lstrip()
        if stripped and stripped[0] not in '#!' and '=' in line:
            key, dummy, value = line.partition('=')
            kind = value.split(' ', 1)[0] if ' ' in value else ''
            ending = line[len(line.rstrip('\r\n')):]
            line = '%s=%s%s%s%s' % (key, kind, ' ' if kind else '', MASK, ending)
        out.append(line)
    return ''.join(out)


def mask_master(text):
    """master-keys.yaml text for a diff: both passwords masked."""
    return re.sub(r'(?m)^(\s*(keyStorePassword|privateKeyPassword)\s*:\s*(!!binary\s+)?).*$', r"\g<1>" + MASK, text)
