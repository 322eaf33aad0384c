# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Property-based tests of the core (hypothesis).

- Any set of entries (trusted certificates and key entries, RSA and EC, with
  chains and separate key passwords, unicode aliases and passwords), saved as
  JKS or PKCS#12 and loaded again, round-trips: same aliases, kinds,
  certificates, chains and keys; setting the same entries again changes nothing.
- keytool (when present) lists the same aliases and fingerprints on a sample.
- A fuzz run of every loader (keystores, certificates, keys, requests,
  secrets.properties, master-keys.yaml, deployment.yaml, carbon.sh) on mutated
  valid inputs: each returns or raises the collection's error root, nothing else.

Deterministic by default (and so in CI): hypothesis runs derandomized (the
``deterministic`` profile), the fuzz seeds are files kept in fuzz_seeds/ (not
made with fresh random keys on each run), and every input a random run has
found is replayed first (FOUND, as ``@example``). The long random run is its own
target, with the number of examples per property:

    make fuzz                          # WSO2SI_FUZZ_EXAMPLES=5000 by default
    WSO2SI_FUZZ_EXAMPLES=20000 make fuzz

(``make fuzz`` selects the ``fuzz`` profile: WSO2SI_HYPOTHESIS_PROFILE=fuzz.) Add
what it finds to FOUND, with the fix.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shutil
import subprocess

import pytest

from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible_collections.wso2si.keystores.tests.unit.reliability import helpers as h
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
from ansible_collections.wso2si.keystores.plugins.module_utils import launcher as carbon_sh
from ansible_collections.wso2si.keystores.plugins.module_utils import si_deployment as sd
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as sl
from ansible_collections.wso2si.keystores.plugins.module_utils import yaml_text as yt
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore

FUZZ_EXAMPLES = int(os.environ.get('WSO2SI_FUZZ_EXAMPLES', '150'))
ROUND_TRIP_EXAMPLES = int(os.environ.get('WSO2SI_ROUND_TRIP_EXAMPLES', '40'))
KEYTOOL_EXAMPLES = int(os.environ.get('WSO2SI_KEYTOOL_EXAMPLES', '3'))

COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# deterministic: the same examples on every run (CI, make units); fuzz: random, for `make fuzz` only
settings.register_profile('deterministic', derandomize=True, print_blob=True)
settings.register_profile('fuzz', derandomize=False, print_blob=True)
PROFILE = os.environ.get('WSO2SI_HYPOTHESIS_PROFILE') or 'deterministic'
settings.load_profile(PROFILE)

# Inputs random runs have found, replayed on every run before anything else (each was a bug).
FOUND = [
    # a PKCS#7 ContentInfo that is not signed data: cryptography raised UnsupportedAlgorithm
    # ("Only basic signed structures are currently supported")
    bytes.fromhex('300a06082a864886f70d0107'),
    bytes.fromhex('300b06092a864886f70d010701'),
]


class Pool(object):
    """Certificates and keys made once (key generation is the slow part)."""

    def __init__(self):
        self.trusted = [h.self_signed(h.ec_key(), u'pool-ca-%d' % n) for n in range(6)]
        self.trusted.append(h.self_signed(h.rsa_key(0), u'pool-rsa-\u00e9'))
        ca_key = h.ec_key()
        ca = h.self_signed(ca_key, 'pool-issuing-ca')
        leaf_key = h.ec_key()
        rsa = h.rsa_key(1)
        self.keys = [
            (rsa, [h.issue(rsa, 'pool-rsa-leaf', rsa, 'pool-rsa-leaf', ca=False)]),
            (leaf_key, [h.issue(leaf_key, 'pool-ec-leaf', ca_key, 'pool-issuing-ca', ca=False), ca]),
        ]
        ec2 = h.ec_key()
        self.keys.append((ec2, [h.issue(ec2, 'pool-ec-self', ec2, 'pool-ec-self', ca=False)]))


POOL = Pool()

alias_chars = st.sampled_from(u'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_ @'
                              u'\u00e4\u00f6\u00fc\u00df\u00e9\u00f8\u4e2d\u6587\u0394\u0436')
aliases = st.text(alias_chars, min_size=1, max_size=40).map(lambda s: s.strip()).filter(bool)
password_chars = st.characters(min_codepoint=0x21, max_codepoint=0x2FFF,
                               blacklist_categories=('Cs', 'Cc', 'Cf', 'Co', 'Cn', 'Zl', 'Zp', 'Zs'))
passwords = st.text(password_chars, min_size=6, max_size=24)
ascii_passwords = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), min_size=6, max_size=24)


