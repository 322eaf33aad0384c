# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_truststore's decisions, made by its backend without running the module."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends import si_truststore as backend
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.common import TrustTally
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore
from ansible_collections.wso2si.keystores.plugins.modules import si_truststore

from .fake_module import FakeModule

PW = 'Store.pass-1'


def ca(name):
    key = certs.generate_private_key('ec', 2048, 'secp256r1')
    return certs.self_signed_certificate(key, certs.parse_name('CN=%s' % name), [], 365)


CAS = dict((name, ca(name)) for name in ('one', 'two', 'three', 'four'))


def run(path, check_mode=False, **params):
    module = FakeModule(si_truststore.argument_spec(), check_mode=check_mode, diff=True, path=str(path), password=PW,
                        **params)
    return backend.TruststoreBackend.execute(module), module


def items(*names):
    return [dict(alias=n, content=certs.cert_to_pem(CAS[n])) for n in names]


def store_with(path, *names):
    store = Keystore('jks', password=PW)
    for n in names:
        store.set_trusted(n, CAS[n])
    path.write_bytes(store.dumps(PW))


def test_decide_exclusive_removes_only_unlisted_trusted_entries(tmp_path):
    store_with(tmp_path / 'ts.jks', 'one', 'two')
    ts = backend.TruststoreBackend(FakeModule(si_truststore.argument_spec(), path=str(tmp_path / 'ts.jks'),
                                              password=PW, exclusive=True, certificates=items('one', 'three')))
    ts.read()
    ts.decide()
    assert ts.removals == ['two']


def test_decide_absent_by_alias_and_by_certificate(tmp_path):
    store = Keystore('jks', password=PW)
    store.set_trusted('copy-of-one', CAS['one'])
    store.set_trusted('two', CAS['two'])
    (tmp_path / 'ts.jks').write_bytes(store.dumps(PW))
    ts = backend.TruststoreBackend(FakeModule(si_truststore.argument_spec(), path=str(tmp_path / 'ts.jks'),
                                              password=PW, state='absent',
                                              certificates=items('one') + [dict(alias='two')]))
    ts.read()
    ts.decide()
    assert sorted(set(ts.removals)) == ['copy-of-one', 'two']


def test_a_certificate_without_content_is_refused_for_present(tmp_path):
    with pytest.raises(InvalidInputError, match='needs content or path'):
        run(tmp_path / 'ts.jks', certificates=[dict(alias='x')])


def test_added_replaced_and_already_trusted(tmp_path):
    store_with(tmp_path / 'ts.jks', 'one', 'two')
    result, module = run(tmp_path / 'ts.jks', certificates=[
        dict(alias='two', content=certs.cert_to_pem(CAS['three'])),   # replaced
        dict(alias='again', content=certs.cert_to_pem(CAS['one'])),   # already trusted as 'one'
        dict(alias='new', content=certs.cert_to_pem(CAS['four'])),    # added
    ])
    assert result['changed'] and result['added'] == ['new'] and result['replaced'] == ['two']
    assert "already trusted as 'one'" in module.warnings[0]
    assert [e['alias'] for e in result['diff']['after']['entries']] == ['new', 'two']
    again, dummy = run(tmp_path / 'ts.jks', certificates=items('one'))
    assert not again['changed'] and again['added'] == [] and again['replaced'] == []


def test_tally_is_shared_and_indexes_after_removals():
    store = Keystore('jks', password=PW)
    store.set_trusted('one', CAS['one'])
    tally = TrustTally(store)
    tally.remove('one')
    assert tally.trust('renamed', CAS['one']) == []  # the removed alias no longer counts as trusting it
    assert tally.added == ['renamed'] and list(tally.previous) == ['one']
    assert tally.trust('third', CAS['one']) == ['renamed']
    assert tally.trust('renamed', CAS['two']) == [] and tally.replaced == ['renamed']


def test_check_mode_writes_nothing(tmp_path):
    result, dummy = run(tmp_path / 'ts.jks', check_mode=True, certificates=items('one'))
    assert result['changed'] and result['added'] == ['one'] and not (tmp_path / 'ts.jks').exists()
