# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_ca: a small CA (in a directory or given as content) that signs the CSRs of SI hosts."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.common import Backend
from ansible_collections.wso2si.keystores.plugins.module_utils.deps import check_dependencies
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import atomic_write, locked, read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.ownca import (
    CERT_FILE, KEY_FILE, OwnCA, load_csr, state_dir_problem)


def missing_ca(directory):
    return ('no CA in %s (looked for %s and %s): give the CA as content (ca_certificate and ca_private_key; the role\'s '
            'rollout_ca_certificate and rollout_ca_private_key), point ca_dir (rollout_ca_dir) at the directory that '
            'holds it, or create a new CA explicitly with create=true (rollout_ca_create=true) on the first run'
            % (directory, os.path.join(directory, KEY_FILE), os.path.join(directory, CERT_FILE)))


def check_options(p):
    """Range checks, before anything is read or written."""
    if p['create'] and p['ca_certificate'] is not None:
        raise InvalidInputError('create makes a CA in ca_dir; a CA given as content (ca_certificate) exists already')
    if p['ca_key_size'] is not None:
        if p['ca_key_type'] != 'rsa':
            raise InvalidInputError('ca_key_size applies to RSA keys only (ca_key_type is %s)' % p['ca_key_type'])
        if not certs.MIN_RSA_KEY_BITS <= p['ca_key_size'] <= 16384:
            raise InvalidInputError('ca_key_size must be from %d to 16384 bits (asked for %d)'
                                    % (certs.MIN_RSA_KEY_BITS, p['ca_key_size']))
    certs.check_validity_days(p['ca_validity_days'], 'ca_validity_days')
    certs.check_validity_days(p['validity_days'])
    if p['renew_before_days'] < 0:
        raise InvalidInputError('renew_before_days must be 0 or more (got %d)' % p['renew_before_days'])


def check_served(p, ca):
    """Refuse hosts serving a certificate of another CA than ``ca`` (None: the CA about to be created)."""
    holder = ca if ca is not None else OwnCA(None)
    foreign = holder.foreign_leaves(p['served_certificates'], p['accepted_issuers'])
    if foreign:
        given = ('the CA given (%s)' % certs.fingerprint(ca.cert)) if ca is not None else 'the CA about to be created'
        raise InvalidInputError(
            '%s serve%s a certificate issued by %s, not by %s: nothing was changed. A new CA is a rotation: '
            'follow docs/ca-rotation.md (its phase 2 lists the old CA in rollout_truststore_certificates), or give '
            'the CA that issued them (rollout_ca_dir, or rollout_ca_certificate and rollout_ca_private_key)'
            % (', '.join(h for h, i in foreign), '' if len(foreign) > 1 else 's',
               '; '.join(sorted(set(i for h, i in foreign))), given))


class CABackend(Backend):

    def __init__(self, module):
        super(CABackend, self).__init__(module)
        self.ca = None
        self.create = False
        self.csr = None
        self.stored = None
        self.issued = None

    def check(self):
        p = self.params
        check_options(p)  # before the CA directory is made
        if p['ca_dir'] is not None:
            problem = state_dir_problem(p['ca_dir'], self.git)
            if problem:
                raise InvalidInputError(problem)

    def git(self, argv):
        executable = self.module.get_bin_path('git')
        if executable is None:
            return None
        rc, out, dummy = self.module.run_command([executable] + argv[1:])
        return rc, out

    def prepare_directories(self):
        """Make the CA directory (with create) and the directory of ``dest`` (never in check mode)."""
        p = self.params
        wanted = (p['ca_dir'] if p['create'] else None, os.path.dirname(p['dest'] or '') or None)
        for directory in wanted:
            if directory and not os.path.isdir(directory) and not self.module.check_mode:
                os.makedirs(directory, 0o700, exist_ok=True)

    def lock(self):
        ca_dir = self.params['ca_dir']
        if ca_dir is not None and os.path.isdir(ca_dir):
            return locked(os.path.join(ca_dir, CERT_FILE))
        return contextlib.nullcontext()

    def read(self):
        p = self.params
        if p['ca_certificate'] is not None:
            self.ca = OwnCA.from_content(p['ca_certificate'], p['ca_private_key'], p['ca_passphrase'])
            return
        self.ca = OwnCA(p['ca_dir'], p['ca_passphrase'])
        if not self.ca.load():
            if not p['create']:
                raise InvalidInputError(missing_ca(p['ca_dir']))
            self.create = True

    def decide(self):
        p = self.params
        if p['served_certificates']:
            check_served(p, None if self.create else self.ca)
        if p['csr']:
            self.csr = load_csr(p['csr'])
            # a weak request is refused before an issued certificate for it is even looked at
            certs.check_key_strength(self.csr.public_key(), 'the certificate signing request', p['allow_weak_keys'],
                                     self.module.warn)

    def produce(self):
        p = self.params
        if self.create:
            # OwnCA writes a new CA itself (key first, mode 0600), never in check mode
            self.ca.create(p['ca_subject'], p['ca_key_type'], p['ca_key_size'] or 3072, None, p['ca_validity_days'],
                           write=not self.module.check_mode)
            self.changed = True
        if self.csr is None:
            return
        self.stored = read_file(p['dest'], what='the issued certificate %s' % p['dest']) if p['dest'] else None
        self.issued = self.ca.keep_issued([self.stored, p['current_certificate']], self.csr, p['renew_before_days'])
        if self.issued is None:
            self.issued = self.ca.sign(self.csr, p['validity_days'], allow_weak_keys=p['allow_weak_keys'])
            self.changed = True

    def write(self):
        dest = self.params['dest']
        if self.issued is None or not dest:
            return
        pem = certs.cert_to_pem(self.issued).encode('ascii')
        if (self.stored or b'').strip() != pem.strip():
            self.changed = True
            if not self.module.check_mode:
                atomic_write(dest, pem, mode=0o644)

    def dump(self):
        ca = self.ca
        result = dict(ca_certificate=certs.cert_to_pem(ca.cert), ca_fingerprint_sha256=certs.fingerprint(ca.cert),
                      ca_created=self.create)
        if self.params['ca_dir'] is not None:
            result['ca_dir_state'] = 'absent' if self.create and self.module.check_mode else 'present'
        if self.issued is not None:
            result.update(certificate=certs.cert_to_pem(self.issued), fingerprint_sha256=certs.fingerprint(self.issued),
                          not_after=certs.iso(certs.not_after(self.issued)))
        result['changed'] = self.changed
        return result

    @classmethod
    def execute(cls, module):
        backend = cls(module)
        backend.check()
        backend.prepare_directories()
        with backend.lock():
            backend.read()
            backend.decide()
            backend.produce()
            backend.write()
        return backend.dump()


def run(module):
    """si_ca's runner: one plain sentence for any error, naming the CA directory for an OSError."""
    check_dependencies(module)
    try:
        result = CABackend.execute(module)
    except KeystoreError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg='cannot prepare the CA directory %s: %s' % (module.params['ca_dir'], exc.strerror))
    module.exit_json(**result)
