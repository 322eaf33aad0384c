#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""rollout_ca_mode acme against a real ACME server: Pebble on loopback.

    acme_scenarios.py --work DIR [--config integration_config.yml]

A demo fleet of three SI homes (demo/fleet.py), each host on a loopback
address of its own (127.X.Y.2-4, X and Y random: parallel runs do not meet),
named si1..si3 in Pebble's mock DNS; Pebble validates http-01 for real on a
free port, answered by the role's responder on each host's address.

  run 1  first run: every host gets a Pebble certificate, the Java TLS proof
         passes against Pebble's root, the responder port is free
  run 2  rerun, through ansible-runner (verbosity 3, --diff, as AWX runs
         it): nothing changes
  run 3  renewal window forced (rollout_renew_before_days 3650): si1 renews
         (new certificate, same key); si2's responder port is taken (by this
         script, named in the sentence) and si3's challenge cannot be answered
         (its responder listens where Pebble does not look): both fail alone,
         with one sentence, and nothing on them changes

Runs 1 and 3 are at -vvv --diff with a log file and a JSON event file; the
account key, the EAB HMAC key, the passwords and every key the hosts hold are
then looked for in all of that and in ansible-runner's artifacts (the scan of
the rollout_secrets target).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'rollout_secrets', 'files'))
sys.path.insert(0, HERE)

import secrets_scan as ss  # noqa: E402  the secrets scan, fleets and runs of the rollout_secrets target
import pebble_env  # noqa: E402

PY = sys.executable


class AcmeFleet(ss.Fleet):
    """ss.Fleet with a loopback address per host."""

    def __init__(self, env, name, addresses, port_start):  # pylint: disable=super-init-not-called
        self.env, self.name = env, name
        self.dir = os.path.join(env.work, name)
        self.hosts = ['si%d' % i for i in range(1, len(addresses) + 1)]
        self.addresses = dict(zip(self.hosts, addresses))
        base = subprocess.run([PY, env.port_py, str(port_start), '--hosts', str(len(addresses))], check=True,
                              capture_output=True, text=True).stdout.strip()
        self.base = int(base)
        subprocess.run([PY, env.fleet_py, 'setup', self.dir, '--hosts', str(len(addresses)), '--python', PY,
                        '--port-base', base, '--addresses', ','.join(addresses)],
                       check=True, capture_output=True, text=True, env=env.child_env())
        self.started = True
        import yaml
        with open(os.path.join(self.dir, 'vars.yml')) as f:
            self.vars = yaml.safe_load(f)
        self.extra, self.other, self.runs = {}, {}, []

    def port(self, host):
        return 9443 + self.base + 10 * (self.hosts.index(host) + 1)

    def keystore(self, host):
        return os.path.join(self.dir, host, 'resources', 'security', 'si-keystore.jks')

    def truststore(self, host):
        return os.path.join(self.dir, host, 'resources', 'security', 'si-truststore.jks')


