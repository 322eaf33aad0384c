# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The PKCS#12 container (RFC 7292), read and written with pyasn1.

cryptography's PKCS#12 loader keeps one private key per file and drops the
attributes Java relies on (local key ids, Java's trusted-key-usage) and every
secret key; its writer cannot mix keys and trusted certificates. So the
container is handled here: pyasn1 decodes and encodes the ASN.1 (PFX,
AuthenticatedSafe, SafeContents, SafeBags, attributes), cryptography supplies
the primitives (PBKDF2, AES, 3DES, HMAC), and this module only joins them.

A bag is kept as the DER it was read as, so a bag the collection does not
model is written back byte for byte. Contents are written as JDK 17's
``PKCS12KeyStore`` writes them by default (docs/pkcs12.md): keys and secret
keys in PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) shrouded bags in a plain
``data`` SafeContents, certificates in a PBES2-encrypted ``encryptedData``
SafeContents, an HMAC-SHA256 MAC, 10000 iterations everywhere.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import hmac
import os

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    CorruptKeystoreError, UnsupportedContentError, WrongPasswordError,
)

ITERATIONS = 10000
SALT_LENGTH = 20
# Java's PKCS12KeyStore refuses more iterations than this; so does the reader (a forged count would hang it)
MAX_ITERATIONS = 5000000

OID_DATA = '1.2.840.113549.1.7.1'
OID_ENCRYPTED_DATA = '1.2.840.113549.1.7.6'
OID_KEY_BAG = '1.2.840.113549.1.12.10.1.1'
OID_SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2'
OID_CERT_BAG = '1.2.840.113549.1.12.10.1.3'
OID_SECRET_BAG = '1.2.840.113549.1.12.10.1.5'
OID_X509_CERT = '1.2.840.113549.1.9.22.1'
OID_FRIENDLY_NAME = '1.2.840.113549.1.9.20'
OID_LOCAL_KEY_ID = '1.2.840.113549.1.9.21'
# Java's trusted-key-usage attribute: a certificate bag carrying it is a trusted certificate entry
OID_JAVA_TRUSTED_KEY_USAGE = '2.16.840.1.113894.746875.1.1'
OID_ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0'

OID_PBES2 = '1.2.840.113549.1.5.13'
OID_PBKDF2 = '1.2.840.113549.1.5.12'
PBKDF2_PRF = {
    '1.2.840.113549.2.7': 'sha1',
    '1.2.840.113549.2.8': 'sha224',
    '1.2.840.113549.2.9': 'sha256',
    '1.2.840.113549.2.10': 'sha384',
    '1.2.840.113549.2.11': 'sha512',
}
OID_HMAC_SHA256 = '1.2.840.113549.2.9'
PBES2_CIPHERS = {  # OID: (cipher, key length)
    '2.16.840.1.101.3.4.1.2': ('aes', 16),
    '2.16.840.1.101.3.4.1.22': ('aes', 24),
    '2.16.840.1.101.3.4.1.42': ('aes', 32),
    '1.2.840.113549.3.7': ('3des', 24),
}
OID_AES256_CBC = '2.16.840.1.101.3.4.1.42'
PKCS12_PBE = {  # pbeWithSHAAnd...: (cipher, key length, IV length)
    '1.2.840.113549.1.12.1.3': ('3des', 24, 8),
    '1.2.840.113549.1.12.1.4': ('3des2', 16, 8),
    '1.2.840.113549.1.12.1.5': ('rc2', 16, 8),
    '1.2.840.113549.1.12.1.6': ('rc2', 5, 8),
}
DIGESTS = {
    '1.3.14.3.2.26': 'sha1',
    '2.16.840.1.101.3.4.2.4': 'sha224',
    '2.16.840.1.101.3.4.2.1': 'sha256',
    '2.16.840.1.101.3.4.2.2': 'sha384',
    '2.16.840.1.101.3.4.2.3': 'sha512',
}
OID_SHA256 = '2.16.840.1.101.3.4.2.1'

_ASN1 = None


