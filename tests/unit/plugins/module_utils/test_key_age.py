# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.key_age import key_age, key_born, key_too_old

NOW = datetime.datetime(2026, 12, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def cert(key, start_days, days=365, cn='si.example.com'):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = NOW + datetime.timedelta(days=start_days)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))


@pytest.fixture(scope='module')
def keys():
    return certs.generate_private_key('ec'), certs.generate_private_key('ec')


def test_the_age_is_the_leafs_age(keys):
    leaf = cert(keys[0], -100)
    assert key_age([leaf], now=NOW) == datetime.timedelta(days=100)


def test_the_earliest_certificate_for_the_same_key_counts(keys):
    renewed, earlier = cert(keys[0], -10), cert(keys[0], -400)
    other_key = cert(keys[1], -900)
    assert key_born(keys[0].public_key(), [renewed, earlier, other_key]) == NOW - datetime.timedelta(days=400)
    # the chain's CA certificate (another key) never makes the key older
    assert key_age([renewed, other_key], now=NOW) == datetime.timedelta(days=10)
    assert key_age([renewed], known=[earlier, other_key], now=NOW) == datetime.timedelta(days=400)


def test_a_certificate_not_yet_valid_is_age_zero(keys):
    assert key_age([cert(keys[0], 5)], now=NOW) == datetime.timedelta(0)


@pytest.mark.parametrize('max_age, expected', [(0, False), (None, False), (101, False), (100, True), (30, True)])
def test_too_old_at_the_max_age(keys, max_age, expected):
    assert key_too_old([cert(keys[0], -100)], max_age, now=NOW) is expected


def test_a_negative_max_age_is_one_sentence(keys):
    with pytest.raises(InvalidInputError, match='key_max_age_days must be 0'):
        key_too_old([cert(keys[0], -100)], -1, now=NOW)
