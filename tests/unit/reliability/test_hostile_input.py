# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Hostile input: a table of damaged, oversized, cyclic, deep, unicode and
malicious inputs for every module, each run as a real module process under
resource limits (1.5 GiB address space, 60 CPU seconds, wall-clock timeout).

Every case ends with either a clear one-sentence error or an acceptance
documented here (and in README "Guarantees"), never a traceback, and every file
that existed before the run is byte-for-byte, mode-for-mode unchanged (an
accepted case may change only the files it names)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import socket
import threading

import pytest

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

pytestmark = h.needs_layout

PW = 'Store.pass-1'
VAULT_PW = 'Vault.pass-2'
UNICODE_PW = u'P\u00e4ssw\u00f6rd-\u79d8\u5bc6'
MAX_SECONDS = 20  # wall clock per case, generous for a loaded CI machine

BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + ''.join('%s: &%s [%s]\n' % (n, n, ','.join(['*' + p] * 9)) for p, n in zip('abcdefgh', 'bcdefghi')))


class Material(object):
    """PKI material made once for the whole table."""

    def __init__(self, root):
        self.root = root
        key = h.rsa_key(0)
        self.key = key
        self.cert = h.issue(key, 'si.example.com', key, 'si.example.com', ca=False)
        self.cas = [h.self_signed(h.ec_key(), 'hostile-ca-%d' % n) for n in range(3)]
        self.jks_trust = Keystore.loads(self._dump(trusted=[('ca%d' % n, c) for n, c in enumerate(self.cas)]), PW)
        self.jks_trust_bytes = self._dump(trusted=[('ca%d' % n, c) for n, c in enumerate(self.cas)])
        self.jks_key_bytes = self._dump(keys=[('si', key, [self.cert])])
        self.p12_key_bytes = self._dump(keys=[('si', key, [self.cert])], store_type='pkcs12')
        self.p12_trust_bytes = self._dump(trusted=[('ca0', self.cas[0])], store_type='pkcs12')
        # a chain 100 CAs deep, and a leaf at its end
        keys = [h.ec_key() for dummy in range(101)]
        self.deep = [h.self_signed(keys[0], 'deep-0')]
        for n in range(1, 100):
            self.deep.append(h.issue(keys[n], 'deep-%d' % n, keys[n - 1], 'deep-%d' % (n - 1)))
        self.deep_leaf_key = keys[100]
        self.deep_leaf = h.issue(keys[100], 'deep-leaf', keys[99], 'deep-99', ca=False)
        # two CAs that sign each other, and a leaf under one of them
        ka, kb = h.ec_key(), h.ec_key()
        self.cycle = [h.issue(ka, 'cycle-a', kb, 'cycle-b'), h.issue(kb, 'cycle-b', ka, 'cycle-a')]
        self.cycle_leaf_key = h.ec_key()
        self.cycle_leaf = h.issue(self.cycle_leaf_key, 'cycle-leaf', ka, 'cycle-a', ca=False)
        self.csr = certs.csr_to_pem(certs.build_csr(h.rsa_key(2), certs.parse_name('CN=csr.example.com')))
        der = certs.load_csr(self.csr).public_bytes(certs.serialization.Encoding.DER)
        bad = der.replace(b'\x02\x01\x00', b'\x02\x01\x20', 1)  # version 32
        self.bad_version_csr = '-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n' % (
            __import__('base64').b64encode(bad).decode('ascii'))
        # 100 MB of garbage, shared by every case (outside the cases' directories)
        self.big = os.path.join(root, 'garbage-100M.bin')
        chunk = os.urandom(1 << 20)
        with open(self.big, 'wb') as f:
            for dummy in range(100):
                f.write(chunk)
        self.big_stat = os.stat(self.big)

    def _dump(self, trusted=(), keys=(), store_type='jks', password=PW):
        store = Keystore(store_type)
        for alias, cert in trusted:
            store.set_trusted(alias, cert)
        for alias, key, chain in keys:
            store.set_key(alias, key, chain)
        return store.dumps(password, store_type)


@pytest.fixture(scope='module')
def mat(tmp_path_factory):
    return Material(str(tmp_path_factory.mktemp('material')))


