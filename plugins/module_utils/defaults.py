# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What every SI download ships: certificates whose private keys are public.

One place for these facts (docs/si-reference.md section 4), so that si_keystore_info and
the configuration audit judge a host the same way.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

# SHA-256 fingerprints (keytool form) of the certificates of the key entries
# SI ships, mapped to where they come from.
SHIPPED_WSO2_CERT_SHA256 = {
    '8A:CE:6D:B1:DF:A6:24:6F:D6:D7:32:80:49:09:06:23:F0:59:34:AD:71:65:F2:F2:2A:44:61:2B:A7:34:0B:28':
        'wso2carbon.jks, alias wso2carbon (CN=localhost, O=WSO2; also trusted in client-truststore.jks)',
    'EE:CB:4D:02:DA:D4:AC:6B:50:53:53:A7:E2:1F:4F:B9:A3:3F:DC:AC:92:30:3F:F0:FF:43:E2:19:0A:84:EA:A0':
        'securevault.jks, alias wso2carbon',
}


def is_shipped_wso2_certificate(fingerprint_sha256):
    """True for the SHA-256 fingerprint (any case, with or without colons) of a shipped WSO2 certificate."""
    text = str(fingerprint_sha256 or '').replace(':', '').upper()
    return any(text == fp.replace(':', '') for fp in SHIPPED_WSO2_CERT_SHA256)


# SHA-256 of the SubjectPublicKeyInfo (certificates.public_key_sha256) of the same
# two keys: a certificate re-issued on a shipped key is still a shipped key.
SHIPPED_WSO2_PUBLIC_KEY_SHA256 = {
    '85:C9:AA:36:10:0B:3D:93:AA:1A:EF:D2:EA:84:C9:A1:09:35:AF:D7:A9:A9:31:C1:1D:8B:C8:A8:2D:00:28:34':
        'the key of wso2carbon.jks, alias wso2carbon',
    'EB:47:93:50:C2:72:68:CA:71:97:F6:B9:28:67:7F:9B:EB:B3:33:E6:2F:10:CA:49:DB:07:E5:6A:73:B2:C9:61':
        'the key of securevault.jks, alias wso2carbon',
}


def is_shipped_wso2_public_key(public_key_sha256):
    """True for the SubjectPublicKeyInfo SHA-256 (any case, with or without colons) of a shipped WSO2 key."""
    text = str(public_key_sha256 or '').replace(':', '').upper()
    return any(text == fp.replace(':', '') for fp in SHIPPED_WSO2_PUBLIC_KEY_SHA256)


# ---------------------------------------------------------------- the one rule

def _normal(text):
    return str(text or '').replace(':', '').upper()


def _hex_pairs(digest):
    text = digest.hex().upper()
    return ':'.join(text[i:i + 2] for i in range(0, len(text), 2))


def der_element(data, pos):
    """(tag, start of content, end of the element) of the DER element at ``pos``.
    Raises ValueError when it is truncated or its length is malformed."""
    if pos + 2 > len(data):
        raise ValueError('truncated')
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7f
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError('bad length')
        length = int.from_bytes(data[pos:pos + count], 'big')
        pos += count
    if pos + length > len(data):
        raise ValueError('truncated')
    return tag, pos, pos + length


def spki_of_certificate_der(der):
    """The DER SubjectPublicKeyInfo inside a DER X.509 certificate, found by walking
    its outer structure (no parsing library needed); None when ``der`` is not shaped
    like a certificate."""
    try:
        der = bytes(der)
        tbs = der_element(der, 0)[1]
        at, tbs_end = der_element(der, tbs)[1:]
        if der[at] == 0xa0:  # [0] version
            at = der_element(der, at)[2]
        for dummy in range(5):  # serialNumber, signature, issuer, validity, subject
            at = der_element(der, at)[2]
        start = at
        end = der_element(der, at)[2]
        if end > tbs_end or der[start] != 0x30:
            return None
        return der[start:end]
    except (ValueError, IndexError):
        return None


def shipped_certificate_der(der):
    """Why the DER certificate ``der`` is shipped WSO2 material, or None: it is one of the
    shipped certificates, or it carries one of the shipped public keys (a certificate
    re-issued on a shipped key is still a shipped key). The one rule every module, the
    configuration audit and si_keystore_info apply."""
    fp = _hex_pairs(hashlib.sha256(bytes(der)).digest())
    for known, where in SHIPPED_WSO2_CERT_SHA256.items():
        if _normal(known) == _normal(fp):
            return where
    spki = spki_of_certificate_der(der)
    if spki is not None:
        key_hash = _hex_pairs(hashlib.sha256(spki).digest())
        for known, where in SHIPPED_WSO2_PUBLIC_KEY_SHA256.items():
            if _normal(known) == _normal(key_hash):
                return '%s, with another certificate' % where
    return None


class ShippedEntry(tuple):
    """(alias, kind, where): an entry of a store that holds shipped WSO2 material;
    ``kind`` is the entry's (``private_key`` or ``trusted_certificate``)."""

    def __new__(cls, alias, kind, where):
        return tuple.__new__(cls, (alias, kind, where))

    alias = property(lambda self: self[0])
    kind = property(lambda self: self[1])
    where = property(lambda self: self[2])

    def sentence(self):
        if self.kind == 'private_key':
            return 'holds the shipped WSO2 key entry %r (%s)' % (self.alias, self.where)
        return 'trusts the shipped WSO2 certificate %r (%s)' % (self.alias, self.where)


def shipped_entries(store, aliases=None):
    """Every entry of ``store`` (a keystore.Keystore; only ``aliases`` when given) that
    holds shipped WSO2 material: a key entry any certificate of whose chain is shipped
    or carries a shipped public key, or a trusted certificate that is or carries one.
    Returns [ShippedEntry], sorted by alias."""
    out = []
    for alias in sorted(store.entries if aliases is None else aliases):
        entry = store.entries.get(alias)
        if entry is None:
            continue
        if entry.kind == 'private_key':
            ders = entry.chain_der
        elif entry.kind == 'trusted_certificate':
            ders = [entry.der]
        else:  # a secret key or another entry the collection keeps as it is: no certificate
            continue
        for der in ders or []:
            where = shipped_certificate_der(der)
            if where is not None:
                out.append(ShippedEntry(alias, entry.kind, where))
                break
    return out
