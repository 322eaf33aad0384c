#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: si_keystore
short_description: Ensure an identity key entry in a Java keystore
version_added: 0.1.0
description:
  - Ensures a private key entry under O(alias) in a JKS or PKCS#12 keystore, such as the one WSO2 Streaming
    Integrator serves HTTPS and databridge with, creating the store when it is missing.
  - The key is either generated on the managed host (it never leaves it) with a self-signed SHA-256 certificate,
    or taken from existing material (O(certificate), O(private_key) or O(pkcs12_path)), without openssl or keytool.
  - Other entries of the store are kept.
author: wso2si.keystores contributors (@wso2si)
extends_documentation_fragment:
  - wso2si.keystores.store
  - wso2si.keystores.store.OLD_PASSWORD
  - wso2si.keystores.store.BACKUP
  - wso2si.keystores.store.STRICT_DEFAULTS
  - wso2si.keystores.store.ATTRIBUTES
  - wso2si.keystores.material
  - ansible.builtin.files
options:
  alias:
    description:
      - The alias of the key entry. Java stores aliases in lower case.
    type: str
    required: true
  key_password:
    description:
      - The password of the key entry. Defaults to O(password).
      - SI opens the key of a TLS keystore with the store password, so with O(purpose=tls) a different key password
        draws a warning. The secure vault's key password is read separately (C(privateKeyPassword) in
        C(master-keys.yaml)), so with O(purpose=secure_vault) it may differ, without a warning.
      - A PKCS#12 store has one password; a different O(key_password) is refused there, except when a JKS store
        is converted to PKCS#12 (O(store_type)). It then opens the JKS key entry, which the store password protects
        afterwards, as C(keytool -importkeystore) does.
    type: str
  purpose:
    description:
      - What SI uses the store for, which decides whether a O(key_password) different from O(password) is unusable.
      - V(tls) (the HTTPS listeners, the databridge, the JVM-wide C(javax.net.ssl.keyStore)) warns about a different
        key password; V(secure_vault) (the vault keystore C(wso2.securevault) names) does not.
    type: str
    choices: [tls, secure_vault]
    default: tls
  state:
    description:
      - V(present) ensures the key entry; V(absent) removes the entry under O(alias) and keeps the file
        and every other entry.
    type: str
    choices: [present, absent]
    default: present
  key_type:
    description:
      - Type of a generated key; V(rsa) unless set (V(ec) when only O(curve) is set).
      - When O(key_type), O(key_size) and O(curve) are all unset, an existing key is accepted whatever its type and
        size (so that, for example, rotating the password of a store whose key keytool made keeps that key).
    type: str
    choices: [rsa, ec]
  key_size:
    description:
      - Size in bits of a generated RSA key; 2048 unless set. Sizes below 2048, or above 16384, are refused.
      - Only for RSA keys; with O(key_type=ec) the task fails (an EC key's size is its O(curve)).
    type: int
  curve:
    description: Curve of a generated EC key; V(secp256r1) unless set. Only for EC keys; with O(key_type=rsa) the task fails.
    type: str
    choices: [secp256r1, secp384r1, secp521r1]
  subject:
    description:
      - Subject of a generated self-signed certificate, as a keytool dname string, most specific first
        (C(CN=si1.example.com, OU=Integration, O=Example, L=Colombo, ST=Western, C=LK); C(S=) is accepted for C(ST=)),
        or as a dict with the same keys in the same order.
      - Default for a new certificate is C(CN=) and the host's fully qualified name.
      - When unset, an existing certificate's subject is accepted as it is.
    type: raw
  subject_alt_names:
    description:
      - Subject alternative names of a generated certificate, each C(DNS:name), C(IP:address), C(URI:uri) or C(email:address).
      - When unset, an existing certificate's SANs are accepted as they are; V([]) asks for none.
    type: list
    elements: str
  validity_days:
    description:
      - Validity of a generated self-signed certificate, in days. A new certificate gets 365 days unless this is set.
      - When unset, an existing certificate's validity is accepted as it is, and a re-issued one keeps its length
        (so that, for example, rotating the password of a store made by keytool does not replace its certificate).
      - From 1 to 36500; V(0) or less, which would make a certificate that has already expired, is refused.
    type: int
  renew_before_days:
    description:
      - Re-issue a self-signed certificate on the same key when it expires within this many days (0 or more).
      - CA-signed chains are never replaced by this module.
    type: int
    default: 0
  key_max_age_days:
    description:
      - Replace the key of an existing entry by a new one (of the requested O(key_type), O(key_size), O(curve)) with a
        self-signed certificate (the entry's subject and SANs unless O(subject), O(subject_alt_names) are set) when
        the key is this many days old or older; V(0) never does. A CA-signed chain is replaced too; request a
        certificate for the new key with M(wso2si.keystores.si_csr).
      - The key's age is counted from the earliest not-before of the certificates of the entry's chain that hold
        its public key (at least the leaf's); a renewal that re-signed the same key therefore starts the count
        again. The backup (O(backup)) keeps the old entry.
      - With O(regenerate=never) the key is kept whatever its age.
    type: int
    default: 0
  regenerate:
    description:
      - When an existing entry is replaced, in community.crypto's sense.
      - V(never) keeps an existing entry whatever it holds.
      - V(fail) fails when the existing entry does not match the request.
      - V(partial_idempotence) replaces a key whose type, size or curve differs from the request, re-issues a
        self-signed certificate whose subject, SANs or validity no longer match on the same key, and never replaces a
        CA-signed chain by a self-signed one (it warns instead).
      - V(always) generates a new key and certificate on every run.
      - Existing material (O(certificate), O(private_key), O(pkcs12_path)) is always installed when it differs from the entry.
    type: str
    choices: [never, fail, partial_idempotence, always]
    default: partial_idempotence
  certificate:
    description:
      - Install this certificate (PEM, DER or PKCS#7; it may hold the chain) with O(private_key) or O(private_key_path)
        instead of generating a key. The chain is ordered leaf first by signature.
    type: str
  certificate_path:
    description: Like O(certificate), from a file on the managed host. Without it or O(certificate) or O(pkcs12_path), a key is generated.
    type: path
  private_key:
    description: The private key (PEM) that belongs to O(certificate). Needed with O(certificate) or O(certificate_path).
    type: str
  private_key_path:
    description: Like O(private_key), from a file on the managed host (PEM or DER). Give one of the two with a certificate.
    type: path
  private_key_passphrase:
    description: Passphrase of an encrypted O(private_key) or O(private_key_path); not needed for an unencrypted key.
    type: str
  pkcs12_path:
    description: Take the key and its chain from this PKCS#12 file on the managed host, instead of O(certificate) and O(private_key).
    type: path
  pkcs12_password:
    description: Password of O(pkcs12_path); without it the file is opened with an empty password.
    type: str
  pkcs12_alias:
    description:
      - Alias of the key entry to take from O(pkcs12_path).
      - Needed when the file holds several key entries; with one, it only checks the alias.
    type: str
  mode:
    description:
      - The permissions of the store. A new store holding a private key is created C(0600) unless this is set;
        an existing file keeps its mode.
notes:
  - SI needs the key password of a TLS keystore to equal its store password, and one key entry per TLS keystore;
    the secure vault's key password may differ (O(purpose=secure_vault)).
seealso:
  - module: wso2si.keystores.si_csr
  - module: wso2si.keystores.si_cert_import
  - module: wso2si.keystores.si_truststore
  - module: wso2si.keystores.si_keystore_info
'''

EXAMPLES = r'''
- name: Give an SI host its own key pair and a self-signed certificate
  wso2si.keystores.si_keystore:
    path: /opt/wso2si/resources/security/keystore.jks
    password: "{{ vault_keystore_password }}"
    alias: "{{ inventory_hostname_short }}"
    subject: "CN={{ inventory_hostname }}, OU=Integration, O=Example, L=Colombo, ST=Western, C=LK"
    subject_alt_names:
      - "DNS:{{ inventory_hostname }}"
      - "IP:{{ ansible_default_ipv4.address }}"
    owner: wso2
    group: wso2

- name: Build the keystore from an existing certificate and key (no openssl or keytool)
  wso2si.keystores.si_keystore:
    path: /opt/wso2si/resources/security/keystore.jks
    password: "{{ vault_keystore_password }}"
    alias: si
    certificate_path: /etc/pki/si/fullchain.pem
    private_key_path: /etc/pki/si/privkey.pem

- name: Rotate the store password, keeping every entry
  wso2si.keystores.si_keystore:
    path: /opt/wso2si/resources/security/keystore.jks
    password: "{{ vault_new_keystore_password }}"
    old_password: "{{ vault_keystore_password }}"
    alias: si
'''

RETURN = r'''
alias:
  description: The alias of the key entry.
  returned: always
  type: str
  sample: si1
store_type:
  description: The store's type.
  returned: always
  type: str
  sample: jks
fingerprint_sha256:
  description: SHA-256 fingerprint of the entry's certificate, as keytool prints it.
  returned: state=present
  type: str
  sample: "8A:CE:6D:B1:DF:A6:24:6F:D6:D7:32:80:49:09:06:23:F0:59:34:AD:71:65:F2:F2:2A:44:61:2B:A7:34:0B:28"
subject:
  description: Subject of the entry's certificate, keytool style.
  returned: state=present
  type: str
  sample: "CN=si1.example.com, OU=Integration, O=Example, L=Colombo, ST=Western, C=LK"
issuer:
  description: Issuer of the entry's certificate.
  returned: state=present
  type: str
  sample: "CN=si1.example.com, OU=Integration, O=Example, L=Colombo, ST=Western, C=LK"
not_after:
  description: Expiry of the entry's certificate (UTC, ISO 8601).
  returned: state=present
  type: str
  sample: "2027-11-27T13:45:01Z"
subject_alt_names:
  description: SANs of the entry's certificate.
  returned: state=present
  type: list
  elements: str
  sample: ["DNS:si1.example.com", "IP:10.0.0.11"]
chain_length:
  description: Number of certificates in the entry's chain.
  returned: state=present
  type: int
  sample: 1
backup_file:
  description: The backup made before the change.
  returned: changed and O(backup=true)
  type: str
  sample: /opt/wso2si/resources/security/keystore.jks.2403.2026-11-27@13:45:01~
'''

import datetime
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    InvalidInputError, KeyMismatchError, KeystoreError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.key_age import key_too_old
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore, check_password, normalize_alias
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import (
    StoreFile, run, store_argument_spec, warn_on_default_password, warn_on_shipped_keys,
)


def existing_material(module):
    """(private_key, chain) from certificate/private_key or pkcs12 options, or None."""
    p = module.params
    if p['pkcs12_path']:
        data = read_file(p['pkcs12_path'], what='the PKCS#12 file %s' % p['pkcs12_path'])
        if data is None:
            raise InvalidInputError('the PKCS#12 file %s does not exist' % p['pkcs12_path'])
        source = Keystore.loads(data, p['pkcs12_password'] or '', store_type='pkcs12',
                                what='the PKCS#12 file %s' % p['pkcs12_path'])
        keys = source.key_entries()
        if not keys:
            raise InvalidInputError('the PKCS#12 file %s holds no private key' % p['pkcs12_path'])
        held = ', '.join(repr(k.alias) for k in keys)
        if p['pkcs12_alias']:
            keys = [k for k in keys if k.alias == normalize_alias(p['pkcs12_alias'])]
            if not keys:
                raise InvalidInputError('the PKCS#12 file %s has no key under alias %r (it holds %s)'
                                        % (p['pkcs12_path'], p['pkcs12_alias'], held))
        elif len(keys) > 1:
            raise InvalidInputError('the PKCS#12 file %s holds several keys (%s); choose one with pkcs12_alias'
                                    % (p['pkcs12_path'], held))
        return keys[0].private_key, keys[0].chain
    if not (p['certificate'] or p['certificate_path']):
        return None
    if p['certificate_path']:
        cert_data = read_file(p['certificate_path'], what='the certificate file %s' % p['certificate_path'])
        if cert_data is None:
            raise InvalidInputError('the certificate file %s does not exist' % p['certificate_path'])
    else:
        cert_data = p['certificate']
    if p['private_key_path']:
        key_data = read_file(p['private_key_path'], what='the private key file %s' % p['private_key_path'])
        if key_data is None:
            raise InvalidInputError('the private key file %s does not exist' % p['private_key_path'])
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


def key_request(params):
    """(key_type, key_size, curve) of a generated key, defaults filled in, and whether any of them was given."""
    key_type = params['key_type'] or ('ec' if params['curve'] else 'rsa')
    given = any(params[k] is not None for k in ('key_type', 'key_size', 'curve'))
    return key_type, params['key_size'] or 2048, params['curve'] or 'secp256r1', given


def mismatches(module, entry):
    """What of the request the existing entry does not satisfy: (key_reasons, cert_reasons)."""
    p = module.params
    key_reasons, cert_reasons = [], []
    key_type, key_size, curve, key_given = key_request(p)
    if key_given and not certs.key_matches_request(entry.certificate.public_key(), key_type, key_size, curve):
        kind, size, has_curve = certs.key_description(entry.certificate.public_key())
        key_reasons.append('the key is %s %s, not the requested %s %s'
                           % (kind, has_curve or size, key_type.upper(), curve if key_type == 'ec' else key_size))
    cert = entry.certificate
    if p['subject'] is not None and certs.parse_name(p['subject']) != cert.subject:
        cert_reasons.append('subject')
    if p['subject_alt_names'] is not None and \
            sorted(certs.normalize_sans(p['subject_alt_names'])) != sorted(certs.subject_alt_names(cert)):
        cert_reasons.append('subject alternative names')
    if certs.is_self_signed(cert):
        if p['validity_days'] is not None and certs.validity_days_of(cert) != p['validity_days']:
            cert_reasons.append('validity')
        if certs.not_after(cert) - certs.utcnow() <= datetime.timedelta(days=p['renew_before_days']):
            cert_reasons.append('expiry')
    return key_reasons, cert_reasons


def new_certificate(module, key, previous=None):
    p = module.params
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


def check_options(p):
    """Range checks, before anything is read or written."""
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
    certs.check_validity_days(p['validity_days'])
    if p['renew_before_days'] < 0:
        raise InvalidInputError('renew_before_days must be 0 or more (got %d)' % p['renew_before_days'])


def ensure(module):
    p = module.params
    check_options(p)
    key_password = p['key_password'] if p['key_password'] is not None else p['password']
    sf = StoreFile(module, p['path'], p['password'], p['store_type'], p['old_password'])
    store = sf.open(create=p['state'] == 'present', missing_ok=True)
    alias = normalize_alias(p['alias'])
    before = store.summary() if module._diff else None
    warn_on_default_password(module, p['password'])
    open_with = key_password
    if key_password != p['password']:
        check_password(key_password, 'the key password')
        if sf.store_type == 'pkcs12' and not (sf.converted and store.store_type == 'jks'):
            raise InvalidInputError('a PKCS#12 store has one password for the store and its key: '
                                    'leave key_password unset or equal to password')
        if sf.store_type == 'pkcs12':
            # converting JKS to PKCS#12, as keytool -importkeystore: key_password opens the JKS key entry,
            # and the store password protects it in the PKCS#12 store
            key_password = p['password']
        elif p['purpose'] == 'tls':  # the vault's key password is read separately (master-keys.yaml)
            module.warn('the key password differs from the store password; SI opens its TLS keystores with one '
                        'password for both, so it will not be able to use this key (set purpose=secure_vault for the '
                        'vault keystore, whose key password SI reads separately)')

    entry = store.get(alias)
    if entry is not None and entry.kind != 'private_key':
        raise InvalidInputError('the alias %r is a %s entry, not a key entry' % (
            alias, 'trusted certificate' if entry.kind == 'trusted_certificate' else entry.describe()))

    if p['state'] == 'absent':
        store.remove(alias)
    else:
        if entry is not None:
            entry.open(open_with, p['password'], p['old_password'])
        material = existing_material(module)
        if material is not None:
            store.set_key(alias, material[0], material[1], key_password)
        elif entry is None or p['regenerate'] == 'always':
            key = certs.generate_private_key(*key_request(p)[:3])
            store.set_key(alias, key, [new_certificate(module, key)], key_password)
        elif p['regenerate'] != 'never' and key_too_old(entry.chain, p['key_max_age_days']):
            key = certs.generate_private_key(*key_request(p)[:3])
            store.set_key(alias, key, [new_certificate(module, key, entry.certificate)], key_password)
        elif p['regenerate'] != 'never':
            key_reasons, cert_reasons = mismatches(module, entry)
            self_signed = len(entry.chain) == 1 and certs.is_self_signed(entry.certificate)
            if (key_reasons or cert_reasons) and p['regenerate'] == 'fail':
                raise KeystoreError('the key entry %r does not match the request (%s) and regenerate is fail'
                                    % (alias, ', '.join(key_reasons + cert_reasons)))
            if key_reasons and not self_signed:
                module.warn('the key entry %r is CA-signed and %s; it was kept: replace it deliberately with '
                            'regenerate=always' % (alias, key_reasons[0]))
            elif key_reasons:
                key = certs.generate_private_key(*key_request(p)[:3])
                store.set_key(alias, key, [new_certificate(module, key, entry.certificate)], key_password)
            elif cert_reasons and not self_signed:
                module.warn('the key entry %r is CA-signed; its %s differ from the request, but a CA-signed chain is '
                            'never replaced by a self-signed certificate: request a new one with si_csr'
                            % (alias, ', '.join(cert_reasons)))
            elif cert_reasons:
                store.set_key(alias, entry.private_key,
                              [new_certificate(module, entry.private_key, entry.certificate)], key_password)
            else:
                store.set_key_password(alias, key_password)  # key password change only

    if p['state'] == 'present':
        # a key kept or imported is judged as a generated one is: never shorter than the minimum
        kept = store.get(alias)
        certs.check_key_strength(kept.certificate.public_key(), 'the key entry %r of %s' % (alias, p['path']),
                                 p['allow_weak_keys'], module.warn)
    warn_on_shipped_keys(module, store, p['path'])
    changed = sf.save(backup=p['backup'], new_file_mode=0o600)
    result = dict(changed=changed, alias=alias, store_type=sf.store_type)
    final = store.get(alias)
    if final is not None:
        cert = final.certificate
        result.update(certs.summary(cert))
        result.update(subject_alt_names=certs.subject_alt_names(cert), chain_length=len(final.chain))
    if sf.backup_file:
        result['backup_file'] = sf.backup_file
    if module._diff:
        result['diff'] = dict(before={'entries': before}, after={'entries': store.summary()})
    result['changed'] = sf.apply_file_attributes(result['changed'], result.get('diff'))
    return result


def main():
    argument_spec = store_argument_spec(
        alias=dict(type='str', required=True),
        key_password=dict(type='str', no_log=True),
        purpose=dict(type='str', choices=['tls', 'secure_vault'], default='tls'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        key_type=dict(type='str', choices=['rsa', 'ec']),
        key_size=dict(type='int'),
        curve=dict(type='str', choices=['secp256r1', 'secp384r1', 'secp521r1']),
        subject=dict(type='raw'),
        subject_alt_names=dict(type='list', elements='str'),
        validity_days=dict(type='int'),
        renew_before_days=dict(type='int', default=0),
        key_max_age_days=dict(type='int', default=0, no_log=False),
        regenerate=dict(type='str', choices=['never', 'fail', 'partial_idempotence', 'always'],
                        default='partial_idempotence'),
        certificate=dict(type='str'),
        certificate_path=dict(type='path'),
        private_key=dict(type='str', no_log=True),
        private_key_path=dict(type='path'),
        private_key_passphrase=dict(type='str', no_log=True),
        pkcs12_path=dict(type='path'),
        pkcs12_password=dict(type='str', no_log=True),
        pkcs12_alias=dict(type='str'),
        old_password=dict(type='str', no_log=True),
        backup=dict(type='bool', default=False),
        strict_defaults=dict(type='bool', default=False),
        allow_weak_keys=dict(type='bool', default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        add_file_common_args=True,
        mutually_exclusive=[
            ('certificate', 'certificate_path', 'pkcs12_path'),
            ('private_key', 'private_key_path', 'pkcs12_path'),
        ],
    )
    run(module, ensure)


if __name__ == '__main__':
    main()