class Ctx(object):
    def __init__(self, workdir, mat):
        self.dir = str(workdir)
        self.mat = mat

    def path(self, name):
        return os.path.join(self.dir, name)

    def file(self, name, data, mode=0o600):
        return h.write(self.path(name), data, mode)

    def mkdir(self, name):
        os.mkdir(self.path(name))
        return self.path(name)

    def link(self, name, target):
        os.symlink(target, self.path(name))
        return self.path(name)

    def home(self):
        return h.si_home(self.dir, PW, PW, VAULT_PW)


def truncated(data):
    return data[:len(data) // 2]


def flipped(data, at=None):
    at = len(data) // 2 if at is None else at
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def forged_count(jks_bytes):
    return jks_bytes[:8] + b'\x7f\xff\xff\xff' + jks_bytes[12:]


def ts(c, store, certificates=None, password=PW, **extra):
    args = dict(path=store, password=password,
                certificates=certificates if certificates is not None else [{'alias': 'new', 'content': h.pem(c.mat.cert)}])
    args.update(extra)
    return args


def ks(c, store, password=PW, **extra):
    args = dict(path=store, password=password, alias='si', key_type='ec', subject='CN=si.example.com')
    args.update(extra)
    return args


def si_config_args(c, home, **extra):
    sec = os.path.join(home, 'resources', 'security')
    args = dict(si_home=home, keystore={'path': os.path.join(sec, 'si-tls.jks'), 'password': PW},
                truststore={'path': os.path.join(sec, 'si-trust.jks'), 'password': PW})
    args.update(extra)
    return args


def si_secret_args(c, home=None, secrets=None, **extra):
    home = home or c.home()
    args = dict(si_home=home, vault_keystore_path=os.path.join(home, 'resources', 'security', 'si-vault.jks'),
                vault_keystore_password=VAULT_PW, vault_key_alias='si-vault',
                secrets=secrets if secrets is not None else [{'alias': 'app.secret', 'value': 'App.value-1'}])
    args.update(extra)
    return args


def deployment(c, text, mode=0o644):
    home = c.home()
    h.write(os.path.join(home, 'conf', 'server', 'deployment.yaml'), text, mode)
    return home


def fixture_yaml():
    with open(os.path.join(h.SI_HOME_FIXTURE, 'conf', 'server', 'deployment.yaml')) as f:
        return f.read()


def duplicate_keys_yaml(c, key='databridge.config'):
    text = fixture_yaml()
    assert '\n%s:' % key in text
    return text + '\n%s:\n  keyStorePassword: other\n' % key


def bad_base64(pem_text):
    lines = pem_text.splitlines(True)
    lines[2] = '!!' + lines[2][2:]
    return ''.join(lines)


SECRETS = ('si_home/conf/server/secrets.properties',)


def tls_listener(behaviour):
    """A listener on 127.0.0.1 that sends garbage and closes, or accepts and stays silent."""
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(8)

    def serve():
        conns = []
        while True:
            try:
                conn, dummy = server.accept()
            except OSError:
                return
            if behaviour == 'garbage':
                conn.sendall(b'HTTP/1.0 400 not TLS at all\r\n\r\n' + os.urandom(512))
                conn.close()
            else:
                conns.append(conn)
    threading.Thread(target=serve, daemon=True).start()
    return server


# (id, module, build(ctx) -> args, expected msg regex or None for an accepted case, files it may change, note)
CASES = [
    # ------------------------------------------------------------ si_truststore
    ('ts-jks-truncated', 'si_truststore', lambda c: ts(c, c.file('t.jks', truncated(c.mat.jks_trust_bytes))),
     r'is not a valid JKS keystore \(truncated or corrupt\)', ()),
    ('ts-jks-magic-only', 'si_truststore', lambda c: ts(c, c.file('t.jks', c.mat.jks_trust_bytes[:4])),
     r'is not a valid JKS keystore', ()),
    ('ts-jks-bitflip-body', 'si_truststore', lambda c: ts(c, c.file('t.jks', flipped(c.mat.jks_trust_bytes))),
     r'wrong password for the keystore .*t\.jks, or the file is damaged', ()),
    ('ts-jks-bitflip-magic', 'si_truststore', lambda c: ts(c, c.file('t.jks', flipped(c.mat.jks_trust_bytes, 0))),
     r'is not a JKS or PKCS#12 keystore, or it is corrupt', ()),
    ('ts-jks-forged-entry-count', 'si_truststore',
     lambda c: ts(c, c.file('t.jks', forged_count(c.mat.jks_trust_bytes))), r'is not a valid JKS keystore', ()),
    ('ts-empty-file', 'si_truststore', lambda c: ts(c, c.file('t.jks', b'')), r'the keystore .*t\.jks is empty', ()),
    ('ts-directory', 'si_truststore', lambda c: ts(c, c.mkdir('t.jks')), r'is a directory, not a file', ()),
    ('ts-100MB-garbage', 'si_truststore', lambda c: ts(c, c.mat.big),
     r'is 104857600 bytes, larger than any keystore', ()),
    ('ts-p12-truncated', 'si_truststore', lambda c: ts(c, c.file('t.p12', truncated(c.mat.p12_trust_bytes))),
     r'is not a JKS or PKCS#12 keystore, or it is corrupt', ()),
    ('ts-p12-bitflip', 'si_truststore', lambda c: ts(c, c.file('t.p12', flipped(c.mat.p12_trust_bytes))),
     r'(wrong password for the keystore .*t\.p12, or the file is damaged|not a valid PKCS#12)', ()),
    # documented (docs/files.md): a store path that is a symbolic link is followed; the target is replaced
    # atomically in its own directory and the link stays
    ('ts-symlink-store', 'si_truststore',
     lambda c: ts(c, c.link('link.jks', c.file('target.jks', c.mat.jks_trust_bytes))), None, ('target.jks',)),
    # documented: text around PEM blocks is ignored, as openssl does
    ('ts-pem-trailing-garbage', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': 'ca', 'content': h.pem(c.mat.cas[1]) + 'trailing \x00garbage\n' * 50}]),
     None, ('t.jks',)),
    ('ts-pem-bad-base64', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': 'ca', 'content': h.pem(c.mat.cas[1]).replace('M', '*', 3)}]),
     r'is not valid base64', ()),
    ('ts-der-truncated', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': 'ca', 'path': c.file('ca.der', truncated(certs.cert_to_der(c.mat.cas[1])))}]),
     r'is not a certificate in PEM, DER or PKCS#7 form', ()),
    ('ts-cert-path-directory', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': 'ca', 'path': c.mkdir('ca.pem')}]), r'is a directory, not a file', ()),
    ('ts-cert-path-100MB', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': 'ca', 'path': c.mat.big}]), r'larger than any keystore', ()),
    # documented: an alias is a name inside the store, never a file name: separators are kept as characters
    ('ts-alias-path-separators', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': '../../etc/passwd', 'content': h.pem(c.mat.cas[1])}]),
     None, ('t.jks',)),
    ('ts-alias-unicode', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': u'Zertifikat-\u00fc-\u8bc1\u4e66', 'content': h.pem(c.mat.cas[1])}]),
     None, ('t.jks',)),
    ('ts-alias-300-chars', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': 'a' * 300, 'content': h.pem(c.mat.cas[1])}]),
     r'is longer than 255 characters', ()),
    ('ts-alias-newline', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': 'evil\nalias', 'content': h.pem(c.mat.cas[1])}]),
     r'contains control characters', ()),
    ('ts-password-non-ascii', 'si_truststore', lambda c: ts(c, c.path('t.jks'), password=UNICODE_PW), None, ('t.jks',)),
    ('ts-password-short', 'si_truststore', lambda c: ts(c, c.path('t.jks'), password='abc'),
     r'must be at least 6 characters long', ()),
    ('ts-deep-chain-bundle', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': 'deep', 'content': h.pem(*c.mat.deep)}]), None, ('t.jks',)),
    ('ts-cyclic-bundle', 'si_truststore',
     lambda c: ts(c, c.path('t.jks'), [{'alias': 'cycle', 'content': h.pem(*c.mat.cycle)}]), None, ('t.jks',)),
    # ------------------------------------------------------------ si_keystore
    ('ks-jks-truncated', 'si_keystore', lambda c: ks(c, c.file('k.jks', truncated(c.mat.jks_key_bytes))),
     r'is not a valid JKS keystore', ()),
    ('ks-jks-bitflip', 'si_keystore', lambda c: ks(c, c.file('k.jks', flipped(c.mat.jks_key_bytes))),
     r'or the file is damaged', ()),
    ('ks-p12-bitflip', 'si_keystore', lambda c: ks(c, c.file('k.p12', flipped(c.mat.p12_key_bytes))),
     r'(or the file is damaged|not a valid PKCS#12|not a JKS or PKCS#12)', ()),
    ('ks-key-cert-mismatch', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), certificate=h.pem(c.mat.cert), private_key=h.key_pem(h.rsa_key(1))),
     r'the private key and the certificate do not match', ()),
    ('ks-key-trailing-garbage', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), certificate=h.pem(c.mat.cert), private_key=h.key_pem(c.mat.key) + 'junk\n' * 9),
     None, ('k.jks',)),
    ('ks-key-bad-base64', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), certificate=h.pem(c.mat.cert),
                  private_key=bad_base64(h.key_pem(c.mat.key))),
     r'the private key cannot be parsed', ()),
    ('ks-deep-chain', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), certificate=h.pem(c.mat.deep_leaf, *reversed(c.mat.deep)),
                  private_key=h.key_pem(c.mat.deep_leaf_key)), None, ('k.jks',)),
    ('ks-cyclic-chain', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), certificate=h.pem(c.mat.cycle_leaf, *c.mat.cycle),
                  private_key=h.key_pem(c.mat.cycle_leaf_key)), None, ('k.jks',)),
    ('ks-pkcs12-truncated', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), pkcs12_path=c.file('in.p12', truncated(c.mat.p12_key_bytes)), pkcs12_password=PW),
     r'not a (JKS or )?PKCS#12', ()),
    ('ks-pkcs12-bitflip', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), pkcs12_path=c.file('in.p12', flipped(c.mat.p12_key_bytes)), pkcs12_password=PW),
     r'(or the file is damaged|not a valid PKCS#12|not a (JKS or )?PKCS#12)', ()),
    ('ks-pkcs12-empty', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), pkcs12_path=c.file('in.p12', b''), pkcs12_password=PW), r'is empty', ()),
    ('ks-pkcs12-directory', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), pkcs12_path=c.mkdir('in.p12'), pkcs12_password=PW), r'is a directory', ()),
    ('ks-pkcs12-is-jks', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), pkcs12_path=c.file('in.p12', c.mat.jks_key_bytes), pkcs12_password=PW),
     r'is a JKS store, not PKCS12', ()),
    ('ks-key-path-100MB', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), certificate=h.pem(c.mat.cert), private_key_path=c.mat.big),
     r'larger than any keystore', ()),
    ('ks-password-non-ascii', 'si_keystore', lambda c: ks(c, c.path('k.jks'), password=UNICODE_PW), None, ('k.jks',)),
    # Java cannot open a PKCS#12 store with a non-ASCII password (JKS can: ks-password-non-ascii)
    ('ks-p12-password-non-ascii', 'si_keystore', lambda c: ks(c, c.path('k.p12'), password=UNICODE_PW),
     r'a PKCS#12 store password must be ASCII', ()),
    # an empty PKCS#12 truststore is written, as keytool writes one
    ('ts-p12-no-entries', 'si_truststore', lambda c: ts(c, c.path('t.p12'), []), None, ('t.p12',)),
    ('ks-alias-300-chars', 'si_keystore', lambda c: ks(c, c.path('k.jks'), alias='k' * 300),
     r'is longer than 255 characters', ()),
    ('ks-encrypted-key-wrong-passphrase', 'si_keystore',
     lambda c: ks(c, c.path('k.jks'), certificate=h.pem(c.mat.cert), private_key_passphrase='Not.the-one1',
                  private_key=c.mat.key.private_bytes(
                      certs.serialization.Encoding.PEM, certs.serialization.PrivateFormat.PKCS8,
                      certs.serialization.BestAvailableEncryption(b'Right.pass-1')).decode('ascii')),
     r'the passphrase does not decrypt', ()),
    # ------------------------------------------------------------ si_report
    ('report-metrics-not-prom', 'si_report', lambda c: dict(si_home=c.mkdir('home'), metrics_file=c.path('m.txt')),
     r'metrics_file must end in \.prom', ()),
    ('report-negative-window', 'si_report', lambda c: dict(si_home=c.mkdir('home'), renew_before_days=-1),
     r'renew_before_days must be 0 or more', ()),
    # ------------------------------------------------------------ si_rollout_state
    ('state-digest-not-sha256', 'si_rollout_state',
     lambda c: dict(si_home=c.mkdir('home'), inputs_digest='not-a-digest',
                    keystore=dict(path=c.path('ks.jks'), password='Store.pass-1', alias='si')),
     r'inputs_digest must be a SHA-256 digest', ()),
    ('state-record-not-si-home', 'si_rollout_state',
     lambda c: dict(si_home=c.mkdir('home'), state='present', inputs_digest='a' * 64,
                    keystore=dict(path=c.path('ks.jks'), password='Store.pass-1', alias='si')),
     r'is not an SI home: .*deployment\.yaml is missing', ()),
    # ------------------------------------------------------------ si_acme_responder, si_acme_certificate
    ('acme-responder-path-outside', 'si_acme_responder',
     lambda c: dict(state='started', address='127.0.0.1', port=0,
                    challenges=[{'path': '/../../etc/passwd', 'key_authorization': 'x'}]),
     r'each challenge needs a path under /\.well-known/acme-challenge/', ()),
    ('acme-account-key-garbage', 'si_acme_certificate',
     lambda c: dict(step='order', directory='https://127.0.0.1:9/dir', account_key='not a key\x00' * 40,
                    csr='not a CSR'),
     r'(account key|cannot be parsed|not a)', ()),
    # ------------------------------------------------------------ si_keystore_info
    ('info-truncated', 'si_keystore_info',
     lambda c: dict(path=c.file('k.jks', truncated(c.mat.jks_key_bytes)), password=PW), r'not a valid JKS', ()),
    ('info-garbage', 'si_keystore_info',
     lambda c: dict(path=c.file('k.jks', os.urandom(4096)), password=PW), r'not a JKS or PKCS#12 keystore', ()),
    # documented: the info module reads through a symbolic link
    ('info-symlink', 'si_keystore_info',
     lambda c: dict(path=c.link('l.jks', c.file('k.jks', c.mat.jks_key_bytes)), password=PW), None, ()),
    ('info-missing', 'si_keystore_info', lambda c: dict(path=c.path('none.jks'), password=PW), r'does not exist', ()),
    # ------------------------------------------------------------ si_csr
    ('csr-dest-directory', 'si_csr',
     lambda c: dict(path=c.file('k.jks', c.mat.jks_key_bytes), password=PW, alias='si', dest=c.mkdir('si.csr')),
     r'si\.csr is a directory, not a file', ()),
    ('csr-store-p12-truncated', 'si_csr',
     lambda c: dict(path=c.file('k.p12', truncated(c.mat.p12_key_bytes)), password=PW, alias='si'),
     r'not a JKS or PKCS#12 keystore', ()),
    # documented: a dest that holds no certificate request is replaced by the request
    ('csr-dest-garbage', 'si_csr',
     lambda c: dict(path=c.file('k.jks', c.mat.jks_key_bytes), password=PW, alias='si',
                    dest=c.file('si.csr', os.urandom(300))), None, ('si.csr',)),
    # ------------------------------------------------------------ si_cert_import
    ('import-reply-truncated', 'si_cert_import',
     lambda c: dict(path=c.file('k.jks', c.mat.jks_key_bytes), password=PW, alias='si',
                    certificate=h.pem(c.mat.cert)[:300]), r'does not contain a certificate|cannot be parsed', ()),
    ('import-reply-cyclic-chain', 'si_cert_import',
     lambda c: dict(path=c.file('k.jks', c._cycle_store()), password=PW, alias='leaf',
                    certificate=h.pem(c.mat.cycle_leaf, *c.mat.cycle)),
     r'the chain is incomplete: the issuing CA CN=cycle-a \(of CN=cycle-b\) is neither', ()),
    ('import-reply-path-100MB', 'si_cert_import',
     lambda c: dict(path=c.file('k.jks', c.mat.jks_key_bytes), password=PW, alias='si', certificate_path=c.mat.big),
     r'larger than any keystore', ()),
    # ------------------------------------------------------------ si_config
    ('config-yaml-bomb', 'si_config', lambda c: si_config_args(c, deployment(c, BOMB)),
     r'lacks wso2.transport.http > .*nothing was changed', ()),
    # documented: YAML aliases are never expanded, so a bomb beside SI's own keys is kept as it is
    ('config-yaml-bomb-beside-si-keys', 'si_config', lambda c: si_config_args(c, deployment(c, BOMB + fixture_yaml())),
     None, ('si_home/conf/server/deployment.yaml', 'si_home/wso2/server/bin/carbon.sh')),
    ('config-yaml-bomb-as-password', 'si_config',
     lambda c: si_config_args(c, deployment(c, BOMB + fixture_yaml().replace(
         'keyStorePassword: wso2carbon', 'keyStorePassword: *i', 1))),
     r'keyStorePassword is not a single value', ()),
    ('config-duplicate-keys', 'si_config', lambda c: si_config_args(c, deployment(c, duplicate_keys_yaml(c))),
     r"has the key 'databridge.config' 2 times", ()),
    ('config-invalid-yaml', 'si_config', lambda c: si_config_args(c, deployment(c, 'a: [unclosed\n  b: {\n')),
     r'is not valid YAML \(line \d+\); nothing was changed', ()),
    ('config-empty-yaml', 'si_config', lambda c: si_config_args(c, deployment(c, '')), r'is empty', ()),
    ('config-binary-yaml', 'si_config', lambda c: si_config_args(c, deployment(c, b'\xff\xfe' + os.urandom(2000))),
     r'is not UTF-8 text', ()),
    ('config-yaml-directory', 'si_config',
     lambda c: si_config_args(c, c.home(), deployment_yaml=c.mkdir('deployment.yaml')), r'is a directory', ()),
    ('config-yaml-100MB', 'si_config', lambda c: si_config_args(c, c.home(), deployment_yaml=c.mat.big),
     r'larger than any keystore or configuration file', ()),
    ('config-launcher-missing', 'si_config', lambda c: si_config_args(c, c.home(), launcher=c.path('none.sh')),
     r'the launcher .* does not exist', ()),
    ('config-keystore-truncated', 'si_config', lambda c: c._truncated_tls_keystore(), r'^validation failed: ', ()),
    ('config-password-control-char', 'si_config',
     lambda c: si_config_args(c, c.home(), keystore={'path': c.path('k.jks'), 'password': 'new\nline-pass'}),
     r'contains a control character', ()),
    # ------------------------------------------------------------ si_secret
    ('secret-file-binary', 'si_secret',
     lambda c: si_secret_args(c, secrets_file=c.file('secrets.properties', b'\xff\xfe\x00' + os.urandom(999))),
     r'is not UTF-8 text', ()),
    ('secret-file-directory', 'si_secret', lambda c: si_secret_args(c, secrets_file=c.mkdir('secrets.properties')),
     r'is a directory', ()),
    ('secret-alias-path-separator', 'si_secret',
     lambda c: si_secret_args(c, secrets=[{'alias': '../etc/passwd', 'value': 'Value.one1'}]), r'is not usable', ()),
    ('secret-alias-unicode', 'si_secret',
     lambda c: si_secret_args(c, secrets=[{'alias': u'geheim-\u00fc', 'value': 'Value.one1'}]), r'is not usable', ()),
    ('secret-alias-300-chars', 'si_secret',
     lambda c: si_secret_args(c, secrets=[{'alias': 's' * 300, 'value': 'Value.one1'}]), None, SECRETS),
    ('secret-value-non-ascii', 'si_secret',
     lambda c: si_secret_args(c, secrets=[{'alias': 'app.secret', 'value': UNICODE_PW}]), r'contains a non-ASCII character', ()),
    ('secret-vault-truncated', 'si_secret', lambda c: c._truncated_vault(), r'not a valid JKS keystore', ()),
    ('secret-master-keys-bomb', 'si_secret', lambda c: c._master_keys(BOMB + 'masterKeys:\n  keyStorePassword: *i\n'),
     r'give vault_keystore_password: the master keys file .* does not provide it', ()),
    ('secret-master-keys-garbage', 'si_secret', lambda c: c._master_keys(os.urandom(500)),
     r'give vault_keystore_password: the master keys file .* does not provide it', ()),
    ('secret-deployment-duplicate-keys', 'si_secret',
     lambda c: si_secret_args(c, home=deployment(c, duplicate_keys_yaml(c, 'wso2.securevault'))),
     r"has the key 'wso2.securevault' 2 times", ()),
    # ------------------------------------------------------------ si_ca
    ('ca-key-truncated', 'si_ca', lambda c: c._ca_dir(truncate_key=True), r'the CA key .*ca\.key does not contain a PEM private key', ()),
    ('ca-csr-garbage', 'si_ca', lambda c: c._ca_dir(csr='-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n'),
     r'the certificate signing request cannot be parsed', ()),
    ('ca-csr-bad-version', 'si_ca', lambda c: c._ca_dir(csr=c.mat.bad_version_csr),
     r'the certificate signing request cannot be parsed', ()),
    # documented: text around the PEM request is ignored
    ('ca-csr-trailing-garbage', 'si_ca', lambda c: c._ca_dir(csr=c.mat.csr + '\x00junk' * 99), None, ('si.pem',)),
    # ------------------------------------------------------------ si_tls_check
    ('tls-garbage-listener', 'si_tls_check', lambda c: c._listener('garbage'), r'no TLS listener answered', ()),
    ('tls-silent-listener', 'si_tls_check', lambda c: c._listener('silent'), r'no TLS listener answered', ()),
    ('tls-ports-empty', 'si_tls_check', lambda c: dict(ports=[], timeout=1), r'ports must name at least one port', ()),
    ('tls-ports-garbage-listener', 'si_tls_check',
     lambda c: dict(ports=[c._listener('garbage')['port']], timeout=2),
     r'no TLS listener answered on 127\.0\.0\.1:\d+ within 2 seconds', ()),
    ('tls-truststore-truncated', 'si_tls_check',
     lambda c: dict(port=1, truststore_path=c.file('t.jks', truncated(c.mat.jks_trust_bytes)), truststore_password=PW,
                    timeout=1), r'not a valid JKS keystore', ()),
]


