# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Argument-spec twins in plugins/module_utils/argspec.py: material(), material_expired().

    # Weak keys. Keep in sync with plugins/module_utils/certificates.py (weak_key_reason, check_key_strength).
    DOCUMENTATION = r'''
options:
  allow_weak_keys:
    description:
      - Keys shorter than RSA 2048 bits or EC 256 bits (a 1024-bit RSA key, for example) are refused wherever the
        module would keep, request, sign or serve one.
      - V(true) accepts them with a warning. Meant for a short migration only.
    type: bool
    default: false
'''

    # Certificates outside their validity period. Keep in sync with plugins/module_utils/certificates.py
    # (validity_problem, check_validity).
    EXPIRED = r'''
options:
  allow_expired:
    description:
      - Certificates that have expired or are not valid yet are refused wherever the module would trust or serve one.
      - V(true) accepts them with a warning.
    type: bool
    default: false
'''
