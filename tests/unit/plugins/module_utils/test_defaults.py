# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""defaults.py: the shipped WSO2 certificates."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import (
    SHIPPED_WSO2_CERT_SHA256, is_shipped_wso2_certificate,
)

WSO2CARBON = '8A:CE:6D:B1:DF:A6:24:6F:D6:D7:32:80:49:09:06:23:F0:59:34:AD:71:65:F2:F2:2A:44:61:2B:A7:34:0B:28'


def _fixtures():
    """../shared/fixtures/si beside the repository, or beside a copy of it under .build/."""
    if os.environ.get('SI_FIXTURES'):
        return os.environ['SI_FIXTURES']
    here = os.path.dirname(os.path.abspath(__file__))
    while os.path.dirname(here) != here:
        here = os.path.dirname(here)
        candidate = os.path.join(here, 'shared', 'fixtures', 'si')
        if os.path.isdir(candidate):
            return candidate
    return ''


FIXTURES = _fixtures()


def test_fingerprints_are_keytool_form():
    assert len(SHIPPED_WSO2_CERT_SHA256) == 2
    for fp in SHIPPED_WSO2_CERT_SHA256:
        assert re.match(r'^([0-9A-F]{2}:){31}[0-9A-F]{2}$', fp)


@pytest.mark.parametrize('text, expected', [
    (WSO2CARBON, True),
    (WSO2CARBON.lower(), True),
    (WSO2CARBON.replace(':', ''), True),
    ('EE:CB:4D:02:DA:D4:AC:6B:50:53:53:A7:E2:1F:4F:B9:A3:3F:DC:AC:92:30:3F:F0:FF:43:E2:19:0A:84:EA:A0', True),
    (WSO2CARBON[:-2] + '29', False),
    ('', False),
    (None, False),
])
def test_is_shipped(text, expected):
    assert is_shipped_wso2_certificate(text) is expected


@pytest.mark.skipif(not os.path.isdir(FIXTURES), reason='SI fixtures not present')
@pytest.mark.parametrize('name', ['wso2carbon.jks', 'securevault.jks'])
def test_fixture_key_entries_are_listed(name):
    from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore
    with open(os.path.join(FIXTURES, 'server', 'resources', 'security', name), 'rb') as f:
        store = Keystore.loads(f.read(), 'wso2carbon')
    assert [is_shipped_wso2_certificate(e.fingerprint()) for e in store.key_entries()] == [True]