def sha256_file(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def leaf(fleet, host):
    """(fingerprint, public key DER, issuer CN) of the host's keystore entry."""
    from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs, keystore as ks
    from cryptography.hazmat.primitives import serialization
    with open(fleet.keystore(host), 'rb') as f:
        store = ks.Keystore.loads(f.read(), fleet.vars['rollout_keystore_password'])
    cert = store.key_entries()[0].certificate
    pub = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return certs.fingerprint(cert), pub, certs.name_to_string(cert.issuer)


def tls_proof(fleet, host):
    """The Java client, with the host's new truststore, to the host's listener, by its name: the fingerprint it saw."""
    tls_check = os.path.join(fleet.env.coll, 'tests', 'utils', 'tls_check.py')
    run = subprocess.run([PY, tls_check, 'connect', '--host', fleet.addresses[host], '--port', str(fleet.port(host)),
                          '--truststore', fleet.truststore(host), '--hostname', host],
                         env=dict(os.environ, TS_PASSWORD=fleet.vars['rollout_truststore_password']),
                         capture_output=True, text=True, timeout=120, check=False)
    words = run.stdout.split()
    if run.returncode != 0 or not words or words[0] != 'OK':
        raise AssertionError('TLS proof %s: %s %s' % (host, run.stdout.strip(), run.stderr.strip()[-500:]))
    return words[1]


def port_free(address, port):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def changed(out):
    return dict((h, int(c)) for h, c in re.findall(r'(?m)^(si[0-9]+) +: ok=[0-9]+ +changed=([0-9]+)', out))


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    ss.log('  ok: ' + what)


def scenarios(env, pebble, fleet, http_port):
    hosts = fleet.hosts

    def responders_gone(when):
        check(all(port_free(fleet.addresses[h], http_port) for h in hosts),
              'the responder port %d is free on every host after %s' % (http_port, when))

    # run 1
    fleet.play('1-first')
    first = dict((h, leaf(fleet, h)) for h in hosts)
    check(all(first[h][2].startswith('CN=Pebble Intermediate') for h in hosts), 'every host has a Pebble certificate')
    check(all(tls_proof(fleet, h) == first[h][0] for h in hosts),
          'the Java TLS proof passes against Pebble\'s root and sees each host\'s new certificate')
    responders_gone('run 1')

    # run 2
    out = ss.run_with_ansible_runner(fleet)
    check(changed(out) == dict((h, 0) for h in hosts), 'a rerun (through ansible-runner) changes nothing (%s)' % changed(out))
    check(dict((h, leaf(fleet, h)) for h in hosts) == first, 'and keeps every certificate')
    responders_gone('run 2')

    # run 3
    before = dict((h, (sha256_file(fleet.keystore(h)),
                       sha256_file(os.path.join(fleet.dir, h, 'conf', 'server', 'deployment.yaml')),
                       sha256_file(fleet.truststore(h)))) for h in ('si2', 'si3'))
    blocker = socket.socket()
    # the rerun's validations may leave connections to this port in TIME_WAIT; a listener
    # still holds the port against the responder, which binds with SO_REUSEADDR as well
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind((fleet.addresses['si2'], http_port))
    blocker.listen(1)
    nowhere = fleet.addresses['si3'].rsplit('.', 1)[0] + '.99'
    fleet.set_host_vars('si3', rollout_acme_http_address=nowhere)
    fleet.extra['rollout_renew_before_days'] = 3650
    try:
        out = fleet.play('3-renew-two-fail', failed=('si2', 'si3'))
    finally:
        blocker.close()
        fleet.set_host_vars('si3', rollout_acme_http_address=fleet.addresses['si3'])
    renewed = leaf(fleet, 'si1')
    check(renewed[0] != first['si1'][0] and renewed[1] == first['si1'][1],
          'the forced window renews si1: a new certificate for the same key')
    check(tls_proof(fleet, 'si1') == renewed[0], 'si1 serves its renewed certificate')
    sentences = re.findall(r'(?m)^\[ERROR\]: Task failed: Module failed: (.*)$', out)
    check(any(re.match(r'The HTTP-01 responder cannot listen on %s:%d: the port is taken by (pid [0-9]+ \([^)]*\), )*'
                       r'pid %d \(python' % (re.escape(fleet.addresses['si2']), http_port, os.getpid()), s)
              for s in sentences),
          'si2 fails with one sentence naming the process on its port (pid %d): %s' % (os.getpid(), sentences))
    check(any(re.match(r'The ACME CA could not validate the http-01 challenge for .*\bsi3 \(', s) for s in sentences),
          'si3 fails with one sentence: its challenge could not be validated')
    check(len(sentences) == 2, 'and nothing else failed')
    after = dict((h, (sha256_file(fleet.keystore(h)),
                      sha256_file(os.path.join(fleet.dir, h, 'conf', 'server', 'deployment.yaml')),
                      sha256_file(fleet.truststore(h)))) for h in ('si2', 'si3'))
    check(after == before, 'nothing changed on si2 and si3')
    check(all(tls_proof(fleet, h) == first[h][0] for h in ('si2', 'si3')), 'si2 and si3 still serve their certificates')
    responders_gone('run 3')


def scan_for_secrets(env, fleet, account_key, eab_hmac):
    secrets = fleet.secrets()
    keys = ss.collect_keys(env.work, [fleet.dir], sorted(set(secrets.values())) + ['wso2carbon'])
    keys['ACME account key'] = account_key
    forbidden = dict(('password ' + k, ss.password_material(v)) for k, v in secrets.items())
    forbidden.update(('key ' + k, ss.key_material(v)) for k, v in keys.items())
    raw = base64.urlsafe_b64decode(eab_hmac + '=' * (-len(eab_hmac) % 4))
    forbidden['EAB HMAC key'] = ss.password_material(eab_hmac) + [raw.hex()] + ss.b64_anywhere(raw)
    ss.self_check(forbidden, fleet, keys)
    for planted in (eab_hmac, '"%s"' % base64.b64encode(b'.' + raw).decode()):
        check('EAB HMAC key' in ss.scan(planted, forbidden), 'the scan finds the EAB key where it is planted')
    leaks, scanned = [], 0
    for run in fleet.runs:
        for name, text in ss.texts(run):
            scanned += 1
            leaks.extend('%s: %s' % (os.path.relpath(name, env.work), what) for what in ss.scan(text, forbidden))
    check(not leaks and scanned > 10, 'no account key, EAB key, password or host key in %d files of output%s'
          % (scanned, (': ' + '; '.join(leaks)) if leaks else ''))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work', required=True)
    parser.add_argument('--config')
    args = parser.parse_args()
    start = time.time()
    if not shutil.which('pebble') or not shutil.which('pebble-challtestsrv'):
        msg = 'pebble and pebble-challtestsrv are not installed (apt-get install pebble)'
        if os.environ.get('CI') == 'true':
            ss.log('FAIL: ' + msg)
            return 1
        ss.log('SKIPPED: ' + msg)
        return 0
    env = ss.Env(args)
    if os.path.isdir(env.work):
        shutil.rmtree(env.work)
    os.makedirs(env.work, 0o700)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    account_key = ec.generate_private_key(ec.SECP256R1())
    prefix = '127.%d.%d.' % (random.randint(100, 250), random.randint(1, 250))
    pebble = fleet = None
    try:
        pebble = pebble_env.Pebble(os.path.join(env.work, 'pebble'))
        http_port = pebble.http_port
        fleet = AcmeFleet(env, 'acme', [prefix + str(i) for i in (2, 3, 4)], 6100)
        for host in fleet.hosts:
            pebble.add_a(host, fleet.addresses[host])
            fleet.set_host_vars(host, rollout_acme_http_address=fleet.addresses[host],
                                rollout_subject_alt_names=['DNS:' + host, 'IP:' + fleet.addresses[host]])
        fleet.extra.update(
            rollout_ca_mode='acme', rollout_acme_directory=pebble.directory,
            rollout_acme_account_key=account_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
            rollout_acme_ca_bundle=pebble.ca_bundle, rollout_acme_eab_kid=pebble.eab_kid,
            rollout_acme_eab_hmac_key=pebble.eab_hmac, rollout_acme_http_port=http_port,
            rollout_acme_contact=['mailto:ops@example.com'], rollout_acme_terms_agreed=True,
            rollout_ca_certificates=[{'alias': 'pebble-root', 'content': pebble.root_pem}])
        fleet.other['eab'] = pebble.eab_hmac
        ss.log('pebble at %s, http-01 on port %d, hosts on %sx (%.0f s)'
               % (pebble.directory, http_port, prefix, time.time() - start))
        scenarios(env, pebble, fleet, http_port)
    finally:
        if fleet is not None:
            fleet.stop()
        if pebble is not None:
            pebble.stop()
    scan_for_secrets(env, fleet, account_key, pebble.eab_hmac)
    ss.log('rollout_acme: %.0f s' % (time.time() - start))
    return 0


if __name__ == '__main__':
    sys.exit(main())