def _asn1():
    """pyasn1 and the specs this module uses, built on first use (pyasn1's import costs ~15 ms)."""
    global _ASN1
    if _ASN1 is not None:
        return _ASN1
    try:
        from pyasn1.codec.ber import decoder
        from pyasn1.codec.der import encoder
        from pyasn1.type import char, namedtype, tag, univ
        from pyasn1_modules import rfc8018
    except ImportError as exc:
        raise UnsupportedContentError('reading or writing a PKCS#12 store needs pyasn1 and pyasn1-modules on the '
                                      'managed host (they come with pyjks), and they cannot be imported: %s'
                                      % exc) from exc

    def explicit0(spec):
        return spec.subtype(explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0))

    class AlgorithmIdentifier(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('algorithm', univ.ObjectIdentifier()),
            namedtype.OptionalNamedType('parameters', univ.Any()))

    class Attribute(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('type', univ.ObjectIdentifier()),
            namedtype.NamedType('values', univ.SetOf(componentType=univ.Any())))

    class SafeBag(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('bagId', univ.ObjectIdentifier()),
            namedtype.NamedType('bagValue', explicit0(univ.Any())),
            namedtype.OptionalNamedType('bagAttributes', univ.SetOf(componentType=Attribute())))

    class RawSequence(univ.SequenceOf):
        """A SEQUENCE OF anything, each element kept as its own encoding."""
        componentType = univ.Any()

    class ContentInfo(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('contentType', univ.ObjectIdentifier()),
            namedtype.OptionalNamedType('content', explicit0(univ.Any())))

    class EncryptedContentInfo(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('contentType', univ.ObjectIdentifier()),
            namedtype.NamedType('contentEncryptionAlgorithm', AlgorithmIdentifier()),
            namedtype.OptionalNamedType('encryptedContent', univ.OctetString().subtype(
                implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 0))))

    class EncryptedData(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('version', univ.Integer()),
            namedtype.NamedType('encryptedContentInfo', EncryptedContentInfo()))

    class EncryptedPrivateKeyInfo(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('encryptionAlgorithm', AlgorithmIdentifier()),
            namedtype.NamedType('encryptedData', univ.OctetString()))

    class SecretBag(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('secretTypeId', univ.ObjectIdentifier()),
            namedtype.NamedType('secretValue', explicit0(univ.Any())))

    class CertBag(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('certId', univ.ObjectIdentifier()),
            namedtype.NamedType('certValue', explicit0(univ.Any())))

    class DigestInfo(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('digestAlgorithm', AlgorithmIdentifier()),
            namedtype.NamedType('digest', univ.OctetString()))

    class MacData(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('mac', DigestInfo()),
            namedtype.NamedType('macSalt', univ.OctetString()),
            namedtype.DefaultedNamedType('iterations', univ.Integer(1)))

    class PFX(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('version', univ.Integer()),
            namedtype.NamedType('authSafe', ContentInfo()),
            namedtype.OptionalNamedType('macData', MacData()))

    class PrivateKeyInfo(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('version', univ.Integer()),
            namedtype.NamedType('privateKeyAlgorithm', AlgorithmIdentifier()),
            namedtype.NamedType('privateKey', univ.OctetString()))

    class Pkcs12PbeParams(univ.Sequence):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType('salt', univ.OctetString()),
            namedtype.NamedType('iterations', univ.Integer()))

    class Namespace(object):
        pass

    ns = Namespace()
    ns.decoder, ns.encoder, ns.univ, ns.char, ns.rfc8018 = decoder, encoder, univ, char, rfc8018
    for spec in (AlgorithmIdentifier, Attribute, SafeBag, RawSequence, ContentInfo, EncryptedContentInfo,
                 EncryptedData, EncryptedPrivateKeyInfo, SecretBag, CertBag, DigestInfo, MacData, PFX,
                 PrivateKeyInfo, Pkcs12PbeParams):
        setattr(ns, spec.__name__, spec)
    _ASN1 = ns
    return ns


def malformed_errors():
    """The exceptions that mean malformed content, pyasn1's included (for ``except``)."""
    from pyasn1.error import PyAsn1Error
    return (ValueError, TypeError, IndexError, KeyError, OverflowError, PyAsn1Error)