def _cycle_store(self):
    return Keystore.loads(self.mat._dump(keys=[('leaf', self.mat.cycle_leaf_key, [self.mat.cycle_leaf])]), PW) \
        .dumps(PW)


def _truncated_tls_keystore(self):
    home = self.home()
    tls = os.path.join(home, 'resources', 'security', 'si-tls.jks')
    with open(tls, 'rb') as f:
        data = f.read()
    h.write(tls, truncated(data))
    return si_config_args(self, home)


def _truncated_vault(self):
    home = self.home()
    vault = os.path.join(home, 'resources', 'security', 'si-vault.jks')
    with open(vault, 'rb') as f:
        data = f.read()
    h.write(vault, truncated(data))
    return si_secret_args(self, home=home)


def _master_keys(self, content):
    home = self.home()
    h.write(os.path.join(home, 'conf', 'server', 'master-keys.yaml'), content, 0o600)
    args = si_secret_args(self, home=home)
    del args['vault_keystore_password']
    return args


def _ca_dir(self, truncate_key=False, csr=None):
    from ansible_collections.wso2si.keystores.plugins.module_utils.ownca import OwnCA
    ca_dir = self.mkdir('ca')
    ca = OwnCA(ca_dir)
    ca.create('CN=Hostile Test CA', key_type='ec', curve='secp256r1', validity_days=30)
    if truncate_key:
        with open(ca.key_path, 'rb') as f:
            data = f.read()
        h.write(ca.key_path, truncated(data), 0o600)
    return dict(ca_dir=ca_dir, csr=csr or self.mat.csr, dest=self.path('si.pem'))


