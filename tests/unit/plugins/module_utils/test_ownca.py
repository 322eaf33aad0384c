# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeyMismatchError
from ansible_collections.wso2si.keystores.plugins.module_utils.ownca import OwnCA, state_dir_problem


def request(cn='si1.example.com'):
    key = certs.generate_private_key('rsa', 2048)
    return certs.build_csr(key, certs.parse_name('CN=%s' % cn), ['DNS:%s' % cn], ['digitalSignature'], ['serverAuth'])


@pytest.mark.parametrize('passphrase', [None, 'ca-Passphrase-1'])
def test_a_loaded_ca_validates_its_key_only_to_sign(tmp_path, passphrase):
    OwnCA(str(tmp_path), passphrase).create('CN=Test CA', key_size=2048)
    assert oct(os.stat(str(tmp_path / 'ca.key')).st_mode & 0o777) == '0o600'
    ca = OwnCA(str(tmp_path), passphrase)
    assert ca.load() is True
    csr = request()
    assert ca._key is None  # loaded and matched with its certificate, not validated
    issued = ca.sign(csr, validity_days=30)
    assert ca._key is not None
    assert certs.signed_by(issued, ca.cert)
    assert ca.issued_matches(issued, csr, renew_before_days=7)
    assert not ca.issued_matches(issued, request('other.example.com'), renew_before_days=7)
    assert not ca.issued_matches(issued, csr, renew_before_days=60)  # inside the renewal window


def test_a_ca_whose_key_and_certificate_differ_is_refused(tmp_path):
    os.makedirs(str(tmp_path / 'a'))
    os.makedirs(str(tmp_path / 'b'))
    OwnCA(str(tmp_path / 'a')).create('CN=A', key_size=2048)
    OwnCA(str(tmp_path / 'b')).create('CN=B', key_size=2048)
    os.replace(str(tmp_path / 'b' / 'ca.key'), str(tmp_path / 'a' / 'ca.key'))
    with pytest.raises(KeyMismatchError):
        OwnCA(str(tmp_path / 'a')).load()


def test_a_wrong_passphrase_is_named(tmp_path):
    OwnCA(str(tmp_path), 'right-Passphrase-1').create('CN=A', key_size=2048)
    with pytest.raises(InvalidInputError, match='the passphrase does not decrypt the CA key'):
        OwnCA(str(tmp_path), 'wrong-Passphrase-1').load()


# ---------------------------------------------------------------- a CA given as content (issue 14)

def _ca_pems(tmp_path, passphrase=None, subject='CN=Content CA'):
    tmp_path.mkdir()
    ca = OwnCA(str(tmp_path), passphrase)
    ca.create(subject, key_type='ec')
    with open(ca.key_path) as f:
        key = f.read()
    return certs.cert_to_pem(ca.cert), key


@pytest.mark.parametrize('passphrase', [None, 'ca-Passphrase-1'])
def test_a_ca_given_as_content_signs_in_memory(tmp_path, passphrase):
    cert_pem, key_pem = _ca_pems(tmp_path / 'made', passphrase)
    work = tmp_path / 'work'
    work.mkdir()
    ca = OwnCA.from_content(cert_pem, key_pem, passphrase)
    csr = request()
    issued = ca.sign(csr, validity_days=30)
    assert certs.signed_by(issued, ca.cert)
    assert ca.keep_issued(['', certs.cert_to_pem(issued)], csr, 7) is not None
    assert ca.keep_issued([certs.cert_to_pem(issued)], request('other.example.com'), 7) is None
    assert list(work.iterdir()) == []


def test_a_ca_given_as_content_whose_key_and_certificate_differ_is_refused(tmp_path):
    cert_a, dummy = _ca_pems(tmp_path / 'a', subject='CN=A')
    dummy, key_b = _ca_pems(tmp_path / 'b', subject='CN=B')
    with pytest.raises(KeyMismatchError):
        OwnCA.from_content(cert_a, key_b)
    with pytest.raises(InvalidInputError, match='the CA certificate given as content is not a certificate'):
        OwnCA.from_content('garbage', key_b)


def test_foreign_leaves_names_hosts_served_by_another_ca(tmp_path):
    ca = OwnCA(str(tmp_path))
    ca.create('CN=Given CA', key_type='ec')
    (tmp_path / 'old').mkdir()
    old = OwnCA(str(tmp_path / 'old'))
    old.create('CN=Old CA', key_type='ec')
    key = certs.generate_private_key('ec')
    own_leaf = certs.cert_to_pem(ca.sign(request('si1'), 30))
    old_leaf = certs.cert_to_pem(old.sign(request('si2'), 30))
    self_signed = certs.cert_to_pem(certs.self_signed_certificate(key, certs.parse_name('CN=si3')))
    served = {'si1': own_leaf, 'si2': old_leaf, 'si3': self_signed, 'si4': ''}
    assert ca.foreign_leaves(served) == [('si2', 'CN=Old CA')]
    # phase 2 of a rotation: the old CA is listed as still trusted
    assert ca.foreign_leaves(served, [certs.cert_to_pem(old.cert)]) == []
    # no CA yet (about to be created): every CA-issued leaf is foreign
    assert OwnCA(None).foreign_leaves(served) == [('si1', 'CN=Given CA'), ('si2', 'CN=Old CA')]


def _git(argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    return proc.returncode, proc.stdout.decode()


@pytest.mark.skipif(shutil.which('git') is None, reason='git is not installed')
def test_a_ca_dir_in_a_git_work_tree_is_refused_unless_ignored(tmp_path):
    repo = tmp_path / 'repo'
    repo.mkdir()
    subprocess.run(['git', 'init', '-q', str(repo)], check=True)
    (repo / '.gitignore').write_text('rollout-ca/\n')
    assert 'not ignored by git' in state_dir_problem(str(repo / 'ca'), _git)
    assert 'not ignored by git' in state_dir_problem(str(repo / 'sub' / 'deeper' / 'ca'), _git)
    assert state_dir_problem(str(repo / 'rollout-ca'), _git) is None
    assert state_dir_problem(str(tmp_path / 'outside'), _git) is None
    assert state_dir_problem(str(repo / 'ca'), lambda argv: None) is None  # no git


def test_a_ca_dir_in_an_installed_collection_is_refused(tmp_path):
    root = tmp_path / 'ansible_collections' / 'wso2si' / 'keystores'
    root.mkdir(parents=True)
    assert state_dir_problem(str(root / 'playbooks' / 'rollout-ca'), lambda argv: None) is None
    (root / 'MANIFEST.json').write_text('{}')
    assert 'inside the installed collection' in state_dir_problem(str(root / 'playbooks' / 'rollout-ca'),
                                                                  lambda argv: None)
