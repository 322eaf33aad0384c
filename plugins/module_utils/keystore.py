# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The keystore model: JKS (read and written here, keys protected with pyjks) and PKCS#12 (pkcs12_container) behind one API.

A ``Keystore`` is an ordered set of entries, each a ``KeyEntry`` (a private
key with its certificate chain, leaf first), a ``TrustedEntry`` (one
certificate) or a ``PreservedEntry`` (what the collection does not model, such
as a Java secret key: kept as it was read, never dropped). Aliases are
lower-cased, as Java stores them. Certificates and
keys are parsed lazily, so opening a 5000-certificate truststore to add one
certificate parses almost nothing.

Content, never bytes, decides whether something changed: ``modified`` is set
only by a mutation that really alters an entry.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import hmac
import struct
import time

from ansible_collections.wso2si.keystores.plugins.module_utils.deps import pyjks, serialization
from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import pkcs12_container as p12
from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import der_element as _der
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    CorruptKeystoreError, InvalidInputError, UnsupportedContentError, WrongKeyPasswordError, WrongPasswordError,
)

JKS_MAGIC = b'\xfe\xed\xfe\xed'
JCEKS_MAGIC = b'\xce\xce\xce\xce'
STORE_TYPES = ('jks', 'pkcs12')
MIN_PASSWORD_LENGTH = 6


def check_password(password, what='the store password'):
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError('%s must be at least %d characters long (Java refuses shorter ones)'
                                % (what, MIN_PASSWORD_LENGTH))


def effective_key_password(key_password, store_password):
    """The password that really protects a key entry: its own, or the store password when it has none
    (None or empty). The one place that decides it; ``own_key_password`` is its inverse."""
    return key_password or store_password


def own_key_password(key_password, store_password):
    """How a key entry records ``key_password``: None when it is (or means) the store password."""
    effective = effective_key_password(key_password, store_password)
    return None if effective == store_password else effective


def normalize_alias(alias):
    alias = str(alias or '').strip()
    if not alias:
        raise InvalidInputError('an alias must not be empty')
    if any(ord(c) < 32 for c in alias):
        raise InvalidInputError('the alias %r contains control characters' % alias)
    if len(alias) > 255:
        raise InvalidInputError('the alias %r... is longer than 255 characters' % alias[:40])
    return alias.lower()


def detect_type(data):
    """'jks' or 'pkcs12' from the file's content (never its name); None when neither."""
    if data[:4] == JKS_MAGIC:
        return 'jks'
    if data[:4] == JCEKS_MAGIC:
        raise UnsupportedContentError('the file is a JCEKS keystore; convert it to JKS or PKCS#12 first')
    if _pkcs12_structure(data) is not None:
        return 'pkcs12'
    return None


# ---------------------------------------------------------------- entries

class TrustedEntry(object):
    kind = 'trusted_certificate'

    def __init__(self, alias, der=None, certificate=None, timestamp=None):
        self.alias = alias
        self._der = der
        self._cert = certificate
        self.timestamp = timestamp

    @property
    def der(self):
        if self._der is None:
            self._der = certs.cert_to_der(self._cert)
        return self._der

    @property
    def certificate(self):
        if self._cert is None:
            try:
                self._cert = certs.x509.load_der_x509_certificate(self.der)
            except certs.PARSE_ERRORS as exc:
                raise CorruptKeystoreError('the certificate under alias %r cannot be parsed' % self.alias) from exc
        return self._cert

    @property
    def chain(self):
        return [self.certificate]

    def fingerprint(self):
        # hash the stored DER directly: no certificate parsing on the hot path
        return _der_fingerprint(self.der)


