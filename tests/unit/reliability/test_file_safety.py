# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""File safety (docs/files.md), with the real module files as separate processes
where a user would see it:

- one ownership rule for every module that writes a file: the owner and group of
  the file replaced or, for a new file, of its directory, unless owner/group are
  given;
- POSIX ACLs and extended attributes survive the atomic rename;
- a group-readable secrets file stays group-readable; a reader that would lose
  access is named, never silently locked out;
- si_config's three files are one change: checked writable first, put back when
  a later write fails, and the message says what happened;
- a file that is a symbolic link is followed (the link stays), a link planted by
  another user is refused;
- backups never follow or reuse anything at their name;
- every OS error ends in one sentence naming the file, never a traceback.

Tests that need a second user create one with useradd when run as root, and
skip otherwise.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import time

import pytest

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import fileio

pytestmark = h.needs_layout

PW = 'Trust.pass-1'
VAULT_PW = 'Vault.pass-2'
KS_PW = 'Store.pass-3'
USER = 'wso2si-fs'
# the rollback playbook finds a backup without its record by FILE.<digits>.*~
ROLLBACK_PATTERN = r'[.][0-9]+[.].*~$'


@pytest.fixture(scope='module')
def user():
    """(uid, gid) of a second user (its own group), created when running as root."""
    if os.geteuid() != 0:
        pytest.skip('needs root, to create a second user and give it files')
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        if shutil.which('useradd') is None:
            pytest.skip('useradd is not installed')
        subprocess.call(['useradd', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', USER],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            pw = pwd.getpwnam(USER)
        except KeyError:
            pytest.skip('useradd could not create the user %s' % USER)
    return pw.pw_uid, pw.pw_gid


def owner_of(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for directory, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(directory, name), uid, gid)


@pytest.fixture(scope='module')
def cas():
    return [h.self_signed(h.ec_key(), 'files-ca-%d' % n) for n in range(3)]


def vault_store(directory):
    key = h.rsa_key(1)
    return h.make_store(os.path.join(str(directory), 'vault.jks'), VAULT_PW,
                        keys=[('vault', key, [h.self_signed(key, 'vault')])])


def secret_args(secrets, vault, alias='new.secret', value='New.value2'):
    return dict(secrets_file=secrets, vault_keystore_path=vault, vault_keystore_password=VAULT_PW,
                vault_key_alias='vault', secrets=[{'alias': alias, 'value': value}])


def config_args(home, backup=False):
    security = os.path.join(home, 'resources', 'security')
    return dict(si_home=home, passwords_as='secure_vault', backup=backup,
                keystore={'path': os.path.join(security, 'si-tls.jks'), 'password': KS_PW},
                truststore={'path': os.path.join(security, 'si-trust.jks'), 'password': PW},
                secure_vault={'keystore_path': os.path.join(security, 'si-vault.jks'), 'key_alias': 'si-vault',
                              'password': VAULT_PW})


def si_files(home):
    conf = os.path.join(home, 'conf', 'server')
    return {'secrets': os.path.join(conf, 'secrets.properties'), 'deployment': os.path.join(conf, 'deployment.yaml'),
            'launcher': os.path.join(home, 'wso2', 'server', 'bin', 'carbon.sh')}


def sums(files):
    return dict((k, h.sha256_file(v)) for k, v in files.items())


# ---------------------------------------------------------------- 12.3 one ownership rule

@pytest.mark.parametrize('module', ['si_keystore', 'si_truststore', 'si_csr', 'si_secret', 'si_ca'])
def test_new_file_takes_the_directory_owner(tmp_path, user, cas, module):
    """Run as root in a directory SI's user owns: the new file is that user's, so SI can read it."""
    uid, gid = user
    d = str(tmp_path / 'owned')
    os.mkdir(d)
    os.chown(d, uid, gid)
    if module == 'si_keystore':
        args, name = dict(path=os.path.join(d, 'ks.jks'), password=KS_PW, alias='si', key_type='ec',
                          subject='CN=si.example.com'), 'ks.jks'
    elif module == 'si_truststore':
        args, name = dict(path=os.path.join(d, 'trust.jks'), password=PW,
                          certificates=[{'alias': 'ca0', 'content': h.pem(cas[0])}]), 'trust.jks'
    elif module == 'si_csr':
        ks = os.path.join(str(tmp_path), 'ks.jks')
        key = h.ec_key()
        h.make_store(ks, KS_PW, keys=[('si', key, [h.self_signed(key, 'si.example.com')])])
        args, name = dict(path=ks, password=KS_PW, alias='si', dest=os.path.join(d, 'si.csr')), 'si.csr'
    elif module == 'si_secret':
        vault = vault_store(tmp_path)
        args, name = secret_args(os.path.join(d, 'secrets.properties'), vault), 'secrets.properties'
    else:
        args, name = dict(ca_dir=d, ca_key_type='ec', ca_passphrase='Ca.pass-4', create=True), 'ca.key'
    h.assert_ok(h.run_module(module, args, tmp_path))
    assert owner_of(os.path.join(d, name)) == (uid, gid)


def test_replaced_store_keeps_its_owner_and_options_win(tmp_path, user, cas):
    uid, gid = user
    path = h.make_store(str(tmp_path / 'trust.jks'), PW, trusted=[('ca0', cas[0])], mode=0o640)
    os.chown(path, uid, gid)
    h.assert_ok(h.run_module('si_truststore', dict(path=path, password=PW, certificates=[
        {'alias': 'ca0', 'content': h.pem(cas[0])}, {'alias': 'ca1', 'content': h.pem(cas[1])}]), tmp_path))
    assert owner_of(path) == (uid, gid)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    # owner/group given: they win over the rule, for a new file in a directory another user owns too
    d = str(tmp_path / 'owned')
    os.mkdir(d)
    os.chown(d, uid, gid)
    new = os.path.join(d, 'ks.jks')
    h.assert_ok(h.run_module('si_keystore', dict(path=new, password=KS_PW, alias='si', key_type='ec',
                                                 subject='CN=si.example.com', owner='root', group='root'), tmp_path))
    assert owner_of(new) == (0, 0)


# ---------------------------------------------------------------- 12.4 ACLs and extended attributes

def set_acl(path, spec):
    if shutil.which('setfacl') is None:
        pytest.skip('setfacl is not installed (Debian package acl)')
    proc = subprocess.run(['setfacl', '-m', spec, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        pytest.skip('this file system does not support POSIX ACLs: %s' % proc.stdout.decode('utf-8', 'replace').strip())


def get_acl(path):
    return subprocess.run(['getfacl', '--omit-header', '--numeric', path], stdout=subprocess.PIPE,
                          check=True).stdout.decode()


def set_user_xattr(path):
    try:
        os.setxattr(path, 'user.wso2si-test', b'kept')
    except OSError as exc:
        pytest.skip('this file system does not support user extended attributes: %s' % exc.strerror)


def test_acl_and_xattrs_of_a_store_survive_a_rewrite(tmp_path, user, cas):
    uid, dummy = user
    path = h.make_store(str(tmp_path / 'trust.jks'), PW, trusted=[('ca0', cas[0])], mode=0o600)
    set_acl(path, 'u:%d:r' % uid)
    set_user_xattr(path)
    before = get_acl(path)
    assert 'user:%d:r--' % uid in before
    h.assert_ok(h.run_module('si_truststore', dict(path=path, password=PW, certificates=[
        {'alias': 'ca0', 'content': h.pem(cas[0])}, {'alias': 'ca1', 'content': h.pem(cas[1])}]), tmp_path))
    assert sorted(h.load_store(path, PW).entries) == ['ca0', 'ca1']  # rewritten
    assert get_acl(path) == before
    assert os.getxattr(path, 'user.wso2si-test') == b'kept'


def test_acl_of_a_secrets_file_survives_and_stays_effective(tmp_path, user):
    """SI's user reads secrets.properties through a named-user ACL entry: after
    the private rewrite the entry is still there and its mask still lets it read."""
    uid, dummy = user
    vault = vault_store(tmp_path)
    secrets = h.write(tmp_path / 'secrets.properties', 'old.secret=plainText Old.value1\n', 0o600)
    set_acl(secrets, 'u:%d:r' % uid)
    r = h.run_module('si_secret', secret_args(secrets, vault), tmp_path)
    h.assert_ok(r)
    assert r.json['changed']
    acl = get_acl(secrets)
    assert 'user:%d:r--' % uid in acl and 'mask::r--' in acl, acl
    assert stat.S_IMODE(os.stat(secrets).st_mode) & 0o007 == 0
    # and the next run has nothing to do
    r = h.run_module('si_secret', secret_args(secrets, vault), tmp_path)
    h.assert_ok(r)
    assert not r.json['changed']


# ---------------------------------------------------------------- 12.5 group-readable secrets

@pytest.mark.parametrize('module', ['si_secret', 'si_config'])
def test_group_readable_secrets_file_stays_group_readable(tmp_path, user, module):
    uid, gid = user
    if module == 'si_secret':
        vault = vault_store(tmp_path)
        secrets = h.write(tmp_path / 'secrets.properties', 'old.secret=plainText Old.value1\n', 0o640)
        os.chown(secrets, 0, gid)
        args = secret_args(secrets, vault)
    else:
        home = h.si_home(tmp_path, KS_PW, PW, VAULT_PW)
        secrets = si_files(home)['secrets']
        os.chmod(secrets, 0o640)
        os.chown(secrets, 0, gid)
        args = config_args(home)
    r = h.run_module(module, args, tmp_path)
    h.assert_ok(r)
    assert r.json['changed']
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o640
    assert owner_of(secrets) == (0, gid)
    r = h.run_module(module, args, tmp_path)
    h.assert_ok(r)
    assert not r.json['changed']


def test_world_readable_secrets_file_read_by_si_through_others_is_refused(tmp_path, user):
    """SI's user owns the directory but reads root's 0644 secrets file only as
    "others": making it 0600 would lock SI out. Refused with a sentence naming
    the user; nothing changes."""
    uid, gid = user
    d = str(tmp_path / 'conf')
    os.mkdir(d)
    os.chown(d, uid, gid)
    vault = vault_store(tmp_path)
    secrets = h.write(os.path.join(d, 'secrets.properties'), 'old.secret=plainText Old.value1\n', 0o644)
    old = h.sha256_file(secrets)
    r = h.run_module('si_secret', secret_args(secrets, vault), tmp_path)
    h.assert_clean_failure(r, r'readable by others .*%s.* would lock %s out' % (USER, USER))
    assert h.sha256_file(secrets) == old
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o644


def test_world_readable_secrets_file_read_by_si_through_its_group_keeps_the_group(tmp_path, user):
    """root:SI-group 0644 in SI's directory: others lose access, SI's group keeps it (0640)."""
    uid, gid = user
    d = str(tmp_path / 'conf')
    os.mkdir(d)
    os.chown(d, uid, gid)
    vault = vault_store(tmp_path)
    secrets = h.write(os.path.join(d, 'secrets.properties'), 'old.secret=plainText Old.value1\n', 0o644)
    os.chown(secrets, 0, gid)
    r = h.run_module('si_secret', secret_args(secrets, vault), tmp_path)
    h.assert_ok(r)
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o640
    r = h.run_module('si_secret', secret_args(secrets, vault), tmp_path)
    h.assert_ok(r)
    assert not r.json['changed']


def test_shipped_world_readable_secrets_file_of_si_becomes_0600(tmp_path, user):
    """SI's user owns the file (as SI ships it, 0644): only its owner needs it, 0600."""
    uid, gid = user
    d = str(tmp_path / 'conf')
    os.mkdir(d)
    os.chown(d, uid, gid)
    vault = vault_store(tmp_path)
    secrets = h.write(os.path.join(d, 'secrets.properties'), 'old.secret=plainText Old.value1\n', 0o644)
    os.chown(secrets, uid, gid)
    h.assert_ok(h.run_module('si_secret', secret_args(secrets, vault), tmp_path))
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o600
    assert owner_of(secrets) == (uid, gid)


# ---------------------------------------------------------------- 12.11 three files, one change

def chattr(flag, path):
    if shutil.which('chattr') is None:
        pytest.skip('chattr is not installed')
    proc = subprocess.run(['chattr', flag, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        pytest.skip('chattr %s is not possible here: %s' % (flag, proc.stdout.decode('utf-8', 'replace').strip()))


def test_si_config_immutable_launcher_changes_nothing(tmp_path):
    """carbon.sh is immutable (chattr +i): refused before the first write, and
    secrets.properties and deployment.yaml stay as they were."""
    home = h.si_home(tmp_path, KS_PW, PW, VAULT_PW)
    files = si_files(home)
    before = sums(files)
    chattr('+i', files['launcher'])
    try:
        r = h.run_module('si_config', config_args(home), tmp_path)
    finally:
        subprocess.call(['chattr', '-i', files['launcher']])
    h.assert_clean_failure(r, r'cannot write .*carbon\.sh: it is marked immutable .*; nothing was changed')
    assert not r.json.get('changed')
    assert sums(files) == before
    h.assert_ok(h.run_module('si_config', config_args(home), tmp_path))


def test_si_config_launcher_directory_not_writable_changes_nothing(tmp_path):
    """No temporary file can be made beside carbon.sh (the harness refuses it, as
    a directory the user cannot write does): one sentence, nothing changed."""
    home = h.si_home(tmp_path, KS_PW, PW, VAULT_PW)
    files = si_files(home)
    before = sums(files)
    bin_dir = os.path.dirname(files['launcher'])
    r = h.run_module('si_config', config_args(home), tmp_path,
                     harness={'fail': {'op': 'mkstemp', 'dir': bin_dir, 'nth': [1, 2, 3]}})
    h.assert_clean_failure(r, r'cannot write .*carbon\.sh: .*Permission denied.*nothing was changed')
    assert sums(files) == before


def test_si_config_late_failure_puts_the_earlier_files_back(tmp_path):
    """The probe passes but the rename of carbon.sh still fails: secrets.properties
    and deployment.yaml, already written, are put back; changed is false."""
    home = h.si_home(tmp_path, KS_PW, PW, VAULT_PW)
    files = si_files(home)
    before = sums(files)
    modes = dict((k, stat.S_IMODE(os.stat(v).st_mode)) for k, v in files.items())
    bin_dir = os.path.dirname(files['launcher'])
    r = h.run_module('si_config', config_args(home, backup=True), tmp_path,
                     harness={'fail': {'op': 'rename', 'dir': bin_dir, 'nth': [1]}})
    h.assert_clean_failure(r, r'cannot write .*carbon\.sh: Permission denied; that file is unchanged; '
                              r'.*secrets\.properties and .*deployment\.yaml, written before it, were put back')
    assert 'the previous file is unchanged' not in r.msg
    assert not r.json.get('changed')
    assert sums(files) == before
    assert dict((k, stat.S_IMODE(os.stat(v).st_mode)) for k, v in files.items()) == modes
    r = h.run_module('si_config', config_args(home), tmp_path)
    h.assert_ok(r)
    assert r.json['changed']


@pytest.mark.parametrize('failing,kept', [(3, ['secrets', 'deployment']), (4, ['secrets'])],
                         ids=['deployment-not-restored', 'secrets-not-restored'])
def test_si_config_failed_restore_is_reported_and_changed(tmp_path, failing, kept):
    """Putting a file back fails too: the message names the files that keep the
    new content, changed is true, and the files kept new are always the first
    ones written (deployment.yaml never names a secret the secrets file lacks)."""
    home = h.si_home(tmp_path, KS_PW, PW, VAULT_PW)
    files = si_files(home)
    before = sums(files)
    conf = os.path.dirname(files['secrets'])
    bin_dir = os.path.dirname(files['launcher'])
    r = h.run_module('si_config', config_args(home), tmp_path,
                     harness={'fail': [{'op': 'rename', 'dir': bin_dir, 'nth': [1]},
                                       {'op': 'rename', 'dir': conf, 'nth': [failing]}]})
    h.assert_clean_failure(r, r'putting .* back failed \(.*\), so .* the new content')
    assert r.json['changed'] is True
    changed = sorted(k for k in files if h.sha256_file(files[k]) != before[k])
    assert changed == sorted(kept)
    for name in kept:
        assert os.path.basename(files[name]) in r.msg.split('so ')[-1]


# ---------------------------------------------------------------- 12.12 links

@pytest.mark.parametrize('which', ['deployment', 'launcher'])
def test_si_config_follows_a_linked_file(tmp_path, which):
    """deployment.yaml / carbon.sh is a link into a config-management copy: the
    link stays, its target gets the change (atomically, in its own directory)
    and the backup is beside the target."""
    home = h.si_home(tmp_path, KS_PW, PW, VAULT_PW)
    files = si_files(home)
    managed = str(tmp_path / 'managed')
    os.mkdir(managed)
    target = os.path.join(managed, os.path.basename(files[which]))
    shutil.move(files[which], target)
    os.symlink(target, files[which])
    old = h.sha256_file(target)
    r = h.run_module('si_config', config_args(home, backup=True), tmp_path)
    h.assert_ok(r)
    assert os.path.islink(files[which]) and os.readlink(files[which]) == target
    assert h.sha256_file(target) != old
    backup = r.json['backup_files'][files[which]]
    assert os.path.dirname(backup) == managed and backup.startswith(target + '.')
    assert h.sha256_file(backup) == old
    r = h.run_module('si_config', config_args(home), tmp_path)
    h.assert_ok(r)
    assert not r.json['changed']


def test_link_planted_by_another_user_is_refused(tmp_path, user, cas):
    """A link the SI user planted at a store's path, to a root file: never
    followed for a write, nothing changes."""
    uid, gid = user
    d = str(tmp_path / 'security')
    os.mkdir(d)
    os.chown(d, uid, gid)
    outside = str(tmp_path / 'outside')
    os.mkdir(outside)
    victim = h.make_store(os.path.join(outside, 'root.jks'), PW, trusted=[('ca0', cas[0])])
    old = h.sha256_file(victim)
    link = os.path.join(d, 'trust.jks')
    os.symlink(victim, link)
    os.lchown(link, uid, gid)
    r = h.run_module('si_truststore', dict(path=link, password=PW, certificates=[
        {'alias': 'ca1', 'content': h.pem(cas[1])}]), tmp_path)
    h.assert_clean_failure(r, r'is a symbolic link to .*root\.jks, made by %s, who does not own that file' % USER)
    assert h.sha256_file(victim) == old
    assert os.path.islink(link)


# ---------------------------------------------------------------- 13.1 backups

class FrozenTime(object):
    def __init__(self, monkeypatch):
        self.now = time.time()
        monkeypatch.setattr(time, 'time', lambda: self.now)


def in_process_module():
    """What fileio.backup(module, path) gets from a module: AnsibleModule's own
    backup methods, in this process (SELinux off)."""
    from ansible.module_utils.basic import AnsibleModule

    class Module(object):
        check_mode = False
        backup_local = AnsibleModule.backup_local
        preserved_copy = AnsibleModule.preserved_copy

        def selinux_enabled(self):
            return False

    return Module()


@pytest.mark.parametrize('planted', ['link-to-root-file', 'dangling-link', 'file-of-the-user'])
def test_backup_never_follows_or_reuses_a_planted_name(tmp_path, user, monkeypatch, planted):
    """As root, backing up a keystore in a directory SI's user owns, where that
    user planted a link (to a root-owned file elsewhere, or dangling) or a file
    of its own at every name the backup could take: none is followed or
    written, the backup is a new file with the keystore's owner and mode."""
    uid, gid = user
    d = str(tmp_path / 'security')
    os.mkdir(d)
    os.chown(d, uid, gid)
    outside = str(tmp_path / 'outside')
    os.mkdir(outside, 0o755)
    root_file = h.write(os.path.join(outside, 'root-owned'), b'root data\n', 0o644)
    dangling = os.path.join(outside, 'created-through-a-link')
    secret = b'private key bytes\n' * 50
    path = h.write(os.path.join(d, 'si-tls.jks'), secret, 0o600)
    os.chown(path, uid, gid)
    os.utime(path, (1000000000, 1000000000))

    FrozenTime(monkeypatch)
    tokens = ['%012x' % n for n in range(1, 9)]
    served = list(tokens)
    monkeypatch.setattr(fileio, '_random_token', lambda: served.pop(0), raising=False)
    stamp = time.strftime('%Y-%m-%d@%H:%M:%S', time.localtime(time.time()))
    # every candidate: ansible-core's name, and the collection's first seven
    candidates = ['%s.%d.%s~' % (path, os.getpid(), stamp)]
    candidates += ['%s.%d.%s.%s~' % (path, os.getpid(), stamp, t) for t in tokens[:7]]
    for name in candidates:
        if planted == 'link-to-root-file':
            os.symlink(root_file, name)
        elif planted == 'dangling-link':
            os.symlink(dangling, name)
        else:
            h.write(name, b'mine\n', 0o666)
            os.chown(name, uid, gid)
        if os.path.islink(name):
            os.lchown(name, uid, gid)
    planted_state = dict((n, (os.lstat(n).st_ino, os.path.islink(n))) for n in candidates)

    module = in_process_module()
    made = fileio.backup(module, path)

    with open(root_file, 'rb') as f:
        assert f.read() == b'root data\n'
    assert owner_of(root_file) == (0, 0) and stat.S_IMODE(os.stat(root_file).st_mode) == 0o644
    assert not os.path.lexists(dangling)
    for name in candidates:
        assert (os.lstat(name).st_ino, os.path.islink(name)) == planted_state[name]
        if not os.path.islink(name):
            with open(name, 'rb') as f:
                assert f.read() == b'mine\n'
    assert made not in candidates
    assert made == '%s.%d.%s.%s~' % (path, os.getpid(), stamp, tokens[7])
    st = os.lstat(made)
    assert stat.S_ISREG(st.st_mode)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, gid, 0o600)
    assert st.st_mtime == 1000000000
    with open(made, 'rb') as f:
        assert f.read() == secret
    assert re.search(re.escape(path) + ROLLBACK_PATTERN, made)


def test_backup_names_are_unpredictable_and_private_from_the_start(tmp_path, cas):
    """Two backups in the same second get different names; each is what the
    rollback playbook finds, and holds the content 0600 while written."""
    path = h.make_store(str(tmp_path / 'trust.jks'), PW, trusted=[('ca0', cas[0])], mode=0o644)
    record = str(tmp_path / 'record.jsonl')
    made = []
    for n in (1, 2):
        r = h.run_module('si_truststore', dict(path=path, password=PW, backup=True, certificates=[
            {'alias': 'ca%d' % k, 'content': h.pem(cas[k])} for k in range(n + 1)]), tmp_path,
            harness={'record': record, 'umask': 0o022})
        h.assert_ok(r)
        made.append(r.json['backup_file'])
    assert made[0] != made[1]
    for name in made:
        assert re.search(re.escape(path) + ROLLBACK_PATTERN, name), name
        assert re.search(r'\.[0-9a-f]{12}~$', name), name
        assert stat.S_IMODE(os.stat(name).st_mode) == 0o644  # the original's mode, set once the content is in
    with open(record) as f:
        events = [json.loads(line) for line in f]
    writes = [e for e in events if e['event'] == 'backup']
    assert writes and all(e['mode'] & 0o077 == 0 for e in writes), writes


# ---------------------------------------------------------------- 13.6 one sentence, never a traceback

def test_failed_backup_is_one_sentence(tmp_path, cas):
    """The backup copy cannot be written (file size limit: EFBIG, as on a full
    disk): one sentence naming the file, the store unchanged, no leftover."""
    path = h.make_store(str(tmp_path / 'trust.jks'), PW, trusted=[('ca0', cas[0]), ('ca1', cas[1])])
    old = h.sha256_file(path)
    r = h.run_module('si_truststore', dict(path=path, password=PW, backup=True, certificates=[
        {'alias': 'ca%d' % k, 'content': h.pem(cas[k])} for k in range(3)]), tmp_path,
        harness={'limits': dict(h.DEFAULT_LIMITS, fsize=64)})
    h.assert_clean_failure(r, r'^cannot back up .*trust\.jks to .*~: File too large; nothing was changed$')
    assert h.sha256_file(path) == old
    assert [n for n in os.listdir(str(tmp_path)) if n.endswith('~')] == []


def test_directory_refusing_a_temporary_file_is_one_sentence(tmp_path, cas):
    """mkstemp fails (a directory the user cannot write): one sentence, no traceback."""
    path = h.make_store(str(tmp_path / 'trust.jks'), PW, trusted=[('ca0', cas[0])])
    old = h.sha256_file(path)
    r = h.run_module('si_truststore', dict(path=path, password=PW, certificates=[
        {'alias': 'ca%d' % k, 'content': h.pem(cas[k])} for k in range(2)]), tmp_path,
        harness={'fail': {'op': 'mkstemp', 'dir': str(tmp_path)}})
    h.assert_clean_failure(r, r'^cannot write .*trust\.jks: cannot create a temporary file in .*: Permission denied; '
                              r'the previous file is unchanged$')
    assert h.sha256_file(path) == old


def test_unmapped_os_error_is_one_sentence(tmp_path, monkeypatch):
    """An OSError no step turned into the collection's error still ends in one
    sentence naming the file (store_file.run)."""
    from ansible_collections.wso2si.keystores.plugins.module_utils import store_file

    class Module(object):
        params = {'path': str(tmp_path / 'x.jks')}

        def fail_json(self, **kw):
            raise SystemExit(kw)

        def exit_json(self, **kw):
            raise SystemExit(dict(kw, ok=True))

    def logic(module):
        raise PermissionError(13, 'Permission denied', '/some/file')

    monkeypatch.setattr(store_file, 'check_dependencies', lambda module: None)
    with pytest.raises(SystemExit) as exc:
        store_file.run(Module(), logic)
    assert exc.value.args[0] == {'msg': 'cannot access /some/file: Permission denied'}
