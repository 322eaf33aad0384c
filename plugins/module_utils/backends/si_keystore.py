# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_keystore: one identity key entry, generated or installed from existing material."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.common import StoreBackend
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    InvalidInputError, KeyMismatchError, KeystoreError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.key_age import key_too_old
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import (
    Keystore, check_password, effective_key_password, normalize_alias,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import (
    warn_on_default_password, warn_on_shipped_keys,
)

# what decide() settles on
REMOVE = 'remove'            # state=absent
INSTALL = 'install'          # existing material (certificate/private_key or pkcs12)
GENERATE = 'generate'        # a new key and self-signed certificate
REPLACE_KEY = 'replace_key'  # a new key, the certificate's facts kept where not asked otherwise
REISSUE = 'reissue'          # the same key, a new self-signed certificate
PASSWORD = 'password'        # the same key and chain, protected with the key password asked for
KEEP = 'keep'                # nothing


def _read_required(path, what):
    data = read_file(path, what='%s %s' % (what, path))
    if data is None:
        raise InvalidInputError('%s %s does not exist' % (what, path))
    return data


def pkcs12_material(p):
    """(private_key, chain) of the chosen key entry of ``pkcs12_path``."""
    path = p['pkcs12_path']
    source = Keystore.loads(_read_required(path, 'the PKCS#12 file'), p['pkcs12_password'] or '',
                            store_type='pkcs12', what='the PKCS#12 file %s' % path)
    keys = source.key_entries()
    if not keys:
        raise InvalidInputError('the PKCS#12 file %s holds no private key' % path)
    held = ', '.join(repr(k.alias) for k in keys)
    if p['pkcs12_alias']:
        keys = [k for k in keys if k.alias == normalize_alias(p['pkcs12_alias'])]
        if not keys:
            raise InvalidInputError('the PKCS#12 file %s has no key under alias %r (it holds %s)'
                                    % (path, p['pkcs12_alias'], held))
    elif len(keys) > 1:
        raise InvalidInputError('the PKCS#12 file %s holds several keys (%s); choose one with pkcs12_alias'
                                % (path, held))
    return keys[0].checked_private_key(), keys[0].chain


def pem_material(p):
    """(private_key, chain) from certificate(_path) and private_key(_path)."""
    if p['certificate_path']:
        cert_data = _read_required(p['certificate_path'], 'the certificate file')
    else:
        cert_data = p['certificate']
    if p['private_key_path']:
        key_data = _read_required(p['private_key_path'], 'the private key file')
    elif p['private_key']:
        key_data = p['private_key']
    else:
        raise InvalidInputError('a certificate needs its private key: set private_key or private_key_path')
    key = certs.load_private_key(key_data, p['private_key_passphrase'])
    given = certs.load_certificates(cert_data, what='the certificate')
    leaf = next((c for c in given if certs.public_keys_equal(key, c.public_key())), None)
    if leaf is None:
        raise KeyMismatchError('the private key and the certificate do not match (no certificate given holds its public key)')
    return key, certs.build_chain(leaf, given)


def existing_material(p):
    """(private_key, chain) from the certificate/private_key or pkcs12 options, or None."""
    if p['pkcs12_path']:
        return pkcs12_material(p)
    if p['certificate'] or p['certificate_path']:
        return pem_material(p)
    return None


def key_request(p):
    """(key_type, key_size, curve) of a generated key, defaults filled in, and whether any of them was given."""
    key_type = p['key_type'] or ('ec' if p['curve'] else 'rsa')
    given = any(p[k] is not None for k in ('key_type', 'key_size', 'curve'))
    return key_type, p['key_size'] or 2048, p['curve'] or 'secp256r1', given


def key_mismatches(p, entry):
    """Why the entry's key does not satisfy the request ([] when it does)."""
    key_type, key_size, curve, key_given = key_request(p)
    public = entry.certificate.public_key()
    if not key_given or certs.key_matches_request(public, key_type, key_size, curve):
        return []
    kind, size, has_curve = certs.key_description(public)
    return ['the key is %s %s, not the requested %s %s'
            % (kind, has_curve or size, key_type.upper(), curve if key_type == 'ec' else key_size)]


def certificate_mismatches(p, cert):
    """What of the entry's certificate differs from the request: subject, SANs, validity, expiry."""
    reasons = []
    if p['subject'] is not None and certs.parse_name(p['subject']) != cert.subject:
        reasons.append('subject')
    if p['subject_alt_names'] is not None and \
            sorted(certs.normalize_sans(p['subject_alt_names'])) != sorted(certs.subject_alt_names(cert)):
        reasons.append('subject alternative names')
    if certs.is_self_signed(cert):
        if p['validity_days'] is not None and certs.validity_days_of(cert) != p['validity_days']:
            reasons.append('validity')
        if certs.due_for_renewal(cert, p['renew_before_days']):
            reasons.append('expiry')
    return reasons


def mismatches(p, entry):
    """What of the request the existing entry does not satisfy: (key_reasons, cert_reasons)."""
    return key_mismatches(p, entry), certificate_mismatches(p, entry.certificate)


def new_certificate(p, key, previous=None):
    """A self-signed certificate for ``key``: what was asked, else what ``previous`` had, else the defaults."""
    if p['subject'] is not None:
        subject = certs.parse_name(p['subject'])
    elif previous is not None:
        subject = previous.subject
    else:
        subject = certs.parse_name('CN=%s' % socket.getfqdn())
    if p['subject_alt_names'] is not None:
        sans = p['subject_alt_names']
    else:
        sans = certs.subject_alt_names(previous) if previous is not None else []
    if p['validity_days'] is not None:
        days = p['validity_days']
    else:
        days = max(1, certs.validity_days_of(previous)) if previous is not None else 365
    return certs.self_signed_certificate(key, subject, sans, days)


def check_key_options(p):
    """key_type, key_size and curve fit together and in range."""
    key_type = key_request(p)[0]
    if p['key_size'] is not None and key_type != 'rsa':
        raise InvalidInputError('key_size applies to RSA keys only; an EC key\'s size is set by curve')
    if p['curve'] is not None and key_type != 'ec':
        raise InvalidInputError('curve applies to EC keys only; an RSA key\'s size is set by key_size')
    if key_type == 'rsa' and p['key_size'] is not None and p['key_size'] < certs.MIN_RSA_KEY_BITS:
        raise InvalidInputError('RSA keys shorter than %d bits are refused (asked for %d)'
                                % (certs.MIN_RSA_KEY_BITS, p['key_size']))
    if p['key_size'] is not None and p['key_size'] > 16384:
        raise InvalidInputError('key_size must be at most 16384 bits (asked for %d)' % p['key_size'])


def check_options(p):
    """Range checks, before anything is read or written."""
    check_key_options(p)
    certs.check_validity_days(p['validity_days'])
    if p['renew_before_days'] < 0:
        raise InvalidInputError('renew_before_days must be 0 or more (got %d)' % p['renew_before_days'])


def judge(p, entry, warn):
    """What to do with an existing key entry under regenerate=fail or partial_idempotence."""
    key_reasons, cert_reasons = mismatches(p, entry)
    self_signed = len(entry.chain) == 1 and certs.is_self_signed(entry.certificate)
    if (key_reasons or cert_reasons) and p['regenerate'] == 'fail':
        raise KeystoreError('the key entry %r does not match the request (%s) and regenerate is fail'
                            % (entry.alias, ', '.join(key_reasons + cert_reasons)))
    if key_reasons and not self_signed:
        warn('the key entry %r is CA-signed and %s; it was kept: replace it deliberately with '
             'regenerate=always' % (entry.alias, key_reasons[0]))
        return KEEP
    if key_reasons:
        return REPLACE_KEY
    if cert_reasons and not self_signed:
        warn('the key entry %r is CA-signed; its %s differ from the request, but a CA-signed chain is '
             'never replaced by a self-signed certificate: request a new one with si_csr'
             % (entry.alias, ', '.join(cert_reasons)))
        return KEEP
    return REISSUE if cert_reasons else PASSWORD


class KeystoreBackend(StoreBackend):

    new_file_mode = 0o600

    def __init__(self, module):
        super(KeystoreBackend, self).__init__(module)
        self.alias = None
        self.entry = None
        self.before = None
        self.open_with = None       # the key password the entry is opened with
        self.key_password = None    # the key password it is written with
        self.material = None
        self.action = None

    def check(self):
        check_options(self.params)

    def read(self):
        p = self.params
        self.open_store(create=p['state'] == 'present', missing_ok=True, old_password=p['old_password'])
        self.alias = normalize_alias(p['alias'])
        self.before = self.store.summary() if self.module._diff else None
        warn_on_default_password(self.module, p['password'])
        self.open_with, self.key_password = self.key_passwords()
        self.entry = self.store.get(self.alias)
        if self.entry is not None and self.entry.kind != 'private_key':
            raise InvalidInputError('the alias %r is a %s entry, not a key entry' % (
                self.alias, 'trusted certificate' if self.entry.kind == 'trusted_certificate'
                else self.entry.describe()))
        if p['state'] == 'present':
            if self.entry is not None:
                self.entry.open(self.open_with, p['password'], p['old_password'])
            self.material = existing_material(p)

    def key_passwords(self):
        """(the password that opens the key entry, the one it is written with), refusing or warning
        about a key password that differs from the store password where SI or PKCS#12 cannot use it."""
        p = self.params
        if p['key_password'] is not None and p['key_password'] != p['password']:
            check_password(p['key_password'], 'the key password')
        wanted = effective_key_password(p['key_password'], p['password'])
        if wanted == p['password']:
            return wanted, wanted
        if self.sf.store_type == 'pkcs12':
            if not (self.sf.converted and self.store.store_type == 'jks'):
                raise InvalidInputError('a PKCS#12 store has one password for the store and its key: '
                                        'leave key_password unset or equal to password')
            # converting JKS to PKCS#12, as keytool -importkeystore: key_password opens the JKS key entry,
            # and the store password protects it in the PKCS#12 store
            return wanted, p['password']
        if p['purpose'] == 'tls':  # the vault's key password is read separately (master-keys.yaml)
            self.module.warn('the key password differs from the store password; SI opens its TLS keystores with one '
                             'password for both, so it will not be able to use this key (set purpose=secure_vault for '
                             'the vault keystore, whose key password SI reads separately)')
        return wanted, wanted

    def decide(self):
        p = self.params
        if p['state'] == 'absent':
            self.action = REMOVE
        elif self.material is not None:
            self.action = INSTALL
        elif self.entry is None or p['regenerate'] == 'always':
            self.action = GENERATE
        elif p['regenerate'] == 'never':
            self.action = KEEP
        elif key_too_old(self.entry.chain, p['key_max_age_days']):
            self.action = REPLACE_KEY
        else:
            self.action = judge(p, self.entry, self.module.warn)

    def produce(self):
        p = self.params
        make = {
            REMOVE: lambda: self.store.remove(self.alias),
            INSTALL: lambda: self.store.set_key(self.alias, self.material[0], self.material[1], self.key_password),
            GENERATE: lambda: self._new_key(None),
            REPLACE_KEY: lambda: self._new_key(self.entry.certificate),
            REISSUE: self._reissue,
            PASSWORD: lambda: self.store.set_key_password(self.alias, self.key_password),
            KEEP: lambda: None,
        }
        make[self.action]()
        if p['state'] == 'present':
            # a key kept or imported is judged as a generated one is: never shorter than the minimum
            kept = self.store.get(self.alias)
            certs.check_key_strength(kept.certificate.public_key(), 'the key entry %r of %s' % (self.alias, p['path']),
                                     p['allow_weak_keys'], self.module.warn)
        warn_on_shipped_keys(self.module, self.store, p['path'])

    def _new_key(self, previous):
        key = certs.generate_private_key(*key_request(self.params)[:3])
        self.store.set_key(self.alias, key, [new_certificate(self.params, key, previous)], self.key_password)

    def _reissue(self):
        key = self.entry.checked_private_key()
        self.store.set_key(self.alias, key, [new_certificate(self.params, key, self.entry.certificate)],
                           self.key_password)

    def dump(self):
        result = dict(alias=self.alias, store_type=self.sf.store_type)
        final = self.store.get(self.alias)
        if final is not None:
            cert = final.certificate
            result.update(certs.summary(cert))
            result.update(subject_alt_names=certs.subject_alt_names(cert), chain_length=len(final.chain))
        diff = dict(before={'entries': self.before}, after={'entries': self.store.summary()})
        return self.finish(result, diff)