class KeyEntry(object):
    """A private key with its chain.

    The one way to get at the key (the key-access API):

    - ``open(*passwords)`` decrypts a JKS key entry with the first password that works (PKCS#12 key entries
      and new entries are open already);
    - ``checked_private_key()``: the key, an RSA key validated (primality checks) on first use: for anything
      written or handed out;
    - ``unchecked_private_key()``: the key without RSA validation: only for work whose result is compared or
      discarded;
    - ``public_key()``: the public key, never validating the private key.

    ``key_password`` is the password the entry is (to be) protected with, None when that is the store
    password: ``effective_key_password`` is the one rule that turns it into the password really used.
    """
    kind = 'private_key'

    def __init__(self, alias, chain_der=None, private_key=None, chain=None, key_password=None,
                 protected=None, timestamp=None):
        self.alias = alias
        self._chain_der = chain_der
        self._chain = chain
        self._key = private_key
        # the decrypted PKCS#8 of a JKS key entry, and its key parsed without
        # cryptography's RSA key validation (for public facts only; see open())
        self._pkcs8 = None
        self._unchecked_key = None
        # the password this entry is (to be) protected with; None: the store password
        self.key_password = key_password
        self.store_password = None  # set by the store that loaded this entry
        # the key as a JKS file holds it (EncryptedPrivateKeyInfo), written back as it is when kept locked
        self._protected = protected
        self.timestamp = timestamp
        # the PKCS#12 localKeyId linking the key to its certificate, kept across rewrites
        self.local_key_id = None

    @property
    def chain_der(self):
        if self._chain_der is None:
            self._chain_der = [certs.cert_to_der(c) for c in self._chain]
        return self._chain_der

    @property
    def chain(self):
        if self._chain is None:
            try:
                self._chain = [certs.x509.load_der_x509_certificate(d) for d in self._chain_der]
            except certs.PARSE_ERRORS as exc:
                raise CorruptKeystoreError('the certificate chain under alias %r cannot be parsed' % self.alias) from exc
        return self._chain

    @property
    def certificate(self):
        return self.chain[0] if self.chain else None

    def fingerprint(self):
        return _der_fingerprint(self.chain_der[0]) if self.chain_der else None

    @property
    def locked(self):
        return self._key is None and self._pkcs8 is None

    def open(self, *passwords):
        """Decrypt the key with the first password that works (None is skipped), without validating an
        RSA key yet; an open entry stays as it is. Returns the entry.

        cryptography's RSA key validation (primality checks) costs more than
        generating a key (about 60 ms for RSA 2048); it is made when the key
        is first used (``checked_private_key``), so a run that only compares the
        entry's public facts and writes nothing skips it.
        """
        if not self.locked:
            return self
        encrypted = _jks_protected_key(self._protected, self.alias)
        for password in passwords:
            pkcs8 = _jks_unprotect(encrypted, password) if password is not None else None
            if pkcs8 is None:
                continue
            try:
                self._unchecked_key = self._load_pkcs8(pkcs8, validate=False)
            except UnsupportedContentError:
                # a key type cryptography cannot read: kept as it is, refused only where it is used
                self._unchecked_key = None
            self._pkcs8 = pkcs8
            self.key_password = own_key_password(password, self.store_password)
            return self
        raise WrongKeyPasswordError('wrong key password for the key entry %r' % self.alias)

    def _load_pkcs8(self, der, validate=True):
        try:
            if validate:
                return serialization.load_der_private_key(der, password=None)
            return serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
        except Exception as exc:
            raise UnsupportedContentError('the key entry %r holds a key type this collection cannot read' % self.alias) from exc

    def checked_private_key(self):
        """The key of an open entry, an RSA key validated: for anything written or handed out."""
        if self._key is None and self._pkcs8 is not None:
            self._key = self._load_pkcs8(self._pkcs8)
        if self._key is None:
            raise WrongKeyPasswordError('the key entry %r is protected by a key password that was not given' % self.alias)
        return self._key

    def unchecked_private_key(self):
        """The key of an open entry without RSA key validation: only for work whose result is
        compared or discarded (a request signed to compare with the one on disk, a secret decrypted
        to compare), never for anything written or handed out."""
        if self._key is None and self._unchecked_key is None and self._pkcs8 is not None:
            self._unchecked_key = self._load_pkcs8(self._pkcs8, validate=False)
        if self._key is None and self._unchecked_key is not None:
            return self._unchecked_key
        return self.checked_private_key()

    def public_key(self):
        """The public key of an open entry, without validating its private key."""
        return self.unchecked_private_key().public_key()

    def pkcs8(self):
        """The key's PKCS#8 DER: as it was read when it was (a key type the
        collection cannot parse survives a rewrite), otherwise serialized."""
        if self._key is None and self._pkcs8 is not None:
            return self._pkcs8
        return self.checked_private_key().private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption())


class PreservedEntry(object):
    """An entry the collection does not model, kept as the PKCS#12 bags it was
    read as and written back byte for byte: a Java secret key (``kind``
    'secret_key', with its ``algorithm`` and ``key_size``, never its key), or
    anything else Java keeps (``kind`` 'other', with a ``description``).

    A secret key encrypted with the store password is re-encrypted when the
    store password changes; the key itself stays the same."""

    def __init__(self, alias, kind, bags, algorithm=None, key_size=None, description=None, plaintext=None):
        self.alias = alias
        self.kind = kind
        self.bags = bags
        self.algorithm = algorithm
        self.key_size = key_size
        self.description = description
        self._plaintext = plaintext
        self.timestamp = None

    chain = []
    chain_der = []
    certificate = None

    def fingerprint(self):
        return None

    def pkcs12_bags(self, old_password, password):
        """[(bag DER, in the encrypted SafeContents)] for a store written with ``password``."""
        if self.kind == 'secret_key' and self._plaintext is not None and old_password != password:
            return [(p12.secret_bag(self._plaintext, password, self.bags[0]), self.bags[0].encrypted)]
        return [(bag.der, bag.encrypted) for bag in self.bags]

    def describe(self):
        if self.kind == 'secret_key':
            return 'secret key'
        return self.description or 'entry'

    def facts(self):
        """The non-secret facts: a secret key's algorithm and size in bits (never the key), or what the entry is."""
        if self.kind == 'secret_key':
            return {'algorithm': self.algorithm, 'key_size': self.key_size}
        return {'description': self.describe()}


