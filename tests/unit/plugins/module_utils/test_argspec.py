# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Every module's argument spec against its documented options (with its doc fragments), and the
shared argument-spec fragments against their doc-fragment twins."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib
import os
from unittest import mock

import pytest
import yaml
from ansible.module_utils import basic

from ansible_collections.wso2si.keystores.plugins.module_utils import argspec

PREFIX = 'ansible_collections.wso2si.keystores.plugins.'
MODULES_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'modules')
MODULES = sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.startswith('si_') and name.endswith('.py'))
# option facts compared, with the value a doc or spec leaves out
FACTS = (('type', 'str'), ('required', False), ('default', None), ('choices', None), ('elements', None))


class Captured(Exception):
    pass


def captured_spec(name):
    """The keyword arguments the module gives AnsibleModule (as validate-modules captures them)."""
    module = importlib.import_module(PREFIX + 'modules.' + name)

    def init(self, *args, **kwargs):
        raise Captured(kwargs)

    with mock.patch.object(basic.AnsibleModule, '__init__', init):
        with pytest.raises(Captured) as caught:
            module.main()
    return caught.value.args[0]


def fragment_options(reference):
    """The options of a doc fragment named like wso2si.keystores.store.OLD_PASSWORD, or None for another collection's."""
    parts = reference.split('.')
    if parts[:2] != ['wso2si', 'keystores']:
        return None
    fragment = importlib.import_module(PREFIX + 'doc_fragments.' + parts[2]).ModuleDocFragment
    text = getattr(fragment, parts[3] if len(parts) > 3 else 'DOCUMENTATION')
    return yaml.safe_load(text).get('options', {})


def documented_options(name):
    doc = yaml.safe_load(importlib.import_module(PREFIX + 'modules.' + name).DOCUMENTATION)
    options = {}
    for reference in doc.get('extends_documentation_fragment', []):
        options.update(fragment_options(reference) or {})
    for name, own in doc.get('options', {}).items():
        # as ansible's merge_fragment: what the module says of an option replaces what the fragment says
        merged = dict(options.get(name, {}))
        merged.update(own)
        options[name] = merged
    return options


def differences(spec, docs, where):
    out = []
    for name in sorted(set(spec) | set(docs)):
        if name not in docs or name not in spec:
            # file options (mode, owner, ...) come from ansible.builtin.files and add_file_common_args
            if name in docs and 'description' in docs[name] and 'type' not in docs[name]:
                continue
            out.append('%s%s: %s' % (where, name, 'not documented' if name not in docs else 'not in the spec'))
            continue
        for fact, missing in FACTS:
            if spec[name].get(fact, missing) != docs[name].get(fact, missing):
                out.append('%s%s: %s is %r in the spec, %r in the docs' % (
                    where, name, fact, spec[name].get(fact, missing), docs[name].get(fact, missing)))
        if spec[name].get('options') or docs[name].get('suboptions'):
            out += differences(spec[name].get('options') or {}, docs[name].get('suboptions') or {},
                               '%s%s.' % (where, name))
    return out


@pytest.mark.parametrize('name', MODULES)
def test_module_spec_matches_its_documentation(name):
    assert differences(captured_spec(name)['argument_spec'], documented_options(name), '') == []


@pytest.mark.parametrize('fragment, reference', [
    (argspec.store, 'wso2si.keystores.store'),
    (argspec.store_old_password, 'wso2si.keystores.store.OLD_PASSWORD'),
    (argspec.store_key_password, 'wso2si.keystores.store.KEY_PASSWORD'),
    (argspec.store_backup, 'wso2si.keystores.store.BACKUP'),
    (argspec.store_strict_defaults, 'wso2si.keystores.store.STRICT_DEFAULTS'),
    (argspec.material, 'wso2si.keystores.material'),
    (argspec.material_expired, 'wso2si.keystores.material.EXPIRED'),
])
def test_fragment_matches_its_doc_fragment_twin(fragment, reference):
    assert differences(fragment().argument_spec, fragment_options(reference), '') == []


def test_merge_carries_options_and_constraints():
    spec = argspec.store().merge(
        argspec.ArgumentSpec(dict(a=dict(type='str')), mutually_exclusive=[('a', 'path')]),
        argspec.ArgumentSpec(required_by=dict(a='path')),
    ).update(required_one_of=[('a', 'path')])
    kwargs = spec.module_kwargs()
    assert sorted(kwargs['argument_spec']) == ['a', 'password', 'path', 'store_type']
    assert kwargs['mutually_exclusive'] == [('a', 'path')] and kwargs['required_one_of'] == [('a', 'path')]
    assert kwargs['required_by'] == {'a': ('path',)} and 'required_if' not in kwargs


def test_fragments_are_fresh_objects():
    one = argspec.store()
    one.argument_spec['path']['required'] = False
    assert argspec.store().argument_spec['path']['required'] is True
