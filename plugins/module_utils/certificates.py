# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""X.509 helpers: parsing, fingerprints, names, SANs, chains, key generation,
certificate requests (CSR).

Stateless functions over ``cryptography`` objects. Errors are translated into
the collection's error root here, at the boundary.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import ipaddress
import re

from ansible_collections.wso2si.keystores.plugins.module_utils.deps import (
    x509, hashes, serialization, rsa, ec, ed25519, ExtendedKeyUsageOID, ExtensionOID, NameOID,
    InvalidSignature, UnsupportedAlgorithm, load_der_pkcs7_certificates,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    ChainError, InvalidInputError, KeyMismatchError, UnsupportedContentError,
)

# What cryptography raises for malformed DER: ValueError, and InvalidVersion (not a
# ValueError) for a certificate or request whose version field is out of range.
PARSE_ERRORS = (ValueError,) if x509 is None else (ValueError, x509.InvalidVersion)

PEM_BLOCK = re.compile(
    br'-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)\r?\n-----END \1-----', re.DOTALL)

# keytool's (X500Principal's) attribute names, most used first.
# (Built only when cryptography imports: modules report a missing one through deps.)
_NAME_OIDS = [] if NameOID is None else [
    ('CN', NameOID.COMMON_NAME),
    ('OU', NameOID.ORGANIZATIONAL_UNIT_NAME),
    ('O', NameOID.ORGANIZATION_NAME),
    ('L', NameOID.LOCALITY_NAME),
    ('ST', NameOID.STATE_OR_PROVINCE_NAME),
    ('C', NameOID.COUNTRY_NAME),
    ('EMAILADDRESS', NameOID.EMAIL_ADDRESS),
    ('STREET', NameOID.STREET_ADDRESS),
    ('DC', NameOID.DOMAIN_COMPONENT),
    ('UID', NameOID.USER_ID),
    ('SERIALNUMBER', NameOID.SERIAL_NUMBER),
    ('T', NameOID.TITLE),
    ('GIVENNAME', NameOID.GIVEN_NAME),
    ('SURNAME', NameOID.SURNAME),
]
_OID_BY_NAME = dict((k, v) for k, v in _NAME_OIDS)
if NameOID is not None:
    _OID_BY_NAME.update({'S': NameOID.STATE_OR_PROVINCE_NAME, 'E': NameOID.EMAIL_ADDRESS,
                         'EMAIL': NameOID.EMAIL_ADDRESS, 'SN': NameOID.SURNAME})
_NAME_BY_OID = dict((v, k) for k, v in _NAME_OIDS)
_SPECIAL = ',+=";<>\\'


# ---------------------------------------------------------------- parsing

