# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What every SI download ships: certificates whose private keys are public.

One place for these facts (SI-FACTS section 4), so that si_keystore_info and
the configuration audit judge a host the same way.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

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
