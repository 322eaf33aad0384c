# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Secrets stay secret.

- Every module runs in one playbook with ``-vvv`` and ``--diff`` (and a failing
  task with a wrong password); no password, secret value, private key (PEM or
  DER, whole or in part) or base64 of a password appears in the output or in
  ANSIBLE_LOG_PATH.
- Files holding private keys or secrets are 0600 afterwards.
- While being written they are never readable by others: module_harness.py
  records the mode of every temporary file at creation, at each write and at
  the rename, and of every backup copy once its content is in place, under the
  common umask 022.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import random
import re
import ssl
import string
import subprocess
import sys
import threading

import pytest

from cryptography.hazmat.primitives import serialization

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs

pytestmark = h.needs_layout


def secret(prefix):
    """A password SI accepts ([A-Za-z0-9._-], starting with a letter), unique to this run."""
    rnd = random.SystemRandom()
    return prefix + '.' + ''.join(rnd.choice(string.ascii_letters + string.digits) for dummy in range(14))


@pytest.fixture(scope='module')
def secrets():
    return dict(ks=secret('Ks'), ks_new=secret('Kn'), ts=secret('Ts'), vault=secret('Vt'), ca=secret('Ca'),
                value=secret('Sv'), value2=secret('Sw'), wrong=secret('Wr'), p12=secret('Pk'))


class TlsServer(object):
    def __init__(self, workdir):
        key = h.ec_key()
        self.cert = h.issue(key, 'localhost', key, 'localhost', ca=False)
        cert_file = h.write(os.path.join(workdir, 'tls-server.pem'), h.pem(self.cert))
        key_file = h.write(os.path.join(workdir, 'tls-server.key'), h.key_pem(key), 0o600)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, key_file)
        import socket
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

        def serve():
            while True:
                try:
                    conn, dummy = self.sock.accept()
                except OSError:
                    return
                try:
                    with ctx.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)
                except (OSError, ssl.SSLError):
                    pass
        threading.Thread(target=serve, daemon=True).start()


PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  vars_files: [secrets.yml]
  vars:
    w: "{{ playbook_dir }}"
    home: "{{ playbook_dir }}/si_home"
    sec: "{{ playbook_dir }}/si_home/resources/security"
  tasks:
    - name: si_keystore generates a key
      wso2si.keystores.si_keystore: {path: "{{ w }}/ks.jks", password: "{{ ks_pw }}", alias: si, key_type: ec,
                                     subject: CN=si.example.com, backup: true}
    - name: si_keystore from a PEM key (content)
      wso2si.keystores.si_keystore: {path: "{{ w }}/imported.jks", password: "{{ ks_pw }}", alias: imported,
                                     certificate: "{{ imported_cert }}", private_key: "{{ imported_key }}"}
    - name: si_keystore from a PKCS#12 file
      wso2si.keystores.si_keystore: {path: "{{ w }}/from-p12.jks", password: "{{ ks_pw }}", alias: imported,
                                     pkcs12_path: "{{ w }}/in.p12", pkcs12_password: "{{ p12_pw }}"}
    - name: si_csr
      wso2si.keystores.si_csr: {path: "{{ w }}/ks.jks", password: "{{ ks_pw }}", alias: si, dest: "{{ w }}/si.csr"}
    - name: si_ca signs it
      wso2si.keystores.si_ca: {ca_dir: "{{ w }}/ca", create: true, ca_passphrase: "{{ ca_pw }}", ca_key_type: ec,
                               csr: "{{ lookup('file', w ~ '/si.csr') }}", dest: "{{ w }}/si.pem"}
      register: ca
    - name: si_cert_import
      wso2si.keystores.si_cert_import: {path: "{{ w }}/ks.jks", password: "{{ ks_pw }}", alias: si,
                                        certificate_path: "{{ w }}/si.pem", backup: true,
                                        ca_certificates: [{alias: own-ca, content: "{{ ca.ca_certificate }}"}]}
    - name: si_truststore
      wso2si.keystores.si_truststore: {path: "{{ w }}/ts.jks", password: "{{ ts_pw }}",
                                       certificates: [{alias: own-ca, content: "{{ ca.ca_certificate }}"},
                                                      {alias: tls, path: "{{ w }}/tls-server.pem"}]}
    - name: si_truststore with a wrong password
      wso2si.keystores.si_truststore: {path: "{{ w }}/ts.jks", password: "{{ wrong_pw }}", certificates: []}
      ignore_errors: true
    - name: si_keystore_info
      wso2si.keystores.si_keystore_info: {path: "{{ w }}/ks.jks", password: "{{ ks_pw }}"}
    - name: si_keystore rotates the store password
      wso2si.keystores.si_keystore: {path: "{{ w }}/ks.jks", password: "{{ ks_new_pw }}", old_password: "{{ ks_pw }}",
                                     alias: si, regenerate: never, backup: true}
    - name: si_config with the passwords in the secure vault
      wso2si.keystores.si_config:
        si_home: "{{ home }}"
        passwords_as: secure_vault
        backup: true
        keystore: {path: "{{ sec }}/si-tls.jks", password: "{{ ks_pw }}"}
        truststore: {path: "{{ sec }}/si-trust.jks", password: "{{ ts_pw }}"}
        secure_vault: {keystore_path: "{{ sec }}/si-vault.jks", key_alias: si-vault, password: "{{ vault_pw }}"}
    - name: si_secret with master-keys.yaml
      wso2si.keystores.si_secret: {si_home: "{{ home }}", vault_keystore_path: "{{ sec }}/si-vault.jks",
                                   vault_keystore_password: "{{ vault_pw }}", vault_key_alias: si-vault,
                                   master_keys: true, backup: true,
                                   secrets: [{alias: app.db.password, value: "{{ secret_value }}"}]}
    - name: si_secret changes the value
      wso2si.keystores.si_secret: {si_home: "{{ home }}", vault_keystore_path: "{{ sec }}/si-vault.jks",
                                   vault_key_alias: si-vault, backup: true,
                                   secrets: [{alias: app.db.password, value: "{{ secret_value2 }}"}]}
    - name: si_config audit
      wso2si.keystores.si_config:
        si_home: "{{ home }}"
        state: audit
        keystore: {path: "{{ sec }}/si-tls.jks", password: "{{ ks_pw }}"}
        truststore: {path: "{{ sec }}/si-trust.jks", password: "{{ ts_pw }}"}
        secure_vault: {keystore_path: "{{ sec }}/si-vault.jks", key_alias: si-vault, password: "{{ vault_pw }}"}
    - name: si_tls_check
      wso2si.keystores.si_tls_check: {port: "{{ tls_port }}", server_name: localhost, truststore_path: "{{ w }}/ts.jks",
                                      truststore_password: "{{ ts_pw }}", timeout: 10}