def pem_blocks(data):
    """Return [(label, der)] for every PEM block in ``data`` (bytes)."""
    import base64
    import binascii
    blocks = []
    for match in PEM_BLOCK.finditer(data):
        try:
            blocks.append((match.group(1).decode('ascii'),
                           base64.b64decode(b''.join(match.group(2).split()), validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError('a PEM %s block is not valid base64' % match.group(1).decode('ascii')) from exc
    return blocks


def load_certificates(data, what='the input'):
    """Parse PEM (one or many certificates), DER or PKCS#7 (PEM or DER).

    Returns a non-empty list of ``x509.Certificate`` in input order.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    data = data or b''
    certs = []
    if b'-----BEGIN' in data:
        for label, der in pem_blocks(data):
            if label in ('CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'):
                certs.append(_load_der_cert(der, what))
            elif label == 'PKCS7':
                certs.extend(_load_pkcs7(der, what))
            elif 'PRIVATE KEY' in label:
                continue
            else:
                raise UnsupportedContentError('%s holds a PEM %s block where a certificate was expected' % (what, label))
    elif data.strip():
        try:
            certs = [x509.load_der_x509_certificate(data)]
        except PARSE_ERRORS:
            certs = _load_pkcs7(data, what)
    if not certs:
        raise InvalidInputError('%s does not contain a certificate (PEM, DER or PKCS#7 expected)' % what)
    return certs


def _load_der_cert(der, what):
    try:
        return x509.load_der_x509_certificate(der)
    except PARSE_ERRORS as exc:
        raise InvalidInputError('%s holds a certificate that cannot be parsed' % what) from exc


def _load_pkcs7(der, what):
    try:
        return list(load_der_pkcs7_certificates(der))
    except PARSE_ERRORS + (UnsupportedAlgorithm,) as exc:
        # UnsupportedAlgorithm: a PKCS#7 structure other than signed data ("Only basic signed
        # structures are currently supported"), e.g. 12 bytes of ContentInfo found by the fuzz run
        raise InvalidInputError('%s is not a certificate in PEM, DER or PKCS#7 form' % what) from exc


def load_private_key(data, passphrase=None, what='the private key', validate=True):
    """Parse a PEM or DER private key (PKCS#1, PKCS#8, SEC1; encrypted or not).

    ``validate=False`` skips cryptography's RSA key validation (tens of ms):
    only for a key whose public half is compared, never for one that signs."""
    unsafe = {} if validate else {'unsafe_skip_rsa_key_validation': True}
    if isinstance(data, str):
        data = data.encode('utf-8')
    if isinstance(passphrase, str):
        passphrase = passphrase.encode('utf-8')
    data = data or b''
    try:
        if b'-----BEGIN' in data:
            block = next((b for b in PEM_BLOCK.finditer(data) if b'PRIVATE KEY' in b.group(1)), None)
            if block is None:
                raise InvalidInputError('%s does not contain a PEM private key' % what)
            return serialization.load_pem_private_key(block.group(0), password=passphrase, **unsafe)
        return serialization.load_der_private_key(data, password=passphrase, **unsafe)
    except TypeError as exc:
        if passphrase is None:
            raise InvalidInputError('%s is encrypted: give its passphrase' % what) from exc
        raise InvalidInputError('%s is not encrypted but a passphrase was given' % what) from exc
    except ValueError as exc:
        if passphrase is not None and b'ENCRYPTED' in data:
            raise InvalidInputError('the passphrase does not decrypt %s' % what) from exc
        raise InvalidInputError('%s cannot be parsed (PEM or DER private key expected)' % what) from exc
    except UnsupportedAlgorithm as exc:
        raise UnsupportedContentError('%s uses an unsupported algorithm' % what) from exc


def cert_to_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode('ascii')


def cert_to_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


# ---------------------------------------------------------------- facts

def fingerprint(cert, algorithm='sha256'):
    """keytool-style fingerprint: upper-case hex pairs joined by colons."""
    digest = cert.fingerprint(hashes.SHA1() if algorithm == 'sha1' else hashes.SHA256())
    return hex_pairs(digest)


def hex_pairs(digest):
    """``b'\\x8a\\xce...'`` as ``8A:CE:...`` (keytool's form)."""
    try:
        return bytes(digest).hex(':').upper()
    except TypeError:  # Python < 3.8: no separator argument
        text = bytes(digest).hex().upper()
        return ':'.join(text[i:i + 2] for i in range(0, len(text), 2))


def public_key_sha256(key):
    """SHA-256 of the DER SubjectPublicKeyInfo of a public or private key."""
    if hasattr(key, 'public_key'):
        key = key.public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return hex_pairs(digest.finalize())


def public_keys_equal(a, b):
    if hasattr(a, 'public_key'):
        a = a.public_key()
    if hasattr(b, 'public_key'):
        b = b.public_key()
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return a.public_bytes(*fmt) == b.public_bytes(*fmt)


def check_key_matches(private_key, cert):
    if not public_keys_equal(private_key, cert.public_key()):
        raise KeyMismatchError('the private key and the certificate do not match (their public keys differ)')


def key_description(key):
    """Return (type, size, curve) of a public or private key."""
    if hasattr(key, 'public_key'):
        key = key.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return 'RSA', key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return 'EC', key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return 'Ed25519', 256, None
    return type(key).__name__, None, None


def not_before(cert):
    return getattr(cert, 'not_valid_before_utc', None) or cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(cert):
    return getattr(cert, 'not_valid_after_utc', None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def due_for_renewal(cert, renew_before_days, now=None):
    """True when ``cert`` expires within ``renew_before_days`` days (or has expired): the one
    renewal rule of the modules and the role."""
    return not_after(cert) - (now or utcnow()) <= datetime.timedelta(days=renew_before_days)


# ---------------------------------------------------------------- weak or out-of-date material
#
# One policy for every module: a key shorter than these, or a certificate outside its
# validity period, is refused where it would be used (kept in a keystore, signed,
# requested, trusted, served by SI); ``allow_weak_keys`` / ``allow_expired`` turn the
# refusal into a warning.

MIN_RSA_KEY_BITS = 2048
MIN_EC_KEY_BITS = 256
MIN_OTHER_KEY_BITS = 2048  # DSA and other finite-field keys
MAX_VALIDITY_DAYS = 36500  # 100 years: beyond, dates leave what X.509 and Python can write


def weak_key_reason(key):
    """Why the (public or private) ``key`` is too weak, as 'a 1024-bit RSA key', or None."""
    kind, size, dummy = key_description(key)
    if kind == 'RSA' and size < MIN_RSA_KEY_BITS:
        return 'a %d-bit RSA key (at least %d bits are required)' % (size, MIN_RSA_KEY_BITS)
    if kind == 'EC' and size < MIN_EC_KEY_BITS:
        return 'a %d-bit EC key (at least %d bits are required)' % (size, MIN_EC_KEY_BITS)
    if kind not in ('RSA', 'EC', 'Ed25519'):
        public = key.public_key() if hasattr(key, 'public_key') else key
        bits = getattr(public, 'key_size', None)
        if bits is not None and bits < MIN_OTHER_KEY_BITS:
            name = kind.replace('PublicKey', ' key')
            return 'a %d-bit %s (at least %d bits are required)' % (bits, name, MIN_OTHER_KEY_BITS)
    return None


def validity_problem(cert, now=None):
    """'expired on ...' or 'is not valid before ...' for a certificate outside its validity period, else None."""
    now = now or utcnow()
    if not_after(cert) < now:
        return 'expired on %s' % iso(not_after(cert))
    if not_before(cert) > now:
        return 'is not valid before %s' % iso(not_before(cert))
    return None


def check_key_strength(key, what, allow_weak_keys=False, warn=None):
    """Refuse (InvalidInputError) a weak key; with ``allow_weak_keys`` warn through ``warn`` instead."""
    reason = weak_key_reason(key)
    if reason is None:
        return
    msg = '%s has %s' % (what, reason)
    if not allow_weak_keys:
        raise InvalidInputError('%s; it is refused (set allow_weak_keys to accept it)' % msg)
    if warn is not None:
        warn('%s, accepted because allow_weak_keys is set' % msg)


def check_validity(certificates, what, allow_expired=False, warn=None, now=None):
    """Refuse (ChainError) certificates outside their validity period; with ``allow_expired`` warn instead."""
    now = now or utcnow()
    for cert in certificates:
        problem = validity_problem(cert, now)
        if problem is None:
            continue
        msg = '%s: the certificate %s %s' % (what, name_to_string(cert.subject), problem)
        if not allow_expired:
            raise ChainError('%s; it is refused (set allow_expired to accept it)' % msg)
        if warn is not None:
            warn('%s, accepted because allow_expired is set' % msg)


def check_validity_days(days, option='validity_days'):
    """A validity period of 1 to MAX_VALIDITY_DAYS days (0 or less would make an expired certificate)."""
    if days is None:
        return
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_VALIDITY_DAYS:
        raise InvalidInputError('%s must be a whole number of days from 1 to %d (got %r)'
                                % (option, MAX_VALIDITY_DAYS, days))


def iso(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%SZ')


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def is_self_signed(cert):
    if cert.issuer != cert.subject:
        return False
    return signed_by(cert, cert)


def signed_by(cert, issuer):
    """True when ``issuer`` names and signed ``cert``."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def subject_alt_names(cert):
    """The certificate's SANs as ['DNS:a', 'IP:1.2.3.4', ...] (empty list if none)."""
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    return [format_san(gn) for gn in ext.value]


def summary(cert):
    """The non-secret facts shown in diffs and returned to users."""
    return {
        'subject': name_to_string(cert.subject),
        'issuer': name_to_string(cert.issuer),
        'fingerprint_sha256': fingerprint(cert),
        'not_after': iso(not_after(cert)),
    }


# ---------------------------------------------------------------- names

def _escape(value):
    out = ''.join('\\' + c if c in _SPECIAL else c for c in value)
    if out.startswith(' ') or out.startswith('#'):
        out = '\\' + out
    if out.endswith(' ') and not out.endswith('\\ '):
        out = out[:-1] + '\\ '
    return out


def name_to_string(name):
    """keytool's form: most specific first, ``CN=a, OU=b, O=c, L=d, ST=e, C=f``."""
    parts = []
    for rdn in reversed(list(name.rdns)):
        attrs = []
        for attr in rdn:
            key = _NAME_BY_OID.get(attr.oid, attr.oid.dotted_string)
            value = attr.value if isinstance(attr.value, str) else attr.value.hex()
            attrs.append('%s=%s' % (key, _escape(value)))
        parts.append('+'.join(attrs))
    return ', '.join(parts)


def _split_unescaped(text, sep):
    """Split on ``sep`` outside backslash escapes and double quotes."""
    parts, cur, i, quoted = [], '', 0, False
    while i < len(text):
        c = text[i]
        if c == '\\' and i + 1 < len(text):
            cur += text[i:i + 2]
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == sep and not quoted:
            parts.append(cur)
            cur = ''
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def _unescape(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return re.sub(r'\\(.)', r'\1', value)


def parse_name(subject):
    """Build an ``x509.Name`` from a keytool dname string or a dict.

    Strings are most specific first (``CN=host, OU=IT, O=Org, L=City,
    S=State, C=US``), as keytool's ``-dname`` takes them; ``S`` and ``ST``
    both mean stateOrProvinceName. Dicts list the same keys in the same order.
    """
    if isinstance(subject, dict):
        pairs = list(subject.items())
    elif isinstance(subject, str):
        if not subject.strip():
            raise InvalidInputError('the subject is empty')
        pairs = []
        for part in _split_unescaped(subject, ','):
            if not part.strip():
                continue
            key, sep, value = part.partition('=')
            if not sep:
                raise InvalidInputError('the subject part %r has no "=" (expected e.g. "CN=host, O=Org")' % part.strip())
            pairs.append((key, _unescape(value)))
    else:
        raise InvalidInputError('the subject must be a string or a dict')
    rdns = []
    for key, value in pairs:
        oid = _OID_BY_NAME.get(str(key).strip().upper())
        if oid is None:
            raise InvalidInputError('unknown subject attribute %r (use CN, OU, O, L, ST or S, C, EMAILADDRESS, DC, ...)' % key)
        value = str(value)
        if oid == NameOID.COUNTRY_NAME and len(value) != 2:
            raise InvalidInputError('the country (C) must be a two-letter code, not %r' % value)
        if not value:
            raise InvalidInputError('the subject attribute %s is empty' % key)
        try:
            rdns.append(x509.RelativeDistinguishedName([x509.NameAttribute(oid, value)]))
        except ValueError as exc:
            raise InvalidInputError('the subject attribute %s=%r is not valid: %s' % (key, value, exc)) from exc
    return x509.Name(list(reversed(rdns)))


# ---------------------------------------------------------------- SANs

# A DNS name of ASCII labels (RFC 1123; a leading '*.' wildcard allowed), at most 253 characters.
DNS_NAME = re.compile(r'^(?=.{1,253}$)(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)'
                      r'(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$')
# An absolute URI (scheme ':' then printable ASCII without spaces), RFC 3986.
URI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[!-~]+$')
EMAIL_LOCAL = re.compile(r'^[A-Za-z0-9!#$%&\'*+/=?^_`{|}~.-]{1,64}$')


def parse_san(text):
    """``DNS:name``, ``IP:addr``, ``URI:uri``, ``email:addr`` to a GeneralName."""
    kind, sep, value = str(text).partition(':')
    kind = kind.strip().lower()
    value = value.strip()
    if not sep or not value:
        raise InvalidInputError('subject alternative name %r must look like DNS:host, IP:address, URI:uri or email:address' % text)
    try:
        if kind == 'dns':
            if not DNS_NAME.match(value):
                raise ValueError('not a DNS name')
            return x509.DNSName(value)
        if kind == 'ip':
            return x509.IPAddress(ipaddress.ip_address(value))
        if kind == 'uri':
            if not URI.match(value):
                raise ValueError('not an absolute URI')
            return x509.UniformResourceIdentifier(value)
        if kind == 'email':
            local, at, domain = value.rpartition('@')
            if not at or not EMAIL_LOCAL.match(local) or not DNS_NAME.match(domain) or domain.startswith('*'):
                raise ValueError('not an email address')
            return x509.RFC822Name(value)
    except ValueError as exc:
        raise InvalidInputError('subject alternative name %r is not valid' % text) from exc
    raise InvalidInputError('subject alternative name %r has an unknown type (use DNS, IP, URI or email)' % text)


def format_san(gn):
    if isinstance(gn, x509.DNSName):
        return 'DNS:' + gn.value
    if isinstance(gn, x509.IPAddress):
        return 'IP:' + str(gn.value)
    if isinstance(gn, x509.UniformResourceIdentifier):
        return 'URI:' + gn.value
    if isinstance(gn, x509.RFC822Name):
        return 'email:' + gn.value
    return '%s:%s' % (type(gn).__name__, gn.value)


def normalize_sans(sans):
    """Parse and re-format a list of SAN strings (so they compare with a certificate's)."""
    return [format_san(parse_san(s)) for s in (sans or [])]


# ---------------------------------------------------------------- chains

def build_chain(leaf, pool):
    """Follow issuers from ``leaf`` through ``pool`` (verifying each signature)
    until a self-signed certificate or no issuer is found. Cycles stop."""
    chain = [leaf]
    seen = set([fingerprint(leaf)])
    current = leaf
    while not is_self_signed(current):
        issuer = next((c for c in pool if fingerprint(c) not in seen and signed_by(current, c)), None)
        if issuer is None:
            break
        chain.append(issuer)
        seen.add(fingerprint(issuer))
        current = issuer
    return chain


def dedupe(certs):
    seen, out = set(), []
    for c in certs:
        fp = fingerprint(c)
        if fp not in seen:
            seen.add(fp)
            out.append(c)
    return out


# ---------------------------------------------------------------- generation

def generate_private_key(key_type='rsa', key_size=2048, curve=None):
    if key_type == 'rsa':
        if key_size < 2048:
            raise InvalidInputError('RSA keys shorter than 2048 bits are refused (asked for %d)' % key_size)
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    if key_type == 'ec':
        curves = {'secp256r1': ec.SECP256R1, 'secp384r1': ec.SECP384R1, 'secp521r1': ec.SECP521R1,
                  'prime256v1': ec.SECP256R1, 'p-256': ec.SECP256R1, 'p-384': ec.SECP384R1, 'p-521': ec.SECP521R1}
        cls = curves.get(str(curve or 'secp256r1').lower())
        if cls is None:
            raise InvalidInputError('unsupported EC curve %r (use secp256r1, secp384r1 or secp521r1)' % curve)
        return ec.generate_private_key(cls())
    raise InvalidInputError('unsupported key type %r (use rsa or ec)' % key_type)


def key_matches_request(key, key_type, key_size, curve):
    kind, size, kcurve = key_description(key)
    if key_type == 'rsa':
        return kind == 'RSA' and size == key_size
    want = {'prime256v1': 'secp256r1', 'p-256': 'secp256r1', 'p-384': 'secp384r1', 'p-521': 'secp521r1'}
    c = str(curve or 'secp256r1').lower()
    return kind == 'EC' and kcurve == want.get(c, c)


def self_signed_certificate(key, subject, sans=None, validity_days=365, serial=None):
    """A self-signed SHA-256 certificate for a TLS server that is also a client."""
    check_validity_days(validity_days)
    now = utcnow().replace(microsecond=0)
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(subject)
               .public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=validity_days))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([parse_san(s) for s in sans]), critical=False)
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


def validity_days_of(cert):
    """Whole days between notBefore and notAfter (the 5-minute backdate ignored)."""
    return int(round((not_after(cert) - not_before(cert)).total_seconds() / 86400.0))


# ---------------------------------------------------------------- requests (CSR)

# RFC 5280 key usage bits, in bit order (the names keytool and OpenSSL print).
KEY_USAGES = ('digitalSignature', 'contentCommitment', 'keyEncipherment', 'dataEncipherment', 'keyAgreement',
              'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly')
_KU_ATTRS = dict(zip(KEY_USAGES, ('digital_signature', 'content_commitment', 'key_encipherment',
                                  'data_encipherment', 'key_agreement', 'key_cert_sign', 'crl_sign',
                                  'encipher_only', 'decipher_only')))
_KU_ALIASES = {'nonrepudiation': 'contentCommitment'}

EXTENDED_KEY_USAGES = {} if ExtendedKeyUsageOID is None else {
    'serverAuth': ExtendedKeyUsageOID.SERVER_AUTH,
    'clientAuth': ExtendedKeyUsageOID.CLIENT_AUTH,
    'codeSigning': ExtendedKeyUsageOID.CODE_SIGNING,
    'emailProtection': ExtendedKeyUsageOID.EMAIL_PROTECTION,
    'timeStamping': ExtendedKeyUsageOID.TIME_STAMPING,
    'OCSPSigning': ExtendedKeyUsageOID.OCSP_SIGNING,
}
_EKU_BY_OID = dict((v, k) for k, v in EXTENDED_KEY_USAGES.items())

DIGESTS = ('sha256', 'sha384', 'sha512')


def parse_key_usage(names):
    """``['digitalSignature', 'keyEncipherment']`` to ``x509.KeyUsage``; None for an empty list."""
    if not names:
        return None
    by_lower = dict((n.lower(), n) for n in KEY_USAGES)
    wanted = set()
    for name in names:
        key = str(name).strip().replace(' ', '').replace('_', '').lower()
        canonical = by_lower.get(key) or _KU_ALIASES.get(key)
        if canonical is None:
            raise InvalidInputError('unknown key usage %r (use %s)' % (name, ', '.join(KEY_USAGES)))
        wanted.add(canonical)
    if ('encipherOnly' in wanted or 'decipherOnly' in wanted) and 'keyAgreement' not in wanted:
        raise InvalidInputError('the key usages encipherOnly and decipherOnly need keyAgreement')
    return x509.KeyUsage(**dict((attr, name in wanted) for name, attr in _KU_ATTRS.items()))


def format_key_usage(key_usage):
    """The names of the bits set in an ``x509.KeyUsage``, in bit order."""
    out = []
    for name in KEY_USAGES:
        try:
            if getattr(key_usage, _KU_ATTRS[name]):
                out.append(name)
        except ValueError:  # encipher_only/decipher_only without key_agreement
            continue
    return out


def parse_extended_key_usage(names):
    """``['serverAuth', 'clientAuth', '1.2.3.4']`` to ``x509.ExtendedKeyUsage``; None for an empty list."""
    if not names:
        return None
    by_lower = dict((k.lower(), v) for k, v in EXTENDED_KEY_USAGES.items())
    oids = []
    for name in names:
        text = str(name).strip()
        oid = by_lower.get(text.lower())
        if oid is None:
            if not re.match(r'^[0-2](\.[0-9]+)+$', text):
                raise InvalidInputError('unknown extended key usage %r (use %s or a dotted OID)'
                                        % (name, ', '.join(sorted(EXTENDED_KEY_USAGES))))
            try:
                oid = x509.ObjectIdentifier(text)
            except ValueError as exc:
                raise InvalidInputError('the extended key usage %r is not a valid OID' % name) from exc
        if oid not in oids:
            oids.append(oid)
    return x509.ExtendedKeyUsage(oids)


def format_extended_key_usage(eku):
    return [_EKU_BY_OID.get(oid, oid.dotted_string) for oid in eku]


def signature_hash(key, digest='sha256'):
    """The hash to sign with ``key``: None for Ed25519 (which has its own)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    digest = str(digest or 'sha256').lower().replace('-', '')
    if digest not in DIGESTS:
        raise InvalidInputError('unsupported digest %r (use %s)' % (digest, ', '.join(DIGESTS)))
    return {'sha256': hashes.SHA256, 'sha384': hashes.SHA384, 'sha512': hashes.SHA512}[digest]()


def san_names(sans):
    """GeneralNames from a list of ``DNS:host`` strings (GeneralName objects pass through)."""
    return [s if isinstance(s, x509.GeneralName) else parse_san(s) for s in (sans or [])]


def build_csr(key, subject, sans=None, key_usage=None, extended_key_usage=None, digest='sha256'):
    """A PKCS#10 request signed with ``key``.

    ``subject`` is an ``x509.Name``; ``sans`` a list of SAN strings or
    GeneralNames (no extension when empty); ``key_usage`` and
    ``extended_key_usage`` lists of names (no extension when empty). Key usage
    is marked critical, as CAs expect.
    """
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    names = san_names(sans)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    ku = parse_key_usage(key_usage)
    if ku is not None:
        builder = builder.add_extension(ku, critical=True)
    eku = parse_extended_key_usage(extended_key_usage)
    if eku is not None:
        builder = builder.add_extension(eku, critical=False)
    try:
        return builder.sign(key, signature_hash(key, digest))
    except (TypeError, ValueError, UnsupportedAlgorithm) as exc:
        raise UnsupportedContentError('a certificate request cannot be signed with this %s key: %s'
                                      % (key_description(key)[0], exc)) from exc


def load_csr(data, what='the certificate request'):
    """Parse a PEM or DER PKCS#10 request."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    data = data or b''
    try:
        if b'-----BEGIN' in data:
            return x509.load_pem_x509_csr(data)
        return x509.load_der_x509_csr(data)
    except PARSE_ERRORS as exc:
        raise InvalidInputError('%s is not a PEM or DER certificate request' % what) from exc


def csr_to_pem(csr):
    return csr.public_bytes(serialization.Encoding.PEM).decode('ascii')


def _csr_extensions(csr):
    try:
        return sorted(((e.oid.dotted_string, e.critical, e.value) for e in csr.extensions), key=lambda t: t[0])
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return None


def _hash_name(obj):
    try:
        algorithm = obj.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return algorithm.name if algorithm is not None else None


def csr_equal(a, b):
    """True when two requests ask for the same thing: public key, subject,
    extensions (with their criticality) and signature digest, and both
    signatures verify. Bytes are never compared."""
    if not (a.is_signature_valid and b.is_signature_valid):
        return False
    ext_a, ext_b = _csr_extensions(a), _csr_extensions(b)
    return (ext_a is not None and ext_a == ext_b
            and public_keys_equal(a.public_key(), b.public_key())
            and a.subject == b.subject
            and _hash_name(a) == _hash_name(b))


def csr_facts(csr):
    """Non-secret facts of a request, for results and diffs."""
    facts = {
        'subject': name_to_string(csr.subject),
        'subject_alt_names': [],
        'key_usage': [],
        'extended_key_usage': [],
        'public_key_sha256': public_key_sha256(csr.public_key()),
        'digest': _hash_name(csr),
    }
    for ext in csr.extensions:
        if isinstance(ext.value, x509.SubjectAlternativeName):
            facts['subject_alt_names'] = [format_san(gn) for gn in ext.value]
        elif isinstance(ext.value, x509.KeyUsage):
            facts['key_usage'] = format_key_usage(ext.value)
        elif isinstance(ext.value, x509.ExtendedKeyUsage):
            facts['extended_key_usage'] = format_extended_key_usage(ext.value)
    return facts


def san_general_names(cert):
    """The certificate's SANs as GeneralName objects (every kind kept), or []."""
    try:
        return list(cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value)
    except x509.ExtensionNotFound:
        return []
