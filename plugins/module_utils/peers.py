# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Pinned peers: a truststore item that names a TLS endpoint and a pin.

``si_truststore`` items may be ``{alias, url: host:port, sha256: PIN}``
instead of a certificate. The endpoint's certificate chain is fetched as it
is served (from the managed host, over TLS with verification off: only to read
the chain, which the pin then checks) and the certificate whose SHA-256
fingerprint (of its DER encoding, as ``keytool -list -v`` and ``openssl x509
-fingerprint -sha256`` show it) equals the pin is trusted. The pin may match
any certificate of the served chain: the leaf (the peer itself), or an
intermediate or root CA the peer sends (the peer can then renew its leaf
under that CA without a change of pin). A served chain holding no certificate
with the pin fails with one sentence naming the alias, the endpoint, the
expected and the served fingerprints, before anything is written: a changed
certificate is never trusted because it was served.

The chain is what the server sends. Python 3.10 and newer give it whole
(``get_unverified_chain``); older Pythons give the leaf only, so a pin of a CA
then fails (naming the leaf it saw).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import socket
import ssl

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError

DEFAULT_TIMEOUT = 10.0
PIN_PREFIX = re.compile(r'^(sha-?256)\s*(fingerprint)?\s*[:=]?\s*', re.IGNORECASE)
PIN_SEPARATORS = re.compile(r'[\s:]')
HEX64 = re.compile(r'^[0-9a-f]{64}$')


class PinMismatchError(KeystoreError):
    """The endpoint serves no certificate with the pinned fingerprint."""


class PeerUnreachableError(KeystoreError):
    """The endpoint's certificate chain could not be fetched."""


def parse_pin(value, alias=None):
    """A pin as keytool's fingerprint form (``AB:CD:...``, upper case).

    Accepted: 64 hex digits, in any case, with or without colons (or spaces)
    between the pairs, optionally prefixed ``sha256:``, ``SHA256=`` or
    ``SHA256 Fingerprint=`` (as openssl prints it)."""
    what = 'the sha256 pin' + (' of alias %r' % alias if alias else '')
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError('%s is empty: give the SHA-256 fingerprint of the certificate to trust' % what)
    text = PIN_SEPARATORS.sub('', PIN_PREFIX.sub('', value.strip())).lower()
    if not HEX64.match(text):
        raise InvalidInputError('%s is not a SHA-256 fingerprint (64 hex digits, with or without colons): %r'
                                % (what, value))
    return ':'.join(text[i:i + 2] for i in range(0, 64, 2)).upper()


def pins_equal(a, b):
    """Whether two pins in any accepted spelling name the same fingerprint."""
    return parse_pin(a) == parse_pin(b)


def parse_endpoint(value, alias=None):
    """(host, port) of ``host:port``, ``[v6]:port`` or ``https://host:port[/]``; the port defaults to 443."""
    what = 'the url' + (' of alias %r' % alias if alias else '')
    text = (value or '').strip()
    if text.lower().startswith('https://'):
        text = text[len('https://'):]
    text = text.rstrip('/')
    match = re.match(r'^\[([0-9a-fA-F:.]+)\](?::(\d+))?$', text) or re.match(r'^([^:/\s\[\]]+)(?::(\d+))?$', text)
    if not match:
        raise InvalidInputError('%s must be host:port (or [IPv6]:port), got %r' % (what, value))
    host, port = match.group(1), int(match.group(2) or 443)
    if not 0 < port < 65536:
        raise InvalidInputError('%s has port %d, outside 1 to 65535' % (what, port))
    return host, port


def endpoint_text(host, port):
    return '[%s]:%d' % (host, port) if ':' in host else '%s:%d' % (host, port)


def _is_ip(host):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except (OSError, ValueError):
            continue
    return False