def _iterations(value):
    count = int(value)
    if count < 1 or count > MAX_ITERATIONS:
        raise ValueError('iteration count %d out of range' % count)
    return count


def _decode(der, spec):
    """Decode ``der`` as ``spec`` (a pyasn1 type class), all of it. Raises ValueError."""
    a = _asn1()
    try:
        value, rest = a.decoder.decode(der, asn1Spec=spec())
    except Exception as exc:  # pyasn1 raises its own error classes
        raise ValueError('malformed ASN.1: %s' % exc)
    if rest:
        raise ValueError('trailing data after the ASN.1 structure')
    return value


def _encode(value):
    return _asn1().encoder.encode(value)


def _any(der):
    return _asn1().univ.Any(der)


# ---------------------------------------------------------------- key derivation and ciphers

def _bmp_password(password):
    return password.encode('utf-16-be') + b'\x00\x00' if password is not None else b''


def pkcs12_kdf(password, salt, purpose, iterations, length, hash_name='sha1'):
    """The key derivation of RFC 7292 appendix B.2 (purpose 1: key, 2: IV, 3: MAC key)."""
    u = hashlib.new(hash_name).digest_size
    v = hashlib.new(hash_name).block_size
    pw = _bmp_password(password)
    diversifier = bytes([purpose]) * v

    def fill(data):
        if not data:
            return b''
        n = v * ((len(data) + v - 1) // v)
        return (data * (n // len(data) + 1))[:n]

    block = bytearray(fill(salt) + fill(pw))
    out = b''
    while len(out) < length:
        a = hashlib.new(hash_name, diversifier + bytes(block)).digest()
        for dummy in range(iterations - 1):
            a = hashlib.new(hash_name, a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], 'big')
        for j in range(0, len(block), v):
            value = (int.from_bytes(block[j:j + v], 'big') + b + 1) % (1 << (v * 8))
            block[j:j + v] = value.to_bytes(v, 'big')
    return out[:length]


def _cipher(name, key, iv):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    if name == 'aes':
        return Cipher(algorithms.AES(key), modes.CBC(iv))
    if name in ('3des', '3des2'):
        try:
            from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
        except ImportError:  # cryptography < 43
            TripleDES = algorithms.TripleDES
        if name == '3des2':
            key = key + key[:8]
        return Cipher(TripleDES(key), modes.CBC(iv))
    raise UnsupportedContentError('unsupported cipher %s' % name)


def _rc2_decrypt(key, iv, data):
    """RC2-CBC (40 or 128 bit), which old Java and OpenSSL used for certificates.
    cryptography offers 128-bit RC2 only; pycryptodomex (a pyjks dependency) has both."""
    try:
        from Cryptodome.Cipher import ARC2
    except ImportError as exc:
        raise UnsupportedContentError('the PKCS#12 store is encrypted with RC2, which needs pycryptodomex on the '
                                      'managed host (it comes with pyjks)') from exc
    return ARC2.new(key, ARC2.MODE_CBC, iv=iv, effective_keylen=len(key) * 8).decrypt(data)


def _unpad(data, block):
    if not data or len(data) % block:
        return None
    n = data[-1]
    if n < 1 or n > block or data[-n:] != bytes([n]) * n:
        return None
    return data[:-n]


def decrypt(algorithm, data, password):
    """Decrypt ``data`` encrypted by the AlgorithmIdentifier ``algorithm`` (a
    decoded pyasn1 value) with ``password``. Returns the plaintext, or None
    when the password is wrong (bad padding). Raises UnsupportedContentError
    for an algorithm this module does not know, ValueError for malformed
    parameters."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
    a = _asn1()
    oid = str(algorithm['algorithm'])
    params = algorithm['parameters'].asOctets() if algorithm['parameters'].isValue else b''
    if oid == OID_PBES2:
        pbes2 = _decode(params, a.rfc8018.PBES2_params)
        kdf = pbes2['keyDerivationFunc']
        if str(kdf['algorithm']) != OID_PBKDF2:
            raise UnsupportedContentError('unsupported PBES2 key derivation %s' % kdf['algorithm'])
        kdf_params = _decode(kdf['parameters'].asOctets(), a.rfc8018.PBKDF2_params)
        prf = str(kdf_params['prf']['algorithm'])
        scheme = pbes2['encryptionScheme']
        if prf not in PBKDF2_PRF or str(scheme['algorithm']) not in PBES2_CIPHERS:
            raise UnsupportedContentError('unsupported PBES2 algorithms %s, %s' % (prf, scheme['algorithm']))
        name, key_length = PBES2_CIPHERS[str(scheme['algorithm'])]
        iv = _decode(scheme['parameters'].asOctets(), a.univ.OctetString).asOctets()
        salt = kdf_params['salt']['specified'].asOctets()
        iterations = _iterations(kdf_params['iterationCount'])
        key = PBKDF2HMAC(getattr(hashes, PBKDF2_PRF[prf].upper())(), key_length, salt,
                         iterations).derive((password or '').encode('utf-8'))
        decryptor = _cipher(name, key, iv).decryptor()
        return _unpad(decryptor.update(data) + decryptor.finalize() if len(data) % len(iv) == 0 else b'', len(iv))
    if oid in PKCS12_PBE:
        name, key_length, iv_length = PKCS12_PBE[oid]
        pbe = _decode(params, a.Pkcs12PbeParams)
        salt, iterations = pbe['salt'].asOctets(), _iterations(pbe['iterations'])
        key = pkcs12_kdf(password, salt, 1, iterations, key_length)
        iv = pkcs12_kdf(password, salt, 2, iterations, iv_length)
        if len(data) % 8:
            return None
        if name == 'rc2':
            return _unpad(_rc2_decrypt(key, iv, data), 8)
        decryptor = _cipher(name, key, iv).decryptor()
        return _unpad(decryptor.update(data) + decryptor.finalize(), 8)
    raise UnsupportedContentError('the PKCS#12 store uses the encryption algorithm %s, which this collection cannot '
                                  'read' % oid)


def _pbes2_algorithm(salt, iv):
    """The AlgorithmIdentifier of PBES2 (PBKDF2-HMAC-SHA256, 10000 iterations, AES-256-CBC), as JDK 17 writes it."""
    a = _asn1()
    prf = a.AlgorithmIdentifier()
    prf['algorithm'] = a.univ.ObjectIdentifier(OID_HMAC_SHA256)
    prf['parameters'] = _any(_encode(a.univ.Null('')))
    kdf_params = a.rfc8018.PBKDF2_params()
    kdf_params['salt']['specified'] = a.univ.OctetString(salt)
    kdf_params['iterationCount'] = ITERATIONS
    kdf_params['keyLength'] = 32
    kdf_params['prf'] = prf
    kdf = a.AlgorithmIdentifier()
    kdf['algorithm'] = a.univ.ObjectIdentifier(OID_PBKDF2)
    kdf['parameters'] = _any(_encode(kdf_params))
    scheme = a.AlgorithmIdentifier()
    scheme['algorithm'] = a.univ.ObjectIdentifier(OID_AES256_CBC)
    scheme['parameters'] = _any(_encode(a.univ.OctetString(iv)))
    pbes2 = a.rfc8018.PBES2_params()
    pbes2['keyDerivationFunc'] = kdf
    pbes2['encryptionScheme'] = scheme
    algorithm = a.AlgorithmIdentifier()
    algorithm['algorithm'] = a.univ.ObjectIdentifier(OID_PBES2)
    algorithm['parameters'] = _any(_encode(pbes2))
    return algorithm


def encrypt(plaintext, password):
    """(AlgorithmIdentifier, ciphertext) of ``plaintext`` under PBES2 with ``password``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
    salt, iv = os.urandom(SALT_LENGTH), os.urandom(16)
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, ITERATIONS).derive(password.encode('utf-8'))
    n = 16 - len(plaintext) % 16
    encryptor = _cipher('aes', key, iv).encryptor()
    return _pbes2_algorithm(salt, iv), encryptor.update(plaintext + bytes([n]) * n) + encryptor.finalize()


def shroud(plaintext, password):
    """An EncryptedPrivateKeyInfo (DER) holding ``plaintext`` under PBES2."""
    a = _asn1()
    algorithm, ciphertext = encrypt(plaintext, password)
    epki = a.EncryptedPrivateKeyInfo()
    epki['encryptionAlgorithm'] = algorithm
    epki['encryptedData'] = a.univ.OctetString(ciphertext)
    return _encode(epki)


def unshroud(epki_der, password):
    """The plaintext of an EncryptedPrivateKeyInfo (DER), or None for a wrong password. Raises ValueError."""
    epki = _decode(epki_der, _asn1().EncryptedPrivateKeyInfo)
    return decrypt(epki['encryptionAlgorithm'], epki['encryptedData'].asOctets(), password)


def private_key_algorithm(pkcs8_der):
    """(algorithm OID, length of the key octets) of a PrivateKeyInfo, e.g. a Java secret key's."""
    info = _decode(pkcs8_der, _asn1().PrivateKeyInfo)
    return str(info['privateKeyAlgorithm']['algorithm']), len(info['privateKey'].asOctets())


# ---------------------------------------------------------------- bags

class Bag(object):
    """One SafeBag: its DER (``der``), type OID, the DER of its value, its
    attributes ({oid: [value DER, ...]}), and whether it came from (and goes
    back to) an encrypted SafeContents."""

    def __init__(self, der, encrypted=False):
        a = _asn1()
        bag = _decode(der, a.SafeBag)
        self.der = der
        self.encrypted = encrypted
        self.bag_id = str(bag['bagId'])
        self.value = bag['bagValue'].asOctets()
        self.attributes = {}
        self._certificate_der = False  # not decoded yet
        if bag['bagAttributes'].isValue:
            for attribute in bag['bagAttributes']:
                self.attributes.setdefault(str(attribute['type']), []).extend(
                    v.asOctets() for v in attribute['values'])

    @property
    def friendly_name(self):
        values = self.attributes.get(OID_FRIENDLY_NAME)
        if not values:
            return None
        a = _asn1()
        return str(_decode(values[0], a.char.BMPString))

    @property
    def local_key_id(self):
        values = self.attributes.get(OID_LOCAL_KEY_ID)
        if not values:
            return None
        return _decode(values[0], _asn1().univ.OctetString).asOctets()

    @property
    def trusted(self):
        return OID_JAVA_TRUSTED_KEY_USAGE in self.attributes

    def certificate_der(self):
        """The X.509 certificate of a certificate bag, or None for another certificate type."""
        if self._certificate_der is False:
            cert_bag = _decode(self.value, _asn1().CertBag)
            if str(cert_bag['certId']) != OID_X509_CERT:
                self._certificate_der = None
            else:
                self._certificate_der = _decode(cert_bag['certValue'].asOctets(), _asn1().univ.OctetString).asOctets()
        return self._certificate_der

    def secret_value(self):
        """(secretTypeId, the DER inside secretValue's OCTET STRING) of a secret bag."""
        secret = _decode(self.value, _asn1().SecretBag)
        inner = secret['secretValue'].asOctets()
        try:
            inner = _decode(inner, _asn1().univ.OctetString).asOctets()
        except ValueError:
            pass
        return str(secret['secretTypeId']), inner


def _attribute(oid, value):
    a = _asn1()
    attribute = a.Attribute()
    attribute['type'] = a.univ.ObjectIdentifier(oid)
    attribute['values'].extend([_any(_encode(value))])
    return attribute


def make_bag(bag_id, value_der, friendly_name=None, local_key_id=None, trusted=False, extra_attributes=None):
    """The DER of a SafeBag. ``extra_attributes``: {oid: [value DER, ...]} kept from a bag read before."""
    a = _asn1()
    bag = a.SafeBag()
    bag['bagId'] = a.univ.ObjectIdentifier(bag_id)
    bag['bagValue'] = bag['bagValue'].clone(value_der)
    attributes = []
    if friendly_name is not None:
        attributes.append(_attribute(OID_FRIENDLY_NAME, a.char.BMPString(friendly_name)))
    if local_key_id is not None:
        attributes.append(_attribute(OID_LOCAL_KEY_ID, a.univ.OctetString(local_key_id)))
    if trusted:
        attributes.append(_attribute(OID_JAVA_TRUSTED_KEY_USAGE, a.univ.ObjectIdentifier(OID_ANY_EXTENDED_KEY_USAGE)))
    for oid, values in sorted((extra_attributes or {}).items()):
        if oid in (OID_FRIENDLY_NAME, OID_LOCAL_KEY_ID, OID_JAVA_TRUSTED_KEY_USAGE):
            continue
        attribute = a.Attribute()
        attribute['type'] = a.univ.ObjectIdentifier(oid)
        attribute['values'].extend([_any(v) for v in values])
        attributes.append(attribute)
    if attributes:
        bag['bagAttributes'].extend(attributes)
    return _encode(bag)


def cert_bag(cert_der, friendly_name=None, local_key_id=None, trusted=False):
    a = _asn1()
    value = a.CertBag()
    value['certId'] = a.univ.ObjectIdentifier(OID_X509_CERT)
    value['certValue'] = value['certValue'].clone(_encode(a.univ.OctetString(cert_der)))
    return make_bag(OID_CERT_BAG, _encode(value), friendly_name, local_key_id, trusted)


def key_bag(pkcs8_der, password, friendly_name, local_key_id):
    return make_bag(OID_SHROUDED_KEY_BAG, shroud(pkcs8_der, password), friendly_name, local_key_id)


def secret_bag(plaintext, password, old):
    """A secret bag as ``old`` (a Bag) was, its value re-encrypted under ``password``."""
    a = _asn1()
    value = a.SecretBag()
    value['secretTypeId'] = a.univ.ObjectIdentifier(OID_SHROUDED_KEY_BAG)
    value['secretValue'] = value['secretValue'].clone(_encode(a.univ.OctetString(shroud(plaintext, password))))
    return make_bag(OID_SECRET_BAG, _encode(value), old.friendly_name, old.local_key_id,
                    extra_attributes=old.attributes)


# ---------------------------------------------------------------- the PFX

def _mac(password, salt, iterations, hash_name, data):
    size = hashlib.new(hash_name).digest_size
    key = pkcs12_kdf(password, salt, 3, iterations, size, hash_name)
    return hmac.new(key, data, hash_name).digest()


def _check_mac(mac_data, auth_safe_der, password, what):
    """Raise WrongPasswordError when the MAC (if any) does not match with ``password``."""
    if not mac_data.isValue:
        return
    digest_oid = str(mac_data['mac']['digestAlgorithm']['algorithm'])
    if digest_oid not in DIGESTS:
        raise UnsupportedContentError('%s is protected by a MAC algorithm (%s) this collection cannot check'
                                      % (what, digest_oid))
    salt, iterations = mac_data['macSalt'].asOctets(), _iterations(mac_data['iterations'])
    digest = mac_data['mac']['digest'].asOctets()

    def mac_matches(pw):
        return hmac.compare_digest(_mac(pw, salt, iterations, DIGESTS[digest_oid], auth_safe_der), digest)

    # an empty password is an empty BMPString for Java, and no bytes at all for some OpenSSL files
    if not (mac_matches(password) or (not password and mac_matches(None))):
        raise WrongPasswordError('wrong password for %s, or the file is damaged (its integrity check fails)' % what)


def load(data, password, what='the PKCS#12 store'):
    """The bags of a PKCS#12 file, MAC checked and encrypted SafeContents
    decrypted with ``password``: [Bag, ...] in file order."""
    a = _asn1()
    try:
        pfx = _decode(data, a.PFX)
        if int(pfx['version']) != 3 or str(pfx['authSafe']['contentType']) != OID_DATA:
            raise ValueError('not a password-integrity PFX')
        auth_safe_der = _decode(pfx['authSafe']['content'].asOctets(), a.univ.OctetString).asOctets()
        mac_data = pfx['macData']
    except malformed_errors() as exc:
        raise CorruptKeystoreError('%s is not a valid PKCS#12 keystore (truncated or corrupt)' % what) from exc
    try:
        _check_mac(mac_data, auth_safe_der, password, what)
    except malformed_errors() as exc:
        raise CorruptKeystoreError('%s is not a valid PKCS#12 keystore (truncated or corrupt)' % what) from exc
    bags = []
    try:
        for content_info_der in _decode(auth_safe_der, a.RawSequence):
            content_info = _decode(content_info_der.asOctets(), a.ContentInfo)
            content_type = str(content_info['contentType'])
            if content_type == OID_DATA:
                safe_contents = _decode(content_info['content'].asOctets(), a.univ.OctetString).asOctets()
                encrypted = False
            elif content_type == OID_ENCRYPTED_DATA:
                eci = _decode(content_info['content'].asOctets(), a.EncryptedData)['encryptedContentInfo']
                safe_contents = decrypt(eci['contentEncryptionAlgorithm'], eci['encryptedContent'].asOctets(),
                                        password)
                if safe_contents is None:
                    raise WrongPasswordError('wrong password for %s: its certificates cannot be decrypted' % what)
                encrypted = True
            else:
                raise UnsupportedContentError('%s holds content protected with a public key (%s), which this '
                                              'collection cannot read' % (what, content_type))
            for bag_der in _decode(safe_contents, a.RawSequence):
                bags.append(Bag(bag_der.asOctets(), encrypted))
    except malformed_errors() as exc:
        raise CorruptKeystoreError('%s is not a valid PKCS#12 keystore (truncated or corrupt)' % what) from exc
    return bags


def _safe_contents(bag_ders):
    a = _asn1()
    seq = a.RawSequence()
    seq.extend([_any(d) for d in bag_ders])
    return _encode(seq)


def dump(plain_bags, encrypted_bags, password):
    """A PFX holding the bags (DER) ``plain_bags`` in a data SafeContents and
    ``encrypted_bags`` in a PBES2-encrypted one, with an HMAC-SHA256 MAC, in
    JDK 17's layout (the data SafeContents first; none when it is empty)."""
    a = _asn1()
    auth_safe = a.RawSequence()
    if plain_bags:
        ci = a.ContentInfo()
        ci['contentType'] = a.univ.ObjectIdentifier(OID_DATA)
        ci['content'] = ci['content'].clone(_encode(a.univ.OctetString(_safe_contents(plain_bags))))
        auth_safe.append(_any(_encode(ci)))
    if encrypted_bags:
        algorithm, ciphertext = encrypt(_safe_contents(encrypted_bags), password)
        ed = a.EncryptedData()
        ed['version'] = 0
        eci = ed['encryptedContentInfo']
        eci['contentType'] = a.univ.ObjectIdentifier(OID_DATA)
        eci['contentEncryptionAlgorithm'] = algorithm
        eci['encryptedContent'] = eci['encryptedContent'].clone(ciphertext)
        ci = a.ContentInfo()
        ci['contentType'] = a.univ.ObjectIdentifier(OID_ENCRYPTED_DATA)
        ci['content'] = ci['content'].clone(_encode(ed))
        auth_safe.append(_any(_encode(ci)))
    auth_safe_der = _encode(auth_safe)
    pfx = a.PFX()
    pfx['version'] = 3
    pfx['authSafe']['contentType'] = a.univ.ObjectIdentifier(OID_DATA)
    pfx['authSafe']['content'] = pfx['authSafe']['content'].clone(_encode(a.univ.OctetString(auth_safe_der)))
    salt = os.urandom(SALT_LENGTH)
    mac = pfx['macData']
    mac['mac']['digestAlgorithm']['algorithm'] = a.univ.ObjectIdentifier(OID_SHA256)
    mac['mac']['digestAlgorithm']['parameters'] = _any(_encode(a.univ.Null('')))
    mac['mac']['digest'] = _mac(password, salt, ITERATIONS, 'sha256', auth_safe_der)
    mac['macSalt'] = salt
    mac['iterations'] = ITERATIONS
    return _encode(pfx)
