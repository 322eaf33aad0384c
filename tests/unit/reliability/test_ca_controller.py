# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""si_ca as an automation controller runs it (issue 14): no CA is ever made
silently, a CA given as content signs without a file being written, a rerun
from a fresh controller keeps each host's certificate, hosts served by another
CA stop the run before anything is signed, and the CA directory never lands in
a git work tree."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.ownca import OwnCA


def csr_pem(cn='si1.example.com'):
    key = certs.generate_private_key('ec')
    return certs.csr_to_pem(certs.build_csr(key, certs.parse_name('CN=%s' % cn), ['DNS:%s' % cn],
                                            ['digitalSignature'], ['serverAuth']))


def make_ca(directory, subject='CN=Controller CA', passphrase=None):
    os.makedirs(directory)
    ca = OwnCA(directory, passphrase)
    ca.create(subject, key_type='ec')
    with open(ca.key_path) as f:
        return ca, certs.cert_to_pem(ca.cert), f.read()


def test_a_missing_ca_is_an_error_naming_where_it_was_looked_for(tmp_path):
    ca_dir = str(tmp_path / 'ca')
    result = h.run_module('si_ca', dict(ca_dir=ca_dir, csr=csr_pem(), dest=str(tmp_path / 'si1.pem')), tmp_path)
    h.assert_clean_failure(result, r'no CA in %s \(looked for %s/ca\.key and %s/ca\.pem\): .*rollout_ca_certificate'
                           r'.*create=true \(rollout_ca_create=true\)' % (ca_dir, ca_dir, ca_dir))
    assert not os.path.exists(os.path.join(ca_dir, 'ca.key'))
    assert not os.path.exists(str(tmp_path / 'si1.pem'))


def test_create_true_makes_the_ca_once(tmp_path):
    ca_dir = str(tmp_path / 'ca')
    first = h.run_module('si_ca', dict(ca_dir=ca_dir, create=True), tmp_path)
    h.assert_ok(first)
    assert first.json['ca_created'] and first.json['changed']
    again = h.run_module('si_ca', dict(ca_dir=ca_dir, create=True), tmp_path)
    h.assert_ok(again)
    assert not again.json['ca_created'] and not again.json['changed']
    assert again.json['ca_fingerprint_sha256'] == first.json['ca_fingerprint_sha256']


@pytest.mark.parametrize('passphrase', [None, 'ca-Passphrase-1'])
def test_a_ca_given_as_content_signs_and_a_fresh_controller_keeps_the_certificate(tmp_path, passphrase):
    dummy, cert_pem, key_pem = make_ca(str(tmp_path / 'vault'), passphrase=passphrase)
    job = tmp_path / 'job'
    job.mkdir()
    csr = csr_pem()
    args = dict(ca_certificate=cert_pem, ca_private_key=key_pem, csr=csr)
    if passphrase:
        args['ca_passphrase'] = passphrase
    before = h.snapshot(str(job))
    first = h.run_module('si_ca', args, job)
    h.assert_ok(first)
    assert first.json['changed']
    assert h.snapshot(str(job)) == before  # nothing written: no ca_dir, no dest
    # the next job: a fresh controller, the host's certificate given back
    args['current_certificate'] = first.json['certificate']
    second = h.run_module('si_ca', args, job)
    h.assert_ok(second)
    assert not second.json['changed']
    assert second.json['certificate'] == first.json['certificate']
    assert key_pem.strip().splitlines()[2] not in first.stdout + second.stdout + first.stderr + second.stderr


def test_a_ca_given_as_content_cannot_be_created(tmp_path):
    dummy, cert_pem, key_pem = make_ca(str(tmp_path / 'vault'))
    result = h.run_module('si_ca', dict(ca_certificate=cert_pem, ca_private_key=key_pem, create=True), tmp_path)
    h.assert_clean_failure(result, r'a CA given as content \(ca_certificate\) exists already')


def test_hosts_served_by_another_ca_stop_the_run_before_anything_is_written(tmp_path):
    old, old_pem, dummy = make_ca(str(tmp_path / 'old'), 'CN=Lost CA')
    leaf = certs.cert_to_pem(old.sign(certs.load_csr(csr_pem('si2')), 30))
    ca_dir = str(tmp_path / 'ca')
    served = {'si1': '', 'si2': leaf}
    # the controller lost its CA: recreating it would rotate the fleet silently
    result = h.run_module('si_ca', dict(ca_dir=ca_dir, create=True, served_certificates=served), tmp_path)
    h.assert_clean_failure(result, r'si2 serves a certificate issued by CN=Lost CA, not by the CA about to be '
                                   r'created: nothing was changed.*docs/ca-rotation\.md')
    assert not os.path.exists(os.path.join(ca_dir, 'ca.key'))
    # another CA given
    dummy, cert_pem, key_pem = make_ca(str(tmp_path / 'other'), 'CN=Other CA')
    result = h.run_module('si_ca', dict(ca_certificate=cert_pem, ca_private_key=key_pem,
                                        served_certificates=served), tmp_path)
    h.assert_clean_failure(result, r'si2 serves a certificate issued by CN=Lost CA, not by the CA given')
    # phase 2 of a rotation: the old CA still trusted
    result = h.run_module('si_ca', dict(ca_certificate=cert_pem, ca_private_key=key_pem, served_certificates=served,
                                        accepted_issuers=[old_pem]), tmp_path)
    h.assert_ok(result)
    # the CA that issued them
    result = h.run_module('si_ca', dict(ca_dir=str(tmp_path / 'old'), served_certificates=served), tmp_path)
    h.assert_ok(result)


@pytest.mark.skipif(shutil.which('git') is None, reason='git is not installed')
def test_a_ca_dir_in_a_git_work_tree_is_refused_unless_ignored(tmp_path):
    repo = tmp_path / 'checkout'
    repo.mkdir()
    subprocess.run(['git', 'init', '-q', str(repo)], check=True)
    result = h.run_module('si_ca', dict(ca_dir=str(repo / 'rollout-ca'), create=True), tmp_path)
    h.assert_clean_failure(result, r'rollout-ca is inside the git work tree .*checkout and not ignored by git')
    assert not os.path.exists(str(repo / 'rollout-ca'))
    (repo / '.gitignore').write_text('/rollout-ca/\n')
    h.assert_ok(h.run_module('si_ca', dict(ca_dir=str(repo / 'rollout-ca'), create=True), tmp_path))
    assert os.path.isfile(str(repo / 'rollout-ca' / 'ca.key'))