# Java's names of the secret-key algorithms keytool -genseckey makes (by the OID Java writes)
SECRET_KEY_ALGORITHMS = {
    '2.16.840.1.101.3.4.1': 'AES',
    '1.2.840.113549.3.7': 'DESede',
    '1.3.14.3.2.7': 'DES',
    '1.2.840.113549.2.7': 'HmacSHA1',
    '1.2.840.113549.2.8': 'HmacSHA224',
    '1.2.840.113549.2.9': 'HmacSHA256',
    '1.2.840.113549.2.10': 'HmacSHA384',
    '1.2.840.113549.2.11': 'HmacSHA512',
    '1.2.840.113549.3.2': 'RC2',
    '1.2.840.113549.3.4': 'ARCFOUR',
    '1.2.410.200004.1.4': 'SEED',
    '1.3.6.1.4.1.3029.1.2': 'Blowfish',
}


# ---------------------------------------------------------------- the store

class Keystore(object):

    def __init__(self, store_type='jks', entries=None, password=None):
        if store_type not in STORE_TYPES:
            raise InvalidInputError('unknown store type %r (use jks or pkcs12)' % store_type)
        self.store_type = store_type
        self.entries = {}
        for entry in entries or []:
            entry.store_password = password
            self.entries[entry.alias] = entry
        # the password the store was opened with (None for a new store)
        self.password = password
        self.modified = False

    # ------------------------------------------------------------ reading

    @classmethod
    def loads(cls, data, password, store_type=None, what='the keystore'):
        """Open a store from bytes; the type comes from the content.

        ``store_type`` is only checked against the detected type.
        """
        if not data:
            raise CorruptKeystoreError('%s is empty' % what)
        detected = detect_type(data)
        if detected is None:
            raise CorruptKeystoreError('%s is not a JKS or PKCS#12 keystore, or it is corrupt' % what)
        if store_type and store_type != detected:
            raise UnsupportedContentError('%s is a %s store, not %s; set store_type to %s or convert it'
                                          % (what, detected.upper(), store_type.upper(), detected))
        if detected == 'jks':
            return cls._load_jks(data, password, what)
        return cls._load_pkcs12(data, password, what)

    @classmethod
    def _load_jks(cls, data, password, what):
        try:
            records, end = _read_jks(data)
        except (ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
            raise CorruptKeystoreError('%s is not a valid JKS keystore (truncated or corrupt)' % what) from exc
        if password is not None and not hmac.compare_digest(_jks_digest(password, data[:end]), data[end:end + 20]):
            raise WrongPasswordError('wrong password for %s, or the file is damaged (its integrity check fails)'
                                     % what)
        entries = []
        for tag, alias, timestamp, payload in records:
            if tag == 2:
                entries.append(TrustedEntry(alias, der=payload, timestamp=timestamp))
            else:
                protected, chain_der = payload
                entries.append(KeyEntry(alias, chain_der=chain_der, protected=protected, timestamp=timestamp))
        return cls('jks', entries, password)

    @classmethod
    def _load_pkcs12(cls, data, password, what):
        """Every bag of the file becomes an entry, as Java's PKCS12KeyStore reads them: key
        bags (with the certificate of the same localKeyId and its chain), certificate
        bags with Java's trusted-key-usage attribute, and secret bags; what the
        collection does not model is kept as a ``PreservedEntry``."""
        try:
            return cls._read_pkcs12_bags(p12.load(data, password, what), password, what)
        except p12.malformed_errors() as exc:
            raise CorruptKeystoreError('%s is not a valid PKCS#12 keystore (truncated or corrupt)' % what) from exc

    @classmethod
    def _read_pkcs12_bags(cls, bags, password, what):
        return cls('pkcs12', _Pkcs12Entries(bags, password).entries(what), password)

    # ------------------------------------------------------------ queries

    def get(self, alias):
        return self.entries.get(normalize_alias(alias))

    def key_entries(self):
        return [e for e in self.entries.values() if e.kind == 'private_key']

    def trusted_entries(self):
        return [e for e in self.entries.values() if e.kind == 'trusted_certificate']

    def preserved_entries(self):
        """Entries the collection does not model (secret keys, ...), kept as they were read."""
        return [e for e in self.entries.values() if isinstance(e, PreservedEntry)]

    def fingerprint_index(self):
        index = {}
        for e in self.trusted_entries():
            index.setdefault(e.fingerprint(), []).append(e.alias)
        return index

    def summary(self):
        """Non-secret facts for diffs: alias, kind, fingerprint and expiry of each entry."""
        out = []
        for alias in sorted(self.entries):
            e = self.entries[alias]
            item = {'alias': alias, 'kind': e.kind}
            if isinstance(e, PreservedEntry):
                item.update(e.facts())
            if e.chain:
                item['fingerprint_sha256'] = certs.fingerprint(e.certificate)
                item['subject'] = certs.name_to_string(e.certificate.subject)
                item['not_after'] = certs.iso(certs.not_after(e.certificate))
            if e.kind == 'private_key':
                item['chain_length'] = len(e.chain)
            out.append(item)
        return out

    # ------------------------------------------------------------ changes

    def set_trusted(self, alias, certificate):
        """Add or replace a trusted entry. Returns 'added', 'replaced' or None."""
        alias = normalize_alias(alias)
        current = self.entries.get(alias)
        if current is not None and current.kind == 'trusted_certificate':
            if current.fingerprint() == _der_fingerprint(certs.cert_to_der(certificate)):
                return None
            result = 'replaced'
        elif current is not None:
            raise InvalidInputError('the alias %r is a %s entry; choose another alias for the trusted certificate'
                                    % (alias, 'key' if current.kind == 'private_key' else current.describe()))
        else:
            result = 'added'
        self.entries[alias] = TrustedEntry(alias, certificate=certificate, timestamp=_now_ms())
        self.modified = True
        return result

    def set_key(self, alias, private_key, chain, key_password=None):
        """Add or replace a key entry; the chain is leaf first. Returns True when changed."""
        alias = normalize_alias(alias)
        if not chain:
            raise InvalidInputError('a key entry needs at least its own certificate')
        certs.check_key_matches(private_key, chain[0])
        current = self.entries.get(alias)
        if (current is not None and current.kind == 'private_key' and not current.locked
                and certs.public_keys_equal(current.public_key(), private_key)
                and current.chain_der == [certs.cert_to_der(c) for c in chain]
                and self._same_key_password(current.key_password, key_password)):
            return False
        self.entries[alias] = KeyEntry(alias, private_key=private_key, chain=list(chain),
                                       key_password=key_password, timestamp=_now_ms())
        self.modified = True
        return True

    def _same_key_password(self, one, other):
        return effective_key_password(one, self.password) == effective_key_password(other, self.password)

    def set_key_password(self, alias, key_password=None):
        """Keep an opened key entry's key and chain, protected with ``key_password``
        (None: the store password). Returns True when changed.

        The same as ``set_key(alias, entry.checked_private_key(), entry.chain, key_password)``,
        but when nothing changes the private key is not loaded and validated.
        """
        entry = self.get(alias)
        if entry is None or entry.kind != 'private_key':
            raise InvalidInputError('there is no key entry %r' % normalize_alias(alias))
        if not entry.chain:
            raise InvalidInputError('a key entry needs at least its own certificate')
        certs.check_key_matches(entry.public_key(), entry.chain[0])
        if self._same_key_password(entry.key_password, key_password):
            return False
        return self.set_key(entry.alias, entry.checked_private_key(), entry.chain, key_password)

    def set_chain(self, alias, chain):
        """Replace the chain of an existing (opened or unlocked) key entry. Returns True when changed.

        When the chain is the one the entry holds, nothing changes and the
        private key is not loaded and validated.
        """
        entry = self.get(alias)
        if not chain:
            raise InvalidInputError('a key entry needs at least its own certificate')
        certs.check_key_matches(entry.public_key(), chain[0])
        if entry.chain_der == [certs.cert_to_der(c) for c in chain]:
            return False
        return self.set_key(entry.alias, entry.checked_private_key(), chain, entry.key_password)

    def remove(self, alias):
        alias = normalize_alias(alias)
        if alias in self.entries:
            del self.entries[alias]
            self.modified = True
            return True
        return False

    # ------------------------------------------------------------ writing

    def dumps(self, password, store_type=None):
        """Serialize with ``password`` as the store password, as ``store_type``
        (default: the store's own; another type is a conversion, as keytool
        -importkeystore makes it). Entries the target type cannot hold are
        refused with their aliases, before anything is written."""
        check_password(password)
        store_type = store_type or self.store_type
        if store_type == 'jks':
            return self._dump_jks(password)
        return self._dump_pkcs12(password)

    def _dump_jks(self, password):
        kept = self.preserved_entries()
        if kept:
            raise UnsupportedContentError(
                'a JKS store holds only key entries and trusted certificates, so it cannot keep %s; keep the store '
                'PKCS#12 (store_type pkcs12) or remove %s first' % (
                    _describe_entries(kept), 'it' if len(kept) == 1 else 'them'))
        records = []
        for alias, e in self.entries.items():
            timestamp = e.timestamp or _now_ms()
            if e.kind == 'trusted_certificate':
                records.append((2, alias, timestamp, e.der))
            else:
                records.append((1, alias, timestamp, (self._jks_protected(e, password), e.chain_der)))
        return _write_jks(records, password)

    def _jks_protected(self, entry, password):
        """The EncryptedPrivateKeyInfo of a key entry in a JKS store written with ``password``: a locked
        entry as it was read, unless it followed the old store password (then it follows the new one)."""
        if entry.locked and self.password is not None and self.password != password:
            try:
                entry.open(self.password)
            except WrongKeyPasswordError:
                return entry._protected
            return _jks_protect(entry.pkcs8(), password)
        if entry.locked:
            return entry._protected
        own = own_key_password(entry.key_password, self.password)
        return _jks_protect(entry.pkcs8(), effective_key_password(own, password))

    def _dump_pkcs12(self, password):
        """The store as JDK 17 writes a PKCS#12 keystore (pkcs12_container): any mix of key
        entries, trusted certificates and preserved entries, or none."""
        if any(ord(c) > 127 for c in password):
            # Java derives the PBES2 (AES) keys of PKCS#12 with PBEKey, which refuses them
            raise InvalidInputError('a PKCS#12 store password must be ASCII: Java cannot open a PKCS#12 store whose '
                                    'password is not; use JKS or an ASCII password')
        self._check_pkcs12_keys(password)
        plain, encrypted = [], []
        chain_written = set()
        key_ids = _LocalKeyIds(self.key_entries())
        for alias, e in self.entries.items():
            if e.kind == 'private_key':
                key_id = key_ids.of(e)
                plain.append(p12.key_bag(e.pkcs8(), password, alias, key_id))
                encrypted.append(p12.cert_bag(e.chain_der[0], alias, key_id))
                encrypted += _pkcs12_chain_bags(e, chain_written)
            elif e.kind == 'trusted_certificate':
                encrypted.append(p12.cert_bag(e.der, alias, trusted=True))
            else:
                for der, in_encrypted in e.pkcs12_bags(self.password, password):
                    (encrypted if in_encrypted else plain).append(der)
        return p12.dump(plain, encrypted, password)

    def _check_pkcs12_keys(self, password):
        """Refuse key entries PKCS#12 cannot hold with ``password``: one password for the store and its keys."""
        converting = self.store_type != 'pkcs12'
        locked = []
        for e in self.key_entries():
            self._open_with_store_password(e)
            if e.locked:
                locked.append(e)
            elif own_key_password(e.key_password, password) and not (converting and e._protected is not None):
                raise UnsupportedContentError('a PKCS#12 store has one password for the store and its keys; '
                                              'the key password of %r must equal the store password' % e.alias)
        if locked:
            several = len(locked) > 1
            raise UnsupportedContentError(
                'a PKCS#12 store has one password for the store and its keys, and the key %s %s protected by a key '
                'password that was not given; give it (key_password) or keep the store JKS'
                % ('entries' if several else 'entry', _quoted([e.alias for e in locked]) + (' are' if several else ' is')))

    def _open_with_store_password(self, entry):
        """Open a locked key entry that follows the store password it was read with; others stay locked."""
        if entry.locked and self.password is not None:
            try:
                entry.open(self.password)
            except WrongKeyPasswordError:
                pass


class _LocalKeyIds(object):
    """The PKCS#12 localKeyId of each key entry: the one it was read with, or a new one as Java writes it
    ("Time <milliseconds>", unique in the store)."""

    def __init__(self, key_entries):
        self.used = set(e.local_key_id for e in key_entries if e.local_key_id is not None)
        self.stamp = _now_ms()

    def of(self, entry):
        if entry.local_key_id is not None:
            return entry.local_key_id
        while ('Time %d' % self.stamp).encode('ascii') in self.used:
            self.stamp += 1
        key_id = ('Time %d' % self.stamp).encode('ascii')
        self.used.add(key_id)
        return key_id


def _pkcs12_chain_bags(entry, written):
    """The certificate bags of a key entry's CA certificates not written yet (``written``: their DER)."""
    bags = []
    for der, cert in zip(entry.chain_der[1:], entry.chain[1:]):
        if der not in written:
            written.add(der)
            # Java names a CA certificate of a chain by its subject, without a localKeyId
            bags.append(p12.cert_bag(der, cert.subject.rfc4514_string()))
    return bags


class _Pkcs12Entries(object):
    """The entries of a PKCS#12 store's bags, as Java's PKCS12KeyStore reads them (``Keystore._load_pkcs12``)."""

    def __init__(self, bags, password):
        self.password = password
        # a bag without a name gets the next number, in the order the entries are read
        self.unnamed = iter('%d' % n for n in range(1, len(bags) + 2))
        self.key_bags, self.cert_bags, self.other_bags = [], [], []
        for bag in bags:
            if bag.bag_id in (p12.OID_SHROUDED_KEY_BAG, p12.OID_KEY_BAG):
                self.key_bags.append(bag)
            elif bag.bag_id == p12.OID_CERT_BAG and bag.certificate_der() is not None:
                self.cert_bags.append(bag)
            else:
                self.other_bags.append(bag)
        self.used = set()

    def entries(self, what):
        entries = self.key_entries()
        entries += self.certificate_entries(entries)
        entries += self.other_entries()
        aliases = [e.alias for e in entries]
        duplicates = sorted(set(a for a in aliases if aliases.count(a) > 1))
        if duplicates:
            raise UnsupportedContentError('%s holds several entries under the alias %s; Java keeps only one of '
                                          'them, so this collection refuses to choose' % (what, _quoted(duplicates)))
        return entries

    def name(self, *bags):
        """The alias of the first of ``bags`` that has a friendly name, or the next number."""
        for bag in bags:
            if bag is not None and bag.friendly_name:
                return bag.friendly_name.lower()
        return next(self.unnamed).lower()

    def leaf_of(self, bag, pkcs8):
        """The certificate bag of a key bag: by localKeyId; failing that (some tools write none), for the only
        key, the certificate that is not trusted and holds its public key."""
        if bag.local_key_id is not None:
            for cert_bag in self.cert_bags:
                if cert_bag.local_key_id == bag.local_key_id and not cert_bag.trusted:
                    return cert_bag
        if len(self.key_bags) == 1:
            return _p12_leaf_for(pkcs8, [b for b in self.cert_bags if not b.trusted])
        return None

    def chain_candidates(self):
        """The certificates a key's chain is built from (parsed only when a key entry needs them)."""
        pool = [bag for bag in self.cert_bags if not bag.trusted and bag.local_key_id is None]
        return [certs.x509.load_der_x509_certificate(b.certificate_der())
                for b in pool + [c for c in self.cert_bags if c.trusted]]

    def key_entries(self):
        entries = []
        for bag in self.key_bags:
            pkcs8 = bag.value if bag.bag_id == p12.OID_KEY_BAG else p12.unshroud(bag.value, self.password)
            leaf = self.leaf_of(bag, pkcs8)
            alias = self.name(bag, leaf)
            if pkcs8 is None or leaf is None:
                kept = [bag] + ([leaf] if leaf is not None else [])
                why = ('a key entry the store password does not decrypt' if pkcs8 is None
                       else 'a private key without its certificate')
                entries.append(PreservedEntry(alias, 'other', kept, description=why))
                self.used.update(id(b) for b in kept)
                continue
            self.used.add(id(leaf))
            leaf_cert = certs.x509.load_der_x509_certificate(leaf.certificate_der())
            chain = certs.build_chain(leaf_cert, self.chain_candidates())
            entry = KeyEntry(alias, chain_der=[leaf.certificate_der()] + [certs.cert_to_der(c) for c in chain[1:]])
            entry._pkcs8 = pkcs8
            entry.local_key_id = bag.local_key_id
            entries.append(entry)
        return entries

    def certificate_entries(self, key_entries):
        chain_ders = set()
        for entry in key_entries:
            chain_ders.update(entry.chain_der)
        entries = []
        for bag in self.cert_bags:
            if id(bag) in self.used:
                continue
            der = bag.certificate_der()
            # Java's trusted entries carry its attribute; a named certificate that is in no key's chain
            # (OpenSSL and cryptography truststores) is read as a trusted entry too, as before
            if bag.trusted or (bag.friendly_name and bag.local_key_id is None and der not in chain_ders):
                entries.append(TrustedEntry(self.name(bag), der=der))
            elif bag.local_key_id is not None:
                # a certificate whose key is not in the file: Java ignores it, but it is kept
                entries.append(PreservedEntry(self.name(bag), 'other', [bag],
                                              description='a certificate linked to a key that is not in the store'))
        return entries

    def other_entries(self):
        entries = []
        for bag in self.other_bags:
            alias = self.name(bag)
            if bag.bag_id == p12.OID_SECRET_BAG:
                entries.append(_p12_secret_entry(alias, bag, self.password))
            else:
                entries.append(PreservedEntry(alias, 'other', [bag],
                                              description='a PKCS#12 bag of type %s' % bag.bag_id))
        return entries


def _quoted(aliases):
    return ', '.join(repr(a) for a in aliases)


def _describe_entries(entries):
    """'the secret key 's1' and the entry 'x' (...)' for a refusal sentence."""
    parts = []
    for e in entries:
        if e.kind == 'secret_key':
            parts.append('the secret key %r' % e.alias)
        else:
            parts.append('the entry %r (%s)' % (e.alias, e.describe()))
    return ' and '.join([', '.join(parts[:-1]), parts[-1]]) if len(parts) > 1 else parts[0]


def _p12_secret_entry(alias, bag, password):
    """A PreservedEntry for a secret bag; its algorithm read when the store password decrypts it."""
    algorithm = key_size = plaintext = None
    try:
        secret_type, inner = bag.secret_value()
        if secret_type == p12.OID_SHROUDED_KEY_BAG:
            plaintext = p12.unshroud(inner, password)
            if plaintext is not None:
                oid, size = p12.private_key_algorithm(plaintext)
                algorithm = SECRET_KEY_ALGORITHMS.get(oid, oid)
                key_size = size * 8
    except (UnsupportedContentError,) + p12.malformed_errors():
        plaintext = None
    if plaintext is None:
        return PreservedEntry(alias, 'secret_key', [bag], algorithm='unknown (not protected by the store password)')
    return PreservedEntry(alias, 'secret_key', [bag], algorithm=algorithm, key_size=key_size, plaintext=plaintext)


def _p12_leaf_for(pkcs8, cert_bags):
    """The certificate bag whose public key is the key's, or None."""
    if pkcs8 is None:
        return None
    try:
        public = serialization.load_der_private_key(pkcs8, password=None,
                                                    unsafe_skip_rsa_key_validation=True).public_key()
    except Exception:
        return None
    for bag in cert_bags:
        try:
            cert = certs.x509.load_der_x509_certificate(bag.certificate_der())
        except certs.PARSE_ERRORS:
            continue
        if certs.public_keys_equal(cert.public_key(), public):
            return bag
    return None


# ---------------------------------------------------------------- JKS reading and writing
#
# JKS is read and framed here rather than by pyjks: pyjks's import (pyasn1 and
# its ASN.1 modules, javaobj) costs about 20 ms, more than reading and checking
# a store, and most module runs only read; and pyjks's public writer
# (``KeyStore.saves``) appends each entry to one bytes object, which copies the
# store so far every time (quadratic: 8 s instead of 0.03 s for 5000
# certificates). A key is protected by pyjks's public
# ``sun_crypto.jks_pkey_encrypt`` (pyjks imported when a key is written). The
# format is the one sun.security.provider.JavaKeyStore writes: magic, version 2,
# entry count, entries, then a SHA-1 digest of the password (UTF-16BE),
# "Mighty Aphrodite" and everything before it.

_B2 = struct.Struct('>H')
_B4 = struct.Struct('>L')
_B8 = struct.Struct('>q')
JKS_WHITENING = b'Mighty Aphrodite'
# 1.3.6.1.4.1.42.2.17.1.1: sun.security.provider.KeyProtector, the only key protection JKS uses
JKS_KEY_PROTECTOR_OID = b'\x06\x0a\x2b\x06\x01\x04\x01\x2a\x02\x11\x01\x01'


def _jks_digest(password, data):
    return hashlib.sha1(password.encode('utf-16be') + JKS_WHITENING + data).digest()


def _write_jks(records, password):
    """The bytes of a JKS store holding ``records`` (as ``_read_jks`` returns them), its digest made with ``password``."""
    parts = [JKS_MAGIC, _B4.pack(2), _B4.pack(len(records))]

    def utf(text):
        encoded = text.encode('utf-8')
        return _B2.pack(len(encoded)) + encoded

    def blob(data):
        return _B4.pack(len(data)) + data

    for tag, alias, timestamp, payload in records:
        parts += [_B4.pack(tag), utf(alias), _B8.pack(timestamp)]
        if tag == 2:
            parts += [utf('X.509'), blob(payload)]
            continue
        protected, chain = payload
        parts += [blob(protected), _B4.pack(len(chain))]
        for der in chain:
            parts += [utf('X.509'), blob(der)]
    data = b''.join(parts)
    return data + _jks_digest(password, data)


def _der_tlv(tag, body):
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, 'big')
    return bytes([tag, 0x80 | len(length)]) + length + body


