# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The CA reply backend: turn a CA's reply and its CA certificates into the
verified chain a key entry is to hold, as keytool's ``-importcert`` of a reply
does, and stricter.

Stateless: the module reads the store and the inputs, calls
``reply_chain()``, and writes the result.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    ChainError, InvalidInputError, KeyMismatchError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import normalize_alias


def load_input(content=None, path=None, what='the certificate'):
    """Certificates from ``content`` or the file ``path`` (PEM, DER or PKCS#7)."""
    if content and path:
        raise InvalidInputError('%s: give content or path, not both' % what)
    if path:
        data = read_file(path, what='the file %s' % path)
        if data is None:
            raise InvalidInputError('the file %s (%s) does not exist' % (path, what))
        return certs.load_certificates(data, what='the file %s' % path)
    if not content:
        raise InvalidInputError('%s needs content or path' % what)
    return certs.load_certificates(content, what=what)


def certificate_items(items):
    """[(alias, certificate)] from a list of ``{alias, content | path}``;
    a bundle of N certificates becomes ALIAS, ALIAS-2, ... ALIAS-N."""
    out = []
    for item in items or []:
        alias = normalize_alias(item.get('alias'))
        found = load_input(item.get('content'), item.get('path'), what='the CA certificate %r' % alias)
        out.append((alias, found[0]))
        out.extend(('%s-%d' % (alias, n), cert) for n, cert in enumerate(found[1:], start=2))
    return out


def reply_leaf(reply, public_key):
    """The certificate of the reply that certifies ``public_key``."""
    matching = [c for c in reply if certs.public_keys_equal(c.public_key(), public_key)]
    if not matching:
        raise KeyMismatchError("public keys in reply and keystore don't match: the reply certifies another key "
                               "than the key entry's")
    # a reply that also carries the old self-signed certificate: prefer the CA-signed one
    return next((c for c in matching if not certs.is_self_signed(c)), matching[0])


def _name(cert):
    return certs.name_to_string(cert.subject) or '(empty subject)'


def _check_ca(cert):
    """An issuing certificate must be allowed to sign certificates."""
    try:
        bc = cert.extensions.get_extension_for_class(certs.x509.BasicConstraints).value
    except certs.x509.ExtensionNotFound:
        bc = None
    if bc is None and not certs.is_self_signed(cert):
        raise ChainError('the issuing certificate %s has no basic constraints: it is not a CA certificate' % _name(cert))
    if bc is not None and not bc.ca:
        raise ChainError('the issuing certificate %s is not a CA certificate (basic constraints CA:FALSE)' % _name(cert))
    try:
        ku = cert.extensions.get_extension_for_class(certs.x509.KeyUsage).value
    except certs.x509.ExtensionNotFound:
        return
    if not ku.key_cert_sign:
        raise ChainError('the issuing certificate %s may not sign certificates (its key usage lacks keyCertSign)'
                         % _name(cert))


def check_dates(chain, now=None):
    """Refuse a chain with an expired or not yet valid certificate."""
    now = now or certs.utcnow()
    for cert in chain:
        if certs.not_after(cert) < now:
            raise ChainError('the certificate %s expired on %s (set allow_expired to import it anyway)'
                             % (_name(cert), certs.iso(certs.not_after(cert))))
        if certs.not_before(cert) > now:
            raise ChainError('the certificate %s is not valid before %s (set allow_expired to import it anyway)'
                             % (_name(cert), certs.iso(certs.not_before(cert))))


def reply_chain(reply, public_key, ca_certificates=(), trusted=(), validate=True, allow_expired=False, now=None,
                intermediates=()):
    """The chain a key entry with ``public_key`` gets from a CA reply.

    - ``reply``: the reply's certificates, any order;
    - ``ca_certificates``: the CA certificates given with it (trusted anchors);
    - ``trusted``: the certificates already trusted in the store (anchors);
    - ``intermediates``: more candidate issuers that are not anchors, such as
      the CA certificates of the entry's current chain (a renewal).

    Returns ``(chain, unused)``: the chain leaf to root, each link's issuer
    name and signature verified, and the reply's certificates that are not
    part of it. With ``validate``, the chain must end at a self-signed root
    that is among ``ca_certificates`` or ``trusted``, and every issuer must be
    a CA; a root carried only by the reply is not trusted. Dates are checked
    unless ``allow_expired``.
    """
    leaf = reply_leaf(reply, public_key)
    others = [c for c in reply if c is not leaf]
    anchors = list(ca_certificates) + list(trusted)
    chain = certs.build_chain(leaf, others + anchors + list(intermediates))
    if validate:
        top = chain[-1]
        if not certs.is_self_signed(top):
            raise ChainError('the chain is incomplete: the issuing CA %s (of %s) is neither in the reply, in '
                             'ca_certificates nor trusted in the store'
                             % (certs.name_to_string(top.issuer), _name(top)))
        anchor_fps = set(certs.fingerprint(c) for c in anchors)
        if certs.fingerprint(top) not in anchor_fps:
            raise ChainError('the chain ends at the root %s, which is neither in ca_certificates nor trusted in the '
                             'store: it is not trusted' % _name(top))
        for cert in chain[1:]:
            _check_ca(cert)
    if not allow_expired:
        check_dates(chain, now)
    in_chain = set(certs.fingerprint(c) for c in chain)
    unused = [c for c in certs.dedupe(others) if certs.fingerprint(c) not in in_chain]
    return chain, unused
