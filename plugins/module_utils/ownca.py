# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""A small certificate authority kept in one directory: ``ca.key`` (0600,
optionally encrypted) and ``ca.pem``, or given as content (certificate and key
held in memory only, as a controller credential or Ansible Vault gives them).
It signs CSRs for TLS servers that are also clients, copying the request's
subject, SANs and usages."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.deps import x509, serialization, ExtensionOID
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import atomic_write, read_file

KEY_FILE = 'ca.key'
CERT_FILE = 'ca.pem'


CONTENT_CERT = 'the CA certificate given as content'
CONTENT_KEY = 'the CA key given as content'


class OwnCA(object):

    def __init__(self, directory, passphrase=None):
        self.directory = directory
        self.passphrase = passphrase
        self.cert = None
        self._key = None
        self._key_data = None

    @classmethod
    def from_content(cls, certificate, private_key, passphrase=None):
        """A CA given as content: parsed and matched in memory, never written anywhere."""
        ca = cls(None, passphrase)
        ca.cert = certs.load_certificates(certificate, what=CONTENT_CERT)[0]
        certs.check_key_matches(certs.load_private_key(private_key, passphrase, what=CONTENT_KEY, validate=False),
                                ca.cert)
        ca._key_data = private_key.encode('utf-8') if isinstance(private_key, str) else private_key
        return ca

    @property
    def key(self):
        """The CA key, loaded and validated on first use: a run that signs nothing never pays for it."""
        if self._key is None and self._key_data is not None:
            what = CONTENT_KEY if self.directory is None else 'the CA key %s' % self.key_path
            self._key = certs.load_private_key(self._key_data, self.passphrase, what=what)
        return self._key

    @property
    def key_path(self):
        return os.path.join(self.directory, KEY_FILE)

    @property
    def cert_path(self):
        return os.path.join(self.directory, CERT_FILE)

    def load(self):
        """Load an existing CA; returns False when the directory holds none."""
        key_data = read_file(self.key_path, what='the CA key %s' % self.key_path)
        cert_data = read_file(self.cert_path, what='the CA certificate %s' % self.cert_path)
        if key_data is None and cert_data is None:
            return False
        if key_data is None or cert_data is None:
            raise InvalidInputError('the CA directory %s holds only one of %s and %s'
                                    % (self.directory, KEY_FILE, CERT_FILE))
        self.cert = certs.load_certificates(cert_data, what='the CA certificate %s' % self.cert_path)[0]
        certs.check_key_matches(certs.load_private_key(key_data, self.passphrase, what='the CA key %s' % self.key_path,
                                                       validate=False), self.cert)
        self._key_data = key_data
        return True

    def create(self, subject, key_type='rsa', key_size=3072, curve=None, validity_days=3650, write=True):
        certs.check_validity_days(validity_days, 'ca_validity_days')
        self._key = certs.generate_private_key(key_type, key_size, curve)
        name = certs.parse_name(subject)
        now = certs.utcnow().replace(microsecond=0)
        public = self.key.public_key()
        self.cert = (x509.CertificateBuilder()
                     .subject_name(name).issuer_name(name).public_key(public)
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(minutes=5))
                     .not_valid_after(now + datetime.timedelta(days=validity_days))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                  key_encipherment=False, data_encipherment=False,
                                                  key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
                     .sign(self.key, certs.signature_hash(self.key)))
        if write:
            encryption = (serialization.BestAvailableEncryption(self.passphrase.encode('utf-8'))
                          if self.passphrase else serialization.NoEncryption())
            atomic_write(self.key_path, self.key.private_bytes(serialization.Encoding.PEM,
                                                               serialization.PrivateFormat.PKCS8, encryption), mode=0o600)
            atomic_write(self.cert_path, certs.cert_to_pem(self.cert).encode('ascii'), mode=0o644)

    def issued_matches(self, cert, csr, renew_before_days):
        """True when ``cert`` was signed by this CA for ``csr`` and stays valid
        beyond the renewal window."""
        if not certs.signed_by(cert, self.cert):
            return False
        if not certs.public_keys_equal(cert.public_key(), csr.public_key()) or cert.subject != csr.subject:
            return False
        if sorted(certs.subject_alt_names(cert)) != sorted(_csr_sans(csr)):
            return False
        return not certs.due_for_renewal(cert, renew_before_days)

    def keep_issued(self, candidates, csr, renew_before_days):
        """The first of ``candidates`` (PEM text or bytes, empty ones skipped)
        that this CA issued for ``csr`` and that stays valid, or None."""
        for data in candidates:
            if not data or not str(data).strip():
                continue
            cert = certs.load_certificates(data, what='the current certificate')[0]
            if self.issued_matches(cert, csr, renew_before_days):
                return cert
        return None

    def foreign_leaves(self, served, accepted=()):
        """The hosts of ``served`` ({host: PEM of the certificate it serves, or
        empty}) whose certificate a CA issued that is neither this one nor one
        of ``accepted`` (PEM): [(host, issuer)], sorted. Self-signed
        certificates (a first rollout) are nobody's issue. Without a CA yet
        (``self.cert`` None), every CA-issued certificate not accepted is listed."""
        issuers = ([self.cert] if self.cert is not None else [])
        for data in accepted:
            issuers.extend(certs.load_certificates(data, what='an accepted issuer certificate'))
        foreign = []
        for host in sorted(served):
            data = served[host]
            if not data or not str(data).strip():
                continue
            leaf = certs.load_certificates(data, what='the certificate %s serves' % host)[0]
            if certs.is_self_signed(leaf) or any(certs.signed_by(leaf, issuer) for issuer in issuers):
                continue
            foreign.append((host, certs.name_to_string(leaf.issuer)))
        return foreign

    def sign(self, csr, validity_days=365, allow_weak_keys=False, warn=None):
        certs.check_validity_days(validity_days)
        if not csr.is_signature_valid:
            raise InvalidInputError('the certificate signing request has an invalid signature')
        certs.check_key_strength(csr.public_key(), 'the certificate signing request', allow_weak_keys, warn)
        now = certs.utcnow().replace(microsecond=0)
        end = min(now + datetime.timedelta(days=validity_days), certs.not_after(self.cert))
        builder = (x509.CertificateBuilder()
                   .subject_name(csr.subject).issuer_name(self.cert.subject)
                   .public_key(csr.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.cert.public_key()),
                                  critical=False))
        for oid in (ExtensionOID.SUBJECT_ALTERNATIVE_NAME, ExtensionOID.KEY_USAGE, ExtensionOID.EXTENDED_KEY_USAGE):
            try:
                ext = csr.extensions.get_extension_for_oid(oid)
            except x509.ExtensionNotFound:
                continue
            builder = builder.add_extension(ext.value, critical=ext.critical)
        return builder.sign(self.key, certs.signature_hash(self.key))


