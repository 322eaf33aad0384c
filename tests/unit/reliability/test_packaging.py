# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The release never carries the rollout's CA material (issue 14): galaxy.yml's
build_ignore leaves it out wherever a playbook put it, and `make
package-check` refuses any file git does not track."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
STATE = ['rollout-ca/ca.key', 'rollout-ca/ca.pem', 'rollout-ca/issued/si1.pem', 'rollout-ca-2026/ca.key',
         'playbooks/rollout-ca/ca.key', 'playbooks/rollout-ca-2026/ca.key', 'playbooks/rollout-csr/si1.csr',
         'playbooks/rollout-signed/si1.pem', 'rollout-csr/si1.csr', 'rollout-signed/si1.pem']


def package_contents():
    spec = importlib.util.spec_from_file_location('package_contents',
                                                  os.path.join(ROOT, 'tests', 'utils', 'package_contents.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_leaves_the_rollout_state_out(tmp_path):
    coll = tmp_path / 'ansible_collections' / 'wso2si' / 'keystores'
    coll.mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, 'galaxy.yml'), str(coll / 'galaxy.yml'))
    for rel in ['README.md', 'playbooks/rollout.yml', 'meta/runtime.yml'] + STATE:
        path = coll / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('requires_ansible: ">=2.15"\n' if rel == 'meta/runtime.yml' else 'x\n')
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.galaxy', 'collection', 'build', '--output-path',
                           str(tmp_path / 'dist'), str(coll)], env=h.child_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)
    assert proc.returncode == 0, proc.stdout.decode()
    tarball = [str(p) for p in (tmp_path / 'dist').iterdir()][0]
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert 'playbooks/rollout.yml' in names
    assert [n for n in names if 'rollout-ca' in n or 'rollout-csr' in n or 'rollout-signed' in n] == []


@pytest.mark.skipif(shutil.which('git') is None, reason='git is not installed')
def test_package_check_refuses_a_file_git_does_not_track(tmp_path):
    pc = package_contents()
    repo = tmp_path / 'repo'
    repo.mkdir()
    subprocess.run(['git', 'init', '-q', str(repo)], check=True)
    (repo / 'tracked.txt').write_text('x\n')
    (repo / 'untracked.txt').write_text('x\n')  # neither added nor ignored
    (repo / '.gitignore').write_text('ignored.txt\n')
    (repo / 'ignored.txt').write_text('x\n')
    subprocess.run(['git', '-C', str(repo), 'add', 'tracked.txt', '.gitignore'], check=True)
    files = pc.repository_files(str(repo))
    assert files == {'tracked.txt', '.gitignore'}
    tarball = str(tmp_path / 'c.tar.gz')
    with tarfile.open(tarball, 'w:gz') as tar:
        for name in ('tracked.txt', 'untracked.txt', 'ignored.txt', 'rollout-ca/ca.key'):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b'x\n'))
    found, count, dummy = pc.problems(tarball, files, required=[])
    assert count == 4
    assert sorted(found) == ['junk in the tarball: rollout-ca/ca.key',
                             'not a file git tracks in the repository: ignored.txt',
                             'not a file git tracks in the repository: untracked.txt']