def _jks_protect(pkcs8, password):
    """A PKCS#8 key as a JKS key entry holds it: an EncryptedPrivateKeyInfo of Java's KeyProtector."""
    encrypted = pyjks().sun_crypto.jks_pkey_encrypt(pkcs8, password)
    algorithm = _der_tlv(0x30, JKS_KEY_PROTECTOR_OID + b'\x05\x00')
    return _der_tlv(0x30, algorithm + _der_tlv(0x04, encrypted))


def _read_jks(data):
    """The records of a JKS file and where its digest starts: ([(tag, alias, timestamp, payload)], end).

    A trusted entry's payload is its certificate's DER; a key entry's is
    (EncryptedPrivateKeyInfo DER, [certificate DER, ...]). Raises ValueError
    (or struct.error, UnicodeDecodeError) for anything malformed.
    """
    if data[:4] != JKS_MAGIC:
        raise ValueError('not a JKS file')
    if _B4.unpack_from(data, 4)[0] != 2:
        raise ValueError('unsupported JKS version')
    count = _B4.unpack_from(data, 8)[0]
    pos = 12

    def utf(pos):
        size = _B2.unpack_from(data, pos)[0]
        end = pos + 2 + size
        if end > len(data):
            raise ValueError('truncated')
        return data[pos + 2:end].decode('utf-8'), end

    def blob(pos):
        size = _B4.unpack_from(data, pos)[0]
        end = pos + 4 + size
        if end > len(data):
            raise ValueError('truncated')
        return data[pos + 4:end], end

    records = []
    seen = set()
    for dummy in range(count):
        tag = _B4.unpack_from(data, pos)[0]
        alias, pos = utf(pos + 4)
        timestamp = _B8.unpack_from(data, pos)[0]
        pos += 8
        if tag == 1:
            protected, pos = blob(pos)
            chain = []
            length = _B4.unpack_from(data, pos)[0]
            pos += 4
            for dummy2 in range(length):
                dummy3, pos = utf(pos)  # the certificate type, X.509
                der, pos = blob(pos)
                chain.append(der)
            payload = (protected, chain)
        elif tag == 2:
            dummy3, pos = utf(pos)
            payload, pos = blob(pos)
        else:
            raise ValueError('entry tag %d is not a JKS entry' % tag)
        if alias in seen:
            raise ValueError('duplicate alias')
        seen.add(alias)
        records.append((tag, alias, timestamp, payload))
    if pos + 20 > len(data):
        raise ValueError('truncated')
    return records, pos