def _listener(self, behaviour):
    server = tls_listener(behaviour)
    self.servers.append(server)
    return dict(port=server.getsockname()[1], timeout=2)


Ctx._cycle_store = _cycle_store
Ctx._truncated_tls_keystore = _truncated_tls_keystore
Ctx._truncated_vault = _truncated_vault
Ctx._master_keys = _master_keys
Ctx._ca_dir = _ca_dir
Ctx._listener = _listener
Ctx.servers = None


def test_the_table_is_large_enough():
    assert len(CASES) >= 40
    assert len(set(c[0] for c in CASES)) == len(CASES)
    assert set(c[1] for c in CASES) >= set(name[:-3] for name in os.listdir(h.MODULES) if name.startswith('si_'))


@pytest.mark.parametrize('case_id,module,build,expected,may_change', CASES, ids=[c[0] for c in CASES])
def test_hostile_input(tmp_path, mat, case_id, module, build, expected, may_change):
    work = tmp_path / 'work'
    work.mkdir()
    ctx = Ctx(work, mat)
    ctx.servers = []
    try:
        args = build(ctx)
        before = h.snapshot(work)
        r = h.run_module(module, args, tmp_path, timeout=MAX_SECONDS * 2)
    finally:
        for server in ctx.servers:
            server.close()
    assert not r.killed, r
    assert r.elapsed < MAX_SECONDS, r
    assert 'Traceback' not in r.stdout + r.stderr, r
    assert r.json is not None, r
    if expected is None:
        h.assert_ok(r)
    else:
        h.assert_clean_failure(r, expected)
    after = h.snapshot(work)
    for rel, facts in before.items():
        if rel not in may_change:
            assert after.get(rel) == facts, '%s changed: %r -> %r' % (rel, facts, after.get(rel))
    for rel in set(after) - set(before):
        assert rel in may_change, '%s appeared' % rel
    st = os.stat(mat.big)
    assert (st.st_size, st.st_mtime_ns) == (mat.big_stat.st_size, mat.big_stat.st_mtime_ns)
    check = CHECKS.get(case_id)
    if check is not None:
        assert check(ctx, r) is not False, r