def _chain_der(tls):
    """The DER certificates the peer sent, leaf first: the whole chain where Python gives it."""
    chain = None
    getter = getattr(tls, 'get_unverified_chain', None)  # Python 3.13+
    if getter is None:
        getter = getattr(getattr(tls, '_sslobj', None), 'get_unverified_chain', None)  # 3.10 to 3.12
    if getter is not None:
        try:
            chain = getter()
        except (AttributeError, ValueError, ssl.SSLError):
            chain = None
    der = []
    for item in chain or []:
        if isinstance(item, bytes):
            der.append(item)
        else:  # _ssl.Certificate (3.10 to 3.12)
            der.append(item.public_bytes(getattr(ssl, '_ssl').ENCODING_DER))
    if not der:
        leaf = tls.getpeercert(binary_form=True)
        if leaf:
            der.append(leaf)
    return der


def fetch_chain(host, port, timeout=DEFAULT_TIMEOUT):
    """[cryptography certificate] the endpoint serves, leaf first.

    Verification is off on purpose: the chain is only read here, and trusted
    only when a certificate in it matches the pin. SNI is the host name
    (none for an IP address, as TLS has it)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    endpoint = endpoint_text(host, port)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with ctx.wrap_socket(sock, server_hostname=None if _is_ip(host) else host) as tls:
                der = _chain_der(tls)
    except socket.timeout:
        raise PeerUnreachableError('no TLS answer from %s within %g s' % (endpoint, timeout))
    except ssl.SSLError as exc:
        raise PeerUnreachableError('the TLS handshake with %s failed: %s' % (endpoint, exc.reason or exc))
    except (OSError, UnicodeError) as exc:
        raise PeerUnreachableError('cannot connect to %s: %s' % (endpoint, getattr(exc, 'strerror', None) or exc))
    if not der:
        raise PeerUnreachableError('%s sent no certificate' % endpoint)
    return [certs.load_certificates(d, what='the certificate served by %s' % endpoint)[0] for d in der]


def pick(chain, pin, alias, endpoint):
    """The certificate of chain whose fingerprint is pin, or PinMismatchError in one sentence."""
    for cert in chain:
        if certs.fingerprint(cert) == pin:
            return cert
    served = ', '.join('%s (%s)' % (certs.fingerprint(c), certs.name_to_string(c.subject)) for c in chain)
    raise PinMismatchError('alias %r: %s serves no certificate with the pinned SHA-256 fingerprint %s; it serves %s; '
                           'nothing was written' % (alias, endpoint, pin, served))


def resolve(items, state='present', fetch=fetch_chain):
    """The ``certificates`` items with each ``url`` item turned into a certificate item (its ``content``
    the PEM of the pinned certificate); other items as they are. With state absent a url item is its alias."""
    out = []
    for item in items or []:
        item = dict(item)
        url, pin, timeout = item.pop('url', None), item.pop('sha256', None), item.pop('timeout', None)
        alias = item.get('alias')
        if url is None:
            if pin is not None:
                raise InvalidInputError('certificate %r: sha256 pins the certificate of a url; give url too' % alias)
            out.append(item)
            continue
        if item.get('content') or item.get('path'):
            raise InvalidInputError('certificate %r: give url, content or path, only one of them' % alias)
        host, port = parse_endpoint(url, alias)
        if state == 'absent':
            out.append(item)
            continue
        if pin is None:
            raise InvalidInputError('certificate %r: a url needs its sha256 pin, the SHA-256 fingerprint of the '
                                    'certificate to trust (nothing served is trusted without one)' % alias)
        expected = parse_pin(pin, alias)
        endpoint = endpoint_text(host, port)
        timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        if timeout <= 0:
            raise InvalidInputError('certificate %r: timeout must be more than 0 seconds' % alias)
        try:
            chain = fetch(host, port, timeout)
        except PeerUnreachableError as exc:
            raise PeerUnreachableError('alias %r: %s; nothing was written' % (alias, exc))
        item['content'] = certs.cert_to_pem(pick(chain, expected, alias, endpoint))
        out.append(item)
    return out
