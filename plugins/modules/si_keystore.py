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
    version_added: 0.4.0
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

from ansible_collections.wso2si.keystores.plugins.module_utils import argspec
from ansible_collections.wso2si.keystores.plugins.module_utils.backends.si_keystore import KeystoreBackend
from ansible_collections.wso2si.keystores.plugins.module_utils.store_file import run


def argument_spec():
    return argspec.store().merge(
        argspec.store_old_password(), argspec.store_key_password(), argspec.store_backup(),
        argspec.store_strict_defaults(), argspec.material(),
    ).update_argspec(
        alias=dict(type='str', required=True),
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
    ).update(mutually_exclusive=[
        ('certificate', 'certificate_path', 'pkcs12_path'),
        ('private_key', 'private_key_path', 'pkcs12_path'),
    ])


def main():
    module = argument_spec().create_ansible_module(supports_check_mode=True, add_file_common_args=True)
    run(module, KeystoreBackend.execute)


if __name__ == '__main__':
    main()