@st.composite
def stores(draw):
    store_type = draw(st.sampled_from(['jks', 'pkcs12']))
    # Java opens a PKCS#12 store only with an ASCII password (refused with a plain sentence:
    # test_pkcs12_limits_are_plain_errors); a PKCS#12 store holds any mix, several keys, or nothing
    password = draw(passwords if store_type == 'jks' else ascii_passwords)
    names = draw(st.lists(aliases, min_size=0, max_size=6, unique_by=lambda a: a.lower()))
    entries = []
    for alias in names:
        if draw(st.booleans()):
            key, chain = draw(st.sampled_from(POOL.keys))
            # PKCS#12 has one password for the store and its keys
            key_password = draw(st.one_of(st.none(), passwords)) if store_type == 'jks' else None
            entries.append(('key', alias, key, chain, key_password))
        else:
            entries.append(('trusted', alias, draw(st.sampled_from(POOL.trusted)), None, None))
    return store_type, password, entries


def build(store_type, password, entries):
    store = Keystore(store_type, password=password)
    for kind, alias, obj, chain, key_password in entries:
        if kind == 'key':
            store.set_key(alias, obj, chain, key_password)
        else:
            store.set_trusted(alias, obj)
    return store


def check_round_trip(store_type, password, entries, data):
    loaded = Keystore.loads(data, password)
    assert loaded.store_type == store_type
    assert sorted(loaded.entries) == sorted(entry[1].lower() for entry in entries)
    for kind, alias, obj, chain, key_password in entries:
        entry = loaded.get(alias)
        if kind == 'trusted':
            assert entry.kind == 'trusted_certificate'
            assert entry.fingerprint() == certs.fingerprint(obj)
        else:
            assert entry.kind == 'private_key'
            assert [certs.fingerprint(c) for c in entry.chain] == [certs.fingerprint(c) for c in chain]
            if store_type == 'jks':
                entry.open(key_password or password).checked_private_key()
            assert certs.public_keys_equal(entry.checked_private_key(), obj)
    return loaded


@settings(max_examples=ROUND_TRIP_EXAMPLES, **COMMON)
@given(stores())
def test_any_entries_round_trip(spec):
    store_type, password, entries = spec
    data = build(store_type, password, entries).dumps(password, store_type)
    loaded = check_round_trip(store_type, password, entries, data)
    # the same entries again change nothing (content, not bytes, decides)
    for kind, alias, obj, chain, key_password in entries:
        if kind == 'key':
            loaded.set_key(alias, obj, chain, key_password)
        else:
            loaded.set_trusted(alias, obj)
    assert not loaded.modified
    # and saving the loaded store keeps everything
    check_round_trip(store_type, password, entries, loaded.dumps(password))


@settings(max_examples=20, **COMMON)
@given(st.text(password_chars, min_size=6, max_size=12).filter(lambda p: any(ord(c) > 127 for c in p)))
def test_pkcs12_limits_are_plain_errors(password):
    from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
    # an empty PKCS#12 store is written, as keytool writes one
    assert Keystore.loads(Keystore('pkcs12').dumps('Ascii.pass-1'), 'Ascii.pass-1').entries == {}
    with pytest.raises(InvalidInputError, match='must be ASCII'):
        build('pkcs12', password, [('trusted', 'ca', POOL.trusted[0], None, None)]).dumps(password)
    # JKS carries any password
    data = build('jks', password, [('trusted', 'ca', POOL.trusted[0], None, None)]).dumps(password)
    assert list(Keystore.loads(data, password).entries) == ['ca']


