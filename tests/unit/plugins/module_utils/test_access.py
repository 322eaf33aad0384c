# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Can SI's user read the files SI opens at start? Owner, group, mode, POSIX ACLs
and directory search permission, judged for a user other than the one running."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import struct
import subprocess
import tempfile

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import access
from ansible_collections.wso2si.keystores.plugins.module_utils import yaml_text as yt
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
PROJECT_HOME = os.path.join(REPO, 'tests', 'fixtures', 'si_home')

as_root = pytest.mark.skipif(os.geteuid() != 0, reason='needs root to give files to other users')
needs_setfacl = pytest.mark.skipif(shutil.which('setfacl') is None, reason='setfacl absent')

SI = access.User('si', 4242, [4242, 5000])
OTHER = access.User('other', 4343, [4343])
GROUP = 5000


@pytest.fixture
def base():
    """A world-searchable directory (pytest's tmp_path sits under a 0700 directory)."""
    d = tempfile.mkdtemp(prefix='wso2si-access-')
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d)


def make(base, name, uid=0, gid=0, mode=0o600):
    path = os.path.join(base, name)
    with open(path, 'w') as f:
        f.write('x')
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return path


def acl_bytes(*entries):
    return struct.pack('<I', 2) + b''.join(struct.pack('<HHI', t, p, i) for t, p, i in entries)


def test_parse_acl():
    data = acl_bytes((access.ACL_USER_OBJ, 6, 0xffffffff), (access.ACL_USER, 4, 4242),
                     (access.ACL_GROUP_OBJ, 0, 0xffffffff), (access.ACL_MASK, 4, 0xffffffff),
                     (access.ACL_OTHER, 0, 0xffffffff))
    assert access.parse_acl(data)[1] == (access.ACL_USER, 4, 4242)
    assert access.parse_acl(b'\x01\x00\x00\x00') is None
    assert access.parse_acl(b'\x02\x00') is None


@as_root
@pytest.mark.parametrize('uid,gid,mode,user,ok', [
    (0, 0, 0o600, SI, False),         # root:root 0600: the case a become-root rollout creates
    (0, 0, 0o644, SI, True),
    (4242, 0, 0o600, SI, True),       # SI owns it
    (4242, 0, 0o060, SI, False),      # the owner class decides for the owner, even when the group could read
    (0, GROUP, 0o640, SI, True),      # through a supplementary group
    (0, GROUP, 0o640, OTHER, False),
    (0, GROUP, 0o604, SI, False),     # the group class decides for a member, even when others could read
    (0, 0, 0o600, access.User('root', 0, [0]), True),
])
def test_mode_bits(base, uid, gid, mode, user, ok):
    path = make(base, 'store.jks', uid, gid, mode)
    reason = access.unreadable(path, user)
    assert (reason is None) is ok, reason
    if not ok:
        assert reason.startswith('the file is ')


@as_root
def test_directory_search_permission(base):
    sub = os.path.join(base, 'security')
    os.mkdir(sub)
    path = make(sub, 'store.jks', 4242, 4242, 0o600)
    os.chmod(sub, 0o700)
    reason = access.unreadable(path, SI)
    assert reason.startswith('cannot enter the directory %s' % sub)
    os.chmod(sub, 0o711)
    assert access.unreadable(path, SI) is None


@as_root
def test_symlink_target_directories_are_checked(base):
    hidden = os.path.join(base, 'hidden')
    os.mkdir(hidden, 0o700)
    target = make(hidden, 'store.jks', 4242, 4242, 0o600)
    link = os.path.join(base, 'link.jks')
    os.symlink(target, link)
    assert 'cannot enter the directory %s' % hidden in access.unreadable(link, SI)


@as_root
@needs_setfacl
def test_acl_user_entry_grants_and_mask_limits(base):
    path = make(base, 'store.jks', 0, 0, 0o600)
    subprocess.check_call(['setfacl', '-m', 'u:4242:r', path])
    assert access.read_acl(path) is not None
    assert access.unreadable(path, SI) is None
    assert access.unreadable(path, OTHER) is not None
    subprocess.check_call(['setfacl', '-m', 'm::-', path])
    assert access.unreadable(path, SI) is not None


@as_root
@needs_setfacl
def test_acl_group_entry(base):
    path = make(base, 'store.jks', 0, 0, 0o600)
    subprocess.check_call(['setfacl', '-m', 'g:%d:r' % GROUP, path])
    assert access.unreadable(path, SI) is None
    assert access.unreadable(path, OTHER) is not None


@as_root
@needs_setfacl
def test_acl_on_a_directory(base):
    sub = os.path.join(base, 'security')
    os.mkdir(sub, 0o700)
    path = make(sub, 'store.jks', 4242, 4242, 0o600)
    assert access.unreadable(path, SI) is not None
    subprocess.check_call(['setfacl', '-m', 'u:4242:x', sub])
    assert access.unreadable(path, SI) is None


def test_running_as_the_user_uses_os_access(base):
    me = access.lookup_user(os.geteuid())
    path = os.path.join(base, 'mine')
    with open(path, 'w') as f:
        f.write('x')
    assert access.unreadable(path, me) is None


@as_root
def test_a_file_about_to_be_created(base):
    path = os.path.join(base, 'secrets.properties')
    assert access.unreadable(path, SI, new_file=(4242, 4242, 0o600)) is None
    assert 'would be created as' in access.unreadable(path, SI, new_file=(0, 0, 0o600))


def test_unknown_user_is_one_sentence():
    with pytest.raises(InvalidInputError, match='does not exist on this host'):
        access.lookup_user('no-such-user-wso2si')


def test_startup_files_of_the_project_fixture():
    with open(os.path.join(PROJECT_HOME, 'conf', 'server', 'deployment.yaml'), 'rb') as f:
        doc = yt.DeploymentConfig.parse(f.read())
    files = dict(access.startup_files(doc, '/si', '/si/conf/server/deployment.yaml'))
    assert files['/si/conf/server/deployment.yaml'] == 'the configuration'
    assert files['/si/resources/security/wso2carbon.jks'].startswith('the keystore named at')
    assert files['/si/resources/security/client-truststore.jks'].startswith('the truststore named at')
    assert files['/si/resources/security/securevault.jks'] == 'the secure vault keystore'
    assert files['/si/conf/server/secrets.properties'] == 'the secrets file'
    assert files['/si/conf/server/master-keys.yaml'] == 'the master keys file'


@as_root
def test_startup_access_problems_name_file_and_user(base):
    home = os.path.join(base, 'si')
    shutil.copytree(PROJECT_HOME, home)
    for root, dirs, files in os.walk(home):
        for n in dirs + files:
            os.chown(os.path.join(root, n), 4242, 4242)
    os.chown(home, 4242, 4242)
    deployment = os.path.join(home, 'conf', 'server', 'deployment.yaml')
    with open(deployment, 'rb') as f:
        doc = yt.DeploymentConfig.parse(f.read())
    assert access.startup_access_problems(doc, home, deployment, SI) == []
    secrets = os.path.join(home, 'conf', 'server', 'secrets.properties')
    os.chown(secrets, 0, 0)
    os.chmod(secrets, 0o600)
    problems = access.startup_access_problems(doc, home, deployment, SI)
    assert [p[0] for p in problems] == [secrets]
    sentence = access.problem_sentence(SI, *problems[0])
    assert sentence.startswith('SI runs as si, who cannot read the secrets file %s' % secrets)
    assert 'root:root 0600' in sentence