# ---------------------------------------------------------------- what the accepted cases did

def _entries(path, password=PW):
    return h.load_store(path, password).entries


def check_symlink(c, r):
    assert os.path.islink(c.path('link.jks'))
    assert os.readlink(c.path('link.jks')) == c.path('target.jks')
    assert 'new' in _entries(c.path('target.jks'))


CHECKS = {
    'ts-symlink-store': check_symlink,
    'ts-pem-trailing-garbage': lambda c, r: list(_entries(c.path('t.jks'))) == ['ca'],
    'ts-alias-path-separators': lambda c, r: (list(_entries(c.path('t.jks'))) == ['../../etc/passwd']
                                              and not os.path.exists(os.path.join(c.dir, '..', '..', 'etc', 'passwd'))),
    'ts-alias-unicode': lambda c, r: list(_entries(c.path('t.jks'))) == [u'zertifikat-\u00fc-\u8bc1\u4e66'],
    'ts-password-non-ascii': lambda c, r: list(_entries(c.path('t.jks'), UNICODE_PW)) == ['new'],
    'ts-deep-chain-bundle': lambda c, r: len(_entries(c.path('t.jks'))) == 100,
    'ts-cyclic-bundle': lambda c, r: sorted(_entries(c.path('t.jks'))) == ['cycle', 'cycle-2'],
    'ks-deep-chain': lambda c, r: r.json['chain_length'] == 101,
    # the connection attempts honour the task's timeout (2 s here)
    'tls-silent-listener': lambda c, r: r.elapsed < 8,
    'ks-cyclic-chain': lambda c, r: r.json['chain_length'] == 3,
    'ks-password-non-ascii': lambda c, r: list(_entries(c.path('k.jks'), UNICODE_PW)) == ['si'],
}