def keytool_list(path, password, store_type):
    env = dict(os.environ, WSO2SI_STOREPASS=password, LC_ALL='C.UTF-8', JAVA_TOOL_OPTIONS='-Dfile.encoding=UTF-8')
    proc = subprocess.run(['keytool', '-list', '-v', '-keystore', path, '-storetype', store_type.upper(),
                           '-storepass:env', 'WSO2SI_STOREPASS'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=env, timeout=60, check=False)
    out = proc.stdout.decode('utf-8', 'replace')
    assert proc.returncode == 0, out
    listed = {}
    for block in out.split('Alias name: ')[1:]:
        alias = block.split('\n', 1)[0].strip()
        listed[alias] = re.search(r'SHA256: ([0-9A-F:]{95})', block).group(1)
    return listed


@pytest.mark.skipif(shutil.which('keytool') is None, reason='keytool absent')
@settings(max_examples=KEYTOOL_EXAMPLES, **COMMON)
@given(stores())
def test_keytool_agrees(tmp_path_factory, spec):
    store_type, password, entries = spec
    path = str(tmp_path_factory.mktemp('keytool') / ('store.' + store_type))
    with open(path, 'wb') as f:
        f.write(build(store_type, password, entries).dumps(password, store_type))
    expected = {}
    for kind, alias, obj, chain, dummy in entries:
        expected[alias.lower()] = certs.fingerprint(obj if kind == 'trusted' else chain[0])
    assert keytool_list(path, password, store_type) == expected


# ---------------------------------------------------------------- fuzzing the loaders

def seeds():
    key, chain = POOL.keys[1]
    jks_mixed = build('jks', 'Fuzz.pass-1', [('key', 'k', key, chain, 'Other.pass-2'),
                                             ('trusted', 't', POOL.trusted[0], None, None)]).dumps('Fuzz.pass-1')
    p12_key = build('pkcs12', 'Fuzz.pass-1', [('key', 'k', key, chain, None)]).dumps('Fuzz.pass-1')
    p12_trust = build('pkcs12', 'Fuzz.pass-1', [('trusted', 't', POOL.trusted[1], None, None)]).dumps('Fuzz.pass-1')
    with open(os.path.join(h.SI_HOME_FIXTURE, 'conf', 'server', 'deployment.yaml'), 'rb') as f:
        deployment = f.read()
    with open(os.path.join(h.SI_HOME_FIXTURE, 'wso2', 'server', 'bin', 'carbon.sh'), 'rb') as f:
        launcher = f.read()
    csr = certs.csr_to_pem(certs.build_csr(key, certs.parse_name('CN=fuzz'))).encode('ascii')
    return dict(
        jks=jks_mixed, p12_key=p12_key, p12_trust=p12_trust,
        pem=h.pem(*chain).encode('ascii'), der=certs.cert_to_der(chain[0]),
        key_pem=h.key_pem(key).encode('ascii'), csr=csr,
        secrets=b'# c\na=cipherText QUJD\\\n  REVG\nb=plainText x\n!x\n',
        master=sv.master_keys_text('Fuzz.pass-1', 'Fuzz.pass-2').encode('utf-8'),
        deployment=deployment, launcher=launcher,
    )


SEED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fuzz_seeds')
BINARY_SEEDS = ('jks', 'p12_key', 'p12_trust', 'pem', 'der', 'key_pem', 'csr')


def stored_seeds():
    """The seeds kept in fuzz_seeds/ (test-only keys), so that every run mutates the same bytes;
    the text seeds come from the project's fixtures and the code as before."""
    made = None
    out = {}
    for name in BINARY_SEEDS:
        path = os.path.join(SEED_DIR, name + '.bin')
        if os.path.exists(path):
            with open(path, 'rb') as f:
                out[name] = f.read()
        else:  # pragma: no cover - only before fuzz_seeds/ is written (write_seeds)
            made = made or seeds()
            out[name] = made[name]
    made = made or seeds()
    for name in made:
        out.setdefault(name, made[name])
    return out


def write_seeds():
    """(Re)write fuzz_seeds/ from freshly made material: python test_properties.py --write-seeds"""
    made = seeds()
    if not os.path.isdir(SEED_DIR):
        os.makedirs(SEED_DIR)
    for name in BINARY_SEEDS:
        with open(os.path.join(SEED_DIR, name + '.bin'), 'wb') as f:
            f.write(made[name])


SEEDS = stored_seeds()


@st.composite
def mutated(draw, seed):
    data = bytearray(SEEDS[seed])
    for dummy in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(['flip', 'set', 'truncate', 'insert', 'delete', 'duplicate']))
        n = len(data)
        if n == 0:
            data += draw(st.binary(min_size=1, max_size=16))
            continue
        at = draw(st.integers(0, n - 1))
        if op == 'flip':
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == 'set':
            data[at] = draw(st.sampled_from([0x00, 0x7f, 0x80, 0xff, 0x30, 0x0a, 0x3a, 0x26, 0x2a]))
        elif op == 'truncate':
            del data[at:]
        elif op == 'insert':
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif op == 'delete':
            del data[at:at + draw(st.integers(1, 64))]
        else:
            end = min(n, at + draw(st.integers(1, 256)))
            data[at:at] = data[at:end]
    return bytes(data)


def only_error_root(fn, data):
    try:
        fn(data)
    except KeystoreError:
        pass