def state_dir_problem(path, run_command):
    """Why ``path`` must not hold a CA (or other controller state), or None.

    Refused: a directory inside an installed collection (a MANIFEST.json under
    ansible_collections/NS/NAME, which the next install replaces), and one
    inside a git work tree that git does not ignore (the key would be one
    ``git add -A`` or ``make build`` away from being published).
    ``run_command(argv)`` returns (rc, stdout), like AnsibleModule.run_command;
    None when git is not installed (then nothing can commit the CA either)."""
    path = os.path.abspath(path)
    parts = path.split(os.sep)
    for i in range(len(parts) - 3, 0, -1):
        if parts[i] == 'ansible_collections':
            root = os.sep.join(parts[:i + 3])
            if os.path.isfile(os.path.join(root, 'MANIFEST.json')):
                return ('%s is inside the installed collection %s, which the next install replaces: '
                        'keep the CA outside it' % (path, root))
    existing = path
    while not os.path.isdir(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            return None
        existing = parent
    top = run_command(['git', '-C', existing, 'rev-parse', '--show-toplevel'])
    if top is None or top[0] != 0:
        return None
    ignored = run_command(['git', '-C', existing, 'check-ignore', '-q', '--no-index', os.path.join(path, KEY_FILE)])
    if ignored is not None and ignored[0] == 0:
        return None
    return ('%s is inside the git work tree %s and not ignored by git: keep the CA outside it, '
            'or add it to .gitignore' % (path, top[1].strip()))


def load_csr(data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    try:
        if b'-----BEGIN' in data:
            return x509.load_pem_x509_csr(data)
        return x509.load_der_x509_csr(data)
    except certs.PARSE_ERRORS as exc:
        raise InvalidInputError('the certificate signing request cannot be parsed (PEM or DER CSR expected)') from exc


def _csr_sans(csr):
    try:
        ext = csr.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    return [certs.format_san(gn) for gn in ext.value]
