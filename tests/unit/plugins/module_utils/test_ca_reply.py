# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""ca_reply.py: building and validating the chain of a CA reply."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import itertools

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.ca_reply import (
    certificate_items, check_dates, load_input, reply_chain, reply_leaf,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    ChainError, InvalidInputError, KeyMismatchError,
)

NOW = datetime.datetime(2030, 6, 1, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def make_cert(subject, key, issuer=None, issuer_key=None, ca=True, key_cert_sign=True, basic_constraints=True,
              start=NOW - DAY, end=NOW + 365 * DAY):
    issuer = issuer or subject
    builder = (x509.CertificateBuilder()
               .subject_name(certs.parse_name(subject)).issuer_name(certs.parse_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end))
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if ca:
        builder = builder.add_extension(certs.parse_key_usage(['keyCertSign', 'cRLSign'] if key_cert_sign
                                                              else ['digitalSignature']), critical=True)
    return builder.sign(issuer_key or key, hashes.SHA256())


class PKI(object):
    def __init__(self):
        self.root_key, self.int1_key, self.int2_key, self.leaf_key, self.other_key = [
            certs.generate_private_key('rsa', 2048) for dummy in range(5)]
        self.root = make_cert('CN=Root', self.root_key)
        self.int1 = make_cert('CN=Int1', self.int1_key, 'CN=Root', self.root_key)
        self.int2 = make_cert('CN=Int2', self.int2_key, 'CN=Int1', self.int1_key)
        self.leaf = make_cert('CN=leaf', self.leaf_key, 'CN=Int2', self.int2_key, ca=False, basic_constraints=False)
        self.other_root = make_cert('CN=Other Root', self.other_key)
        self.other_leaf = make_cert('CN=leaf', self.leaf_key, 'CN=Other Root', self.other_key, ca=False)


@pytest.fixture(scope='module')
def pki():
    return PKI()


def fps(chain):
    return [certs.fingerprint(c) for c in chain]


@pytest.mark.parametrize('order', list(itertools.permutations(range(3))))
def test_chain_in_any_order(pki, order):
    cas = [[pki.root, pki.int1, pki.int2][i] for i in order]
    chain, unused = reply_chain([pki.leaf], pki.leaf_key.public_key(), cas, now=NOW)
    assert fps(chain) == fps([pki.leaf, pki.int2, pki.int1, pki.root])
    assert unused == []


def test_chain_from_the_reply_and_trusted_root(pki):
    chain, unused = reply_chain([pki.int1, pki.root, pki.leaf, pki.int2], pki.leaf_key.public_key(),
                                trusted=[pki.root], now=NOW)
    assert fps(chain) == fps([pki.leaf, pki.int2, pki.int1, pki.root])


def test_chain_completed_from_trusted(pki):
    trusted = [pki.other_root, pki.int2, pki.root, pki.int1]
    chain, dummy = reply_chain([pki.leaf], pki.leaf_key.public_key(), trusted=trusted, now=NOW)
    assert len(chain) == 4


def test_unused_reply_certificates(pki):
    chain, unused = reply_chain([pki.leaf, pki.other_root, pki.other_root], pki.leaf_key.public_key(),
                                [pki.root, pki.int1, pki.int2], now=NOW)
    assert len(chain) == 4
    assert fps(unused) == fps([pki.other_root])


def test_another_key(pki):
    with pytest.raises(KeyMismatchError, match="public keys in reply and keystore don't match"):
        reply_chain([pki.leaf, pki.int2], pki.other_key.public_key(), [pki.root, pki.int1], now=NOW)


def test_leaf_prefers_the_ca_signed_certificate(pki):
    self_signed = make_cert('CN=leaf', pki.leaf_key, ca=False)
    assert reply_leaf([self_signed, pki.leaf], pki.leaf_key.public_key()) is pki.leaf


def test_missing_intermediate(pki):
    with pytest.raises(ChainError, match='the chain is incomplete: the issuing CA CN=Int2 '):
        reply_chain([pki.leaf], pki.leaf_key.public_key(), [pki.root, pki.int1], now=NOW)


def test_untrusted_root(pki):
    with pytest.raises(ChainError, match='ends at the root CN=Other Root, which is neither'):
        reply_chain([pki.other_leaf, pki.other_root], pki.leaf_key.public_key(), [pki.root], now=NOW)


def test_root_only_in_the_reply_is_not_trusted(pki):
    with pytest.raises(ChainError, match='ends at the root CN=Root'):
        reply_chain([pki.leaf, pki.int2, pki.int1, pki.root], pki.leaf_key.public_key(), now=NOW)


def test_without_validation(pki):
    chain, dummy = reply_chain([pki.leaf], pki.leaf_key.public_key(), [pki.root], validate=False, now=NOW)
    assert fps(chain) == fps([pki.leaf])
    chain, dummy = reply_chain([pki.other_leaf, pki.other_root], pki.leaf_key.public_key(), validate=False, now=NOW)
    assert len(chain) == 2


def test_forged_issuer_is_not_linked(pki):
    # the right issuer name, the wrong signature: never a link
    forged = make_cert('CN=leaf', pki.leaf_key, 'CN=Int2', pki.other_key, ca=False)
    with pytest.raises(ChainError, match='incomplete'):
        reply_chain([forged], pki.leaf_key.public_key(), [pki.root, pki.int1, pki.int2], now=NOW)


@pytest.mark.parametrize('kwargs, message', [
    (dict(ca=False), r'not a CA certificate \(basic constraints CA:FALSE\)'),
    (dict(basic_constraints=False, ca=False), 'has no basic constraints'),
    (dict(key_cert_sign=False), 'lacks keyCertSign'),
])
def test_issuer_must_be_a_ca(pki, kwargs, message):
    bad_int = make_cert('CN=Bad Int', pki.int2_key, 'CN=Root', pki.root_key, **kwargs)
    leaf = make_cert('CN=leaf', pki.leaf_key, 'CN=Bad Int', pki.int2_key, ca=False)
    with pytest.raises(ChainError, match=message):
        reply_chain([leaf, bad_int], pki.leaf_key.public_key(), [pki.root], now=NOW)
    chain, dummy = reply_chain([leaf, bad_int], pki.leaf_key.public_key(), [pki.root], validate=False, now=NOW)
    assert len(chain) == 3


@pytest.mark.parametrize('start, end, message', [
    (NOW - 400 * DAY, NOW - DAY, 'expired on 2030-05-31T00:00:00Z'),
    (NOW + DAY, NOW + 400 * DAY, 'is not valid before 2030-06-02T00:00:00Z'),
])
def test_dates(pki, start, end, message):
    leaf = make_cert('CN=leaf', pki.leaf_key, 'CN=Int2', pki.int2_key, ca=False, start=start, end=end)
    with pytest.raises(ChainError, match=message):
        reply_chain([leaf], pki.leaf_key.public_key(), [pki.root, pki.int1, pki.int2], now=NOW)
    chain, dummy = reply_chain([leaf], pki.leaf_key.public_key(), [pki.root, pki.int1, pki.int2],
                               allow_expired=True, now=NOW)
    assert len(chain) == 4


def test_expired_intermediate(pki):
    old_int = make_cert('CN=Int2', pki.int2_key, 'CN=Int1', pki.int1_key, end=NOW - DAY)
    with pytest.raises(ChainError, match='CN=Int2 expired'):
        check_dates([pki.leaf, old_int], now=NOW)


def test_load_input_and_items(pki, tmp_path):
    pem = certs.cert_to_pem(pki.root) + certs.cert_to_pem(pki.int1)
    path = tmp_path / 'cas.pem'
    path.write_text(pem)
    assert fps(load_input(path=str(path))) == fps([pki.root, pki.int1])
    assert fps(load_input(content=certs.cert_to_pem(pki.leaf))) == fps([pki.leaf])
    items = certificate_items([{'alias': 'Corp-CA', 'path': str(path)}, {'alias': 'leaf', 'content': certs.cert_to_pem(pki.leaf)}])
    assert [item[0] for item in items] == ['corp-ca', 'corp-ca-2', 'leaf']


@pytest.mark.parametrize('kwargs, message', [
    (dict(content='x', path='/y'), 'not both'),
    (dict(), 'needs content or path'),
    (dict(path='/nonexistent/ca.pem'), 'does not exist'),
    (dict(content='garbage'), 'not a certificate'),
])
def test_load_input_errors(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        load_input(**kwargs)


def test_intermediates_link_but_do_not_anchor(pki):
    # a renewal of an entry whose current chain holds the CAs (PKCS#12 stores keep no trusted entries)
    chain, dummy = reply_chain([pki.leaf], pki.leaf_key.public_key(), [pki.root], intermediates=[pki.int2, pki.int1],
                               now=NOW)
    assert fps(chain) == fps([pki.leaf, pki.int2, pki.int1, pki.root])
    with pytest.raises(ChainError, match='ends at the root CN=Root'):
        reply_chain([pki.leaf], pki.leaf_key.public_key(), intermediates=[pki.int2, pki.int1, pki.root], now=NOW)