def load_store(data):
    store = Keystore.loads(data, 'Fuzz.pass-1')
    for entry in store.entries.values():
        entry.fingerprint()
        if entry.kind == 'private_key':
            try:
                entry.open('Other.pass-2', 'Fuzz.pass-1').checked_private_key()
            except KeystoreError:
                continue
        store.summary()


def load_deployment(data):
    doc = yt.DeploymentConfig.parse(data, 'deployment.yaml')
    profile = sd.profile_of(doc)
    for loc in sl.locations_for(profile, doc) + sl.OPTIONAL_LOCATIONS:
        doc.values(loc)
    sd.plan_deployment(data.decode('utf-8'), {'keystore_path': '/si/k.jks',
                                              'keystore_password': sd.Password('New.pass-1', None)}, '/si')


def load_launcher(data):
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        return
    carbon_sh.plan_launcher(text, {'keystore_path': '/si/k.jks', 'keystore_password': sd.Password('New.pass-1', None)}, '/si')


def load_secrets(data):
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        return
    secrets = sv.SecretsFile(text)
    secrets.dumps()
    secrets.aliases()
    secrets.duplicates()


LOADERS = [
    ('jks', load_store), ('p12_key', load_store), ('p12_trust', load_store),
    ('pem', certs.load_certificates), ('der', certs.load_certificates),
    ('key_pem', certs.load_private_key), ('csr', certs.load_csr),
    ('secrets', load_secrets), ('master', lambda d: sv.parse_master_keys(d, 'master-keys.yaml')),
    ('deployment', load_deployment), ('launcher', load_launcher),
]


def test_bad_version_fields_are_plain_errors():
    """Found by the fuzz run: cryptography raises InvalidVersion, not ValueError, for an
    out-of-range version field of a certificate or request."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
    from ansible_collections.wso2si.keystores.plugins.module_utils.ownca import load_csr as ca_load_csr
    csr_der = certs.load_csr(SEEDS['csr']).public_bytes(serialization_der())
    bad_csr = csr_der.replace(b'\x02\x01\x00', b'\x02\x01\x20', 1)
    cert_der = SEEDS['der']
    bad_cert = cert_der.replace(b'\xa0\x03\x02\x01\x02', b'\xa0\x03\x02\x01\x07', 1)
    assert bad_csr != csr_der and bad_cert != cert_der
    with pytest.raises(InvalidInputError):
        certs.load_csr(bad_csr)
    with pytest.raises(InvalidInputError):
        ca_load_csr(bad_csr)
    with pytest.raises(InvalidInputError):
        certs.load_certificates(bad_cert)
    with pytest.raises(KeystoreError):
        certs.load_certificates(h.pem(certs.x509.load_der_x509_certificate(cert_der)).replace(
            base64_of(cert_der)[:60], base64_of(bad_cert)[:60]))


def serialization_der():
    from cryptography.hazmat.primitives import serialization
    return serialization.Encoding.DER


def base64_of(data):
    import base64
    return base64.b64encode(data).decode('ascii')


@pytest.mark.parametrize('seed,loader', LOADERS, ids=[pair[0] for pair in LOADERS])
def test_fuzz_loaders_raise_only_the_error_root(seed, loader):
    only_error_root(loader, SEEDS[seed])  # the seed itself loads

    @settings(max_examples=FUZZ_EXAMPLES, **COMMON)
    @given(mutated(seed))
    def fuzz(data):
        only_error_root(loader, data)
    for found in FOUND:
        fuzz = example(found)(fuzz)
    fuzz()


@pytest.mark.parametrize('found', FOUND, ids=[f.hex() for f in FOUND])
@pytest.mark.parametrize('seed,loader', LOADERS, ids=[pair[0] for pair in LOADERS])
def test_found_inputs_raise_only_the_error_root(seed, loader, found):
    """What random runs found, replayed on its own (a failure names the input)."""
    only_error_root(loader, found)


def test_runs_are_deterministic_unless_fuzzing():
    """CI runs the same examples every time: derandomized, on seeds kept in the repository
    (a random run once failed one CI run in nine). Only `make fuzz` runs at random."""
    if PROFILE == 'fuzz':
        pytest.skip('the random fuzz run (make fuzz)')
    assert settings.default.derandomize is True
    for name in BINARY_SEEDS:
        with open(os.path.join(SEED_DIR, name + '.bin'), 'rb') as f:
            assert SEEDS[name] == f.read()
    assert bytes.fromhex('300a06082a864886f70d0107') in FOUND


if __name__ == '__main__':  # pragma: no cover
    import sys
    if sys.argv[1:] == ['--write-seeds']:
        write_seeds()