def _jks_protected_key(protected, alias):
    """The encrypted key bytes inside a JKS key entry's EncryptedPrivateKeyInfo."""
    try:
        tag, start, end = _der(protected, 0)
        parts = list(_children(protected, start, end)) if tag == 0x30 else []
        if len(parts) != 2 or parts[0][0] != 0x30 or parts[1][0] != 0x04:
            raise ValueError('not an EncryptedPrivateKeyInfo')
        oid_end = _der(protected, parts[0][1])[2]
        algorithm = protected[parts[0][1]:oid_end]
        encrypted = protected[parts[1][1]:parts[1][2]]
    except (ValueError, IndexError) as exc:
        raise CorruptKeystoreError('the key entry %r cannot be decrypted: it is damaged' % alias) from exc
    if algorithm != JKS_KEY_PROTECTOR_OID:
        raise UnsupportedContentError('the key entry %r is protected by an algorithm JKS does not use' % alias)
    if len(encrypted) < 40:
        raise CorruptKeystoreError('the key entry %r cannot be decrypted: it is damaged' % alias)
    return encrypted


def _jks_unprotect(encrypted, password):
    """The PKCS#8 DER of a key protected by Java's KeyProtector, or None for a wrong password.

    salt (20 bytes) | key XOR keystream | SHA-1(password + key); the keystream
    is SHA-1(password + salt), SHA-1(password + previous block), ...
    """
    secret = password.encode('utf-16be')
    salt, body, check = encrypted[:20], encrypted[20:-20], encrypted[-20:]
    blocks = []
    block = salt
    for dummy in range((len(body) + 19) // 20):
        block = hashlib.sha1(secret + block).digest()
        blocks.append(block)
    stream = b''.join(blocks)[:len(body)]
    key = (int.from_bytes(body, 'big') ^ int.from_bytes(stream, 'big')).to_bytes(len(body), 'big')
    if not hmac.compare_digest(hashlib.sha1(secret + key).digest(), check):
        return None
    return key


def _der_fingerprint(der):
    return certs.hex_pairs(hashlib.sha256(der).digest())


def _now_ms():
    return int(time.time()) * 1000


# ---------------------------------------------------------------- PKCS#12 structure

OID_DATA = b'\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01'
KEY_BAG_OIDS = (b'\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x0c\x0a\x01\x01',   # keyBag
                b'\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x0c\x0a\x01\x02')   # pkcs8ShroudedKeyBag


def _children(data, start, end):
    pos = start
    while pos < end:
        tag, s, e = _der(data, pos)
        yield tag, s, e
        pos = e


def _pkcs12_structure(data):
    """Walk a PFX far enough to count the private keys in its unencrypted
    SafeContents (where keytool, OpenSSL and cryptography put them).
    Returns {'keys': n} for a well-formed PFX, None when it is not one."""
    try:
        tag, start, end = _der(data, 0)
        if tag != 0x30 or end != len(data):
            return None
        parts = list(_children(data, start, end))
        if len(parts) < 2 or parts[0][0] != 0x02 or data[parts[0][1]:parts[0][2]] != b'\x03':
            return None
        # authSafe ContentInfo { OID data, [0] { OCTET STRING AuthenticatedSafe } }
        ci = list(_children(data, parts[1][1], parts[1][2]))
        if data[ci[0][1] - 2:ci[0][2]] != OID_DATA:
            return None
        s0 = ci[1][1]
        os_s = _der(data, s0)[1]
        as_s, as_e = _der(data, os_s)[1:]
        keys = 0
        for child in _children(data, as_s, as_e):
            cs, ce = child[1:]
            inner = list(_children(data, cs, ce))
            if data[inner[0][1] - 2:inner[0][2]] != OID_DATA or len(inner) < 2:
                continue  # encryptedData: not visible without the password
            s1 = inner[1][1]
            o_s = _der(data, s1)[1]
            sc_s, sc_e = _der(data, o_s)[1:]
            for bag in _children(data, sc_s, sc_e):
                oid_end = _der(data, bag[1])[2]
                if data[bag[1]:oid_end] in KEY_BAG_OIDS:
                    keys += 1
        return {'keys': keys}
    except (ValueError, IndexError):
        return None
