# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""A stand-in for AnsibleModule, so backends are tested without running a module:
parameters validated (defaults filled in) by the module's own argument spec."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator


class FakeModule(object):

    def __init__(self, spec, check_mode=False, diff=False, **params):
        result = ArgumentSpecValidator(**spec.module_kwargs()).validate(params)
        if result.error_messages:
            raise ValueError('; '.join(result.error_messages))
        self.params = result.validated_parameters
        for name in ('owner', 'group', 'mode'):
            self.params.setdefault(name, None)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)

    def load_file_common_arguments(self, params, path=None):
        return dict(path=path)

    def set_fs_attributes_if_different(self, file_args, changed, diff=None):
        return changed

    def get_bin_path(self, name):
        return None  # no git: tests never ask it anything