'''


def key_material(key):
    """Strings that would betray a private key: chunks of its PEM body and of its DER in hex."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode('ascii')
    body = ''.join(pem.strip().splitlines()[1:-1])
    # chunks of the PEM body that encode private numbers only (the body holds public ones too, which a
    # certificate in the output may share): EC, the private value; RSA, what follows n and e
    if hasattr(key.private_numbers(), 'private_value'):
        chunks = [body[52:88]]
    else:
        middle = len(body) // 2
        chunks = [body[middle:middle + 40], body[-120:-80]]
    # the private value (EC) or exponent (RSA) in hex, as a module printing key numbers would show it
    numbers = key.private_numbers()
    value = '%x' % (numbers.private_value if hasattr(numbers, 'private_value') else numbers.d)
    chunks.extend([value[:40], value[:40].upper(), ':'.join(value[i:i + 2] for i in range(0, 40, 2)).upper()])
    return chunks


def test_no_secret_in_verbose_diff_output_or_log(tmp_path, secrets):
    work = str(tmp_path)
    home = h.si_home(work, secrets['ks'], secrets['ts'], secrets['vault'])
    # a backup keeps the mode of the file it copies: start from a private secrets file
    os.chmod(os.path.join(home, 'conf', 'server', 'secrets.properties'), 0o600)
    imported_key = h.rsa_key(3)
    imported_cert = h.issue(imported_key, 'imported', imported_key, 'imported', ca=False)
    p12_key = h.ec_key()
    p12_cert = h.issue(p12_key, 'from-p12', p12_key, 'from-p12', ca=False)
    from cryptography.hazmat.primitives.serialization import pkcs12
    h.write(os.path.join(work, 'in.p12'), pkcs12.serialize_key_and_certificates(
        b'imported', p12_key, p12_cert, None, serialization.BestAvailableEncryption(secrets['p12'].encode())), 0o600)
    server = TlsServer(work)
    h.write(os.path.join(work, 'secrets.yml'), json.dumps(dict(
        ks_pw=secrets['ks'], ks_new_pw=secrets['ks_new'], ts_pw=secrets['ts'], vault_pw=secrets['vault'],
        ca_pw=secrets['ca'], secret_value=secrets['value'], secret_value2=secrets['value2'],
        wrong_pw=secrets['wrong'], p12_pw=secrets['p12'], tls_port=server.port,
        imported_cert=h.pem(imported_cert), imported_key=h.key_pem(imported_key))), 0o600)
    h.write(os.path.join(work, 'playbook.yml'), PLAYBOOK)
    log = os.path.join(work, 'ansible.log')
    env = h.child_env({'ANSIBLE_COLLECTIONS_PATH': h.COLLECTIONS_ROOT, 'ANSIBLE_LOG_PATH': log,
                       'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_LOCALHOST_WARNING': '0', 'ANSIBLE_HOME': work,
                       'ANSIBLE_LOCAL_TEMP': os.path.join(work, 'tmp'), 'ANSIBLE_REMOTE_TEMP': os.path.join(work, 'rtmp')})
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-vvv', '--diff', '-i', 'localhost,',
                           '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable, 'playbook.yml'],
                          cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False)
    server.sock.close()
    out = proc.stdout.decode('utf-8', 'replace')
    assert proc.returncode == 0, out[-6000:]
    assert re.search(r'ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0', out), out[-3000:]
    assert 'ignored=1' in out
    assert 'wrong password for the keystore' in out
    assert '--- before' in out  # the diffs were shown

    with open(log) as f:
        logged = f.read()
    assert 'si_keystore generates a key' in logged

    # what must never show
    forbidden = dict((name, value) for name, value in secrets.items())
    for name, value in list(secrets.items()):
        forbidden[name + ' base64'] = base64.b64encode(value.encode()).decode()  # master-keys.yaml's !!binary
    keys = {'imported key': imported_key, 'p12 key': p12_key}
    # the keys made on the host: read them back from the files
    keys['generated key'] = h.load_store(os.path.join(work, 'ks.jks'), secrets['ks_new']).get('si').open(secrets['ks_new']).checked_private_key()
    with open(os.path.join(work, 'ca', 'ca.key'), 'rb') as f:
        keys['CA key'] = certs.load_private_key(f.read(), secrets['ca'])
    keys['vault key'] = h.rsa_key(1)
    for name, key in keys.items():
        for n, chunk in enumerate(key_material(key)):
            forbidden['%s chunk %d' % (name, n)] = chunk
    flat_out = re.sub(r'\\n|\s', '', out)
    flat_log = re.sub(r'\\n|\s', '', logged)
    leaks = [name for name, value in forbidden.items()
             if value in out or value in logged or value in flat_out or value in flat_log]
    assert leaks == [], leaks

    # files with private keys or secrets are 0600, backups included
    private = ['ks.jks', 'imported.jks', 'from-p12.jks', 'ca/ca.key', 'si_home/conf/server/secrets.properties',
               'si_home/conf/server/master-keys.yaml']
    for rel in private:
        assert os.stat(os.path.join(work, rel)).st_mode & 0o777 == 0o600, rel
    backups = [os.path.join(d, n) for d, dummy, names in os.walk(work) for n in names if n.endswith('~')]
    assert len(backups) >= 4, backups
    for path in backups:
        if not path.endswith(('deployment.yaml~', 'carbon.sh~')) and '.yaml.' not in path and '.sh.' not in path:
            assert os.stat(path).st_mode & 0o777 == 0o600, path


# ---------------------------------------------------------------- modes while being written

def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_private_files_are_never_readable_by_others_while_written(tmp_path, secrets):
    work = str(tmp_path)
    home = h.si_home(work, secrets['ks'], secrets['ts'], secrets['vault'])
    sec = os.path.join(home, 'resources', 'security')
    record = os.path.join(work, 'record.jsonl')
    harness = {'record': record, 'umask': 0o022}
    ks = os.path.join(work, 'ks.jks')
    runs = [
        ('si_keystore', dict(path=ks, password=secrets['ks'], alias='si', key_type='ec')),
        # a change to an existing 0600 keystore, with a backup
        ('si_keystore', dict(path=ks, password=secrets['ks'], alias='second', key_type='ec', backup=True)),
        ('si_ca', dict(ca_dir=os.path.join(work, 'ca'), create=True, ca_key_type='ec', ca_passphrase=secrets['ca'])),
        ('si_config', dict(si_home=home, passwords_as='secure_vault', backup=True,
                           keystore={'path': os.path.join(sec, 'si-tls.jks'), 'password': secrets['ks']},
                           truststore={'path': os.path.join(sec, 'si-trust.jks'), 'password': secrets['ts']},
                           secure_vault={'keystore_path': os.path.join(sec, 'si-vault.jks'), 'key_alias': 'si-vault',
                                         'password': secrets['vault']})),
        ('si_secret', dict(si_home=home, vault_keystore_path=os.path.join(sec, 'si-vault.jks'),
                           vault_keystore_password=secrets['vault'], vault_key_alias='si-vault', master_keys=True,
                           backup=True, secrets=[{'alias': 'app.secret', 'value': secrets['value']}])),
    ]
    for module, args in runs:
        h.assert_ok(h.run_module(module, args, tmp_path, harness=harness))
    events = records(record)
    private_targets = set([ks, os.path.join(work, 'ca', 'ca.key'),
                           os.path.join(home, 'conf', 'server', 'secrets.properties'),
                           os.path.join(home, 'conf', 'server', 'master-keys.yaml')])
    renamed = dict((e['path'], e['dest']) for e in events if e['event'] == 'rename')
    assert private_targets <= set(renamed.values()), sorted(renamed.values())
    checked = 0
    for e in events:
        if e['event'] in ('create', 'write'):
            # every temporary file of the collection, public or private, starts 0600 and stays so while written
            assert e['mode'] == 0o600, e
            checked += 1
        elif e['event'] == 'rename' and e['dest'] in private_targets:
            assert e['mode'] & 0o077 == 0, e
            checked += 1
        elif e['event'] == 'backup' and e['source'] in private_targets:
            # the backup copy holds the whole content here, before its mode is copied
            assert e['mode'] & 0o077 == 0, e
            checked += 1
    assert checked >= 12
    assert any(e['event'] == 'backup' and e['source'] == ks for e in events)
