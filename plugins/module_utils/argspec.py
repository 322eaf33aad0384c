# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Argument specs as objects that carry their constraints, merged per module
(after community.crypto's ``_argspec.py``), and the shared option fragments.

Each fragment function is named like its documentation fragment twin in
``plugins/doc_fragments/`` and returns a fresh ``ArgumentSpec``:

- ``store()``: ``wso2si.keystores.store``
- ``store_old_password()``: ``wso2si.keystores.store.OLD_PASSWORD``
- ``store_key_password()``: ``wso2si.keystores.store.KEY_PASSWORD``
- ``store_backup()``: ``wso2si.keystores.store.BACKUP``
- ``store_strict_defaults()``: ``wso2si.keystores.store.STRICT_DEFAULTS``
- ``material()``: ``wso2si.keystores.material``
- ``material_expired()``: ``wso2si.keystores.material.EXPIRED``

To add a shared option: add it to the fragment here and to its twin there
(tests/unit/plugins/module_utils/test_argspec.py checks every module's spec
against its documentation). A module's spec is then::

    argspec.store().merge(argspec.store_backup()).update_argspec(alias=dict(type='str', required=True))
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

_CONSTRAINTS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')


class ArgumentSpec(object):
    """Options and the constraints between them."""

    def __init__(self, argument_spec=None, mutually_exclusive=None, required_together=None, required_one_of=None,
                 required_if=None, required_by=None):
        self.argument_spec = dict(argument_spec or {})
        self.mutually_exclusive = list(mutually_exclusive or [])
        self.required_together = list(required_together or [])
        self.required_one_of = list(required_one_of or [])
        self.required_if = list(required_if or [])
        self.required_by = dict(required_by or {})

    def update_argspec(self, **options):
        """Add (or replace) options. Returns self."""
        self.argument_spec.update(options)
        return self

    def update(self, mutually_exclusive=None, required_together=None, required_one_of=None, required_if=None,
               required_by=None):
        """Add constraints. Returns self."""
        self.mutually_exclusive.extend(mutually_exclusive or [])
        self.required_together.extend(required_together or [])
        self.required_one_of.extend(required_one_of or [])
        self.required_if.extend(required_if or [])
        for name, needs in (required_by or {}).items():
            self.required_by[name] = tuple(self.required_by.get(name, ())) + tuple(
                [needs] if isinstance(needs, str) else needs)
        return self

    def merge(self, *others):
        """Add the options and constraints of other specs. Returns self."""
        for other in others:
            self.update_argspec(**other.argument_spec)
            self.update(**dict((name, getattr(other, name)) for name in _CONSTRAINTS))
        return self

    def module_kwargs(self):
        """The keyword arguments AnsibleModule takes for this spec (empty constraints left out)."""
        kwargs = dict(argument_spec=self.argument_spec)
        for name in _CONSTRAINTS:
            if getattr(self, name):
                kwargs[name] = getattr(self, name)
        return kwargs

    def create_ansible_module(self, **kwargs):
        """An AnsibleModule with this spec; ``kwargs`` add supports_check_mode, add_file_common_args, ..."""
        kwargs.update(self.module_kwargs())
        return AnsibleModule(**kwargs)


# ---------------------------------------------------------------- fragments (twins of plugins/doc_fragments/)

def store():
    """path, password, store_type: every module that opens a store (doc fragment ``store``)."""
    return ArgumentSpec(dict(
        path=dict(type='path', required=True),
        password=dict(type='str', required=True, no_log=True),
        store_type=dict(type='str', choices=['jks', 'pkcs12']),
    ))


def store_old_password():
    """old_password: change the store password (``store.OLD_PASSWORD``)."""
    return ArgumentSpec(dict(old_password=dict(type='str', no_log=True)))


def store_key_password():
    """key_password: a key entry's own password (``store.KEY_PASSWORD``); a module may document it its own way."""
    return ArgumentSpec(dict(key_password=dict(type='str', no_log=True)))


def store_backup():
    """backup (``store.BACKUP``)."""
    return ArgumentSpec(dict(backup=dict(type='bool', default=False)))


def store_strict_defaults():
    """strict_defaults: the shipped WSO2 password and keys (``store.STRICT_DEFAULTS``)."""
    return ArgumentSpec(dict(strict_defaults=dict(type='bool', default=False)))


def material():
    """allow_weak_keys (``material``)."""
    return ArgumentSpec(dict(allow_weak_keys=dict(type='bool', default=False)))


def material_expired():
    """allow_expired (``material.EXPIRED``)."""
    return ArgumentSpec(dict(allow_expired=dict(type='bool', default=False)))
