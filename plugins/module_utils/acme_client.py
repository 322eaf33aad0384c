# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""ACME (RFC 8555) on the controller, through the maintained ``acme`` and
``josepy`` libraries (the ACME client of certbot): this file holds no JWS and
no protocol code of its own, only the decisions around it.

An issuance is two steps, because the challenge is answered on the managed
host in between:

* ``AcmeSession.order(csr)``: finds (or registers) the account, opens an order
  for the names of the CSR and returns what each pending authorization needs
  answered (``challenge_facts``);
* ``AcmeSession.finalize(order_url, csr)``: tells the CA the challenges are
  ready, waits for validation, finalizes with the CSR and returns the chain.

Before that, ``renewal_reason`` says whether the certificate the host serves
needs replacing at all (no ACME traffic, except the ACME Renewal Information
of RFC 9773 when the directory offers it).

The account key and the External Account Binding key only ever live in the
objects of this file; no error message or result contains them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import hashlib
import traceback

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.deps import ec, rsa, x509, ExtensionOID
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError

ACME_IMPORT_ERROR = None
try:
    import josepy as jose
    import requests
    from acme import client as acme_lib
    from acme import errors as acme_errors
    from acme import messages
except ImportError:
    ACME_IMPORT_ERROR = traceback.format_exc()
    jose = requests = acme_lib = acme_errors = messages = None

MINIMUM_ACME_VERSION = '5.0.0'
CHALLENGE_TYPES = ('http-01', 'dns-01')
USER_AGENT = 'wso2si.keystores (acme-python)'


class AcmeError(KeystoreError):
    """The ACME CA refused, could not be reached, or did not validate."""


# ---------------------------------------------------------------- account key

def account_jwk(pem):
    """The account key (PEM text) as a josepy JWK and its signature algorithm."""
    if not pem or not str(pem).strip():
        raise InvalidInputError('the ACME account key is empty: give its PEM content (from Ansible Vault or a credential)')
    key = certs.load_private_key(pem, what='the ACME account key')
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise InvalidInputError('the ACME account key is RSA %d; ACME CAs need RSA 2048 or more' % key.key_size)
        return jose.JWKRSA(key=key), jose.RS256
    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = {'secp256r1': jose.ES256, 'secp384r1': jose.ES384, 'secp521r1': jose.ES512}.get(key.curve.name)
        if alg is None:
            raise InvalidInputError('the ACME account key is on curve %s; use P-256, P-384 or P-521' % key.curve.name)
        return jose.JWKEC(key=key), alg
    raise InvalidInputError('the ACME account key must be an RSA or EC key')


# ---------------------------------------------------------------- renewal (pure)

def ari_cert_id(cert):
    """The certificate's ARI identifier (RFC 9773, section 4.1): base64url of the
    authority key identifier, a dot, base64url of the DER serial number."""
    try:
        aki = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value.key_identifier
    except x509.ExtensionNotFound:
        aki = None
    if not aki:
        return None
    serial = cert.serial_number
    serial_bytes = serial.to_bytes((serial.bit_length() + 8) // 8, 'big', signed=True)

    def b64(data):
        return base64.urlsafe_b64encode(data).decode('ascii').rstrip('=')
    return '%s.%s' % (b64(aki), b64(serial_bytes))


def _csr_names(csr):
    try:
        ext = csr.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    return sorted(certs.format_san(gn) for gn in ext.value)


def renewal_reason(current, csr, renew_before_days, renew_before_percent=0, trusted_roots=(), ari_window=None, now=None):
    """Why the certificate ``current`` (a list of certificates, leaf first, or
    empty) must be replaced by one for ``csr``, or None when it is kept.

    Kept only when it is CA-issued for the CSR's key, subject and names, chains
    to one of ``trusted_roots`` (when given), and is outside every renewal
    window: ``renew_before_days`` before expiry, the last ``renew_before_percent``
    percent of its lifetime, and the ACME Renewal Information window
    (``(start, end)``; renewal from its start, so that a rerun is deterministic).
    """
    now = now or certs.utcnow()
    if not current:
        return 'the host has no certificate yet'
    leaf = current[0]
    if certs.is_self_signed(leaf):
        return 'the host serves a self-signed certificate'
    if not certs.public_keys_equal(leaf.public_key(), csr.public_key()):
        return "the certificate is not for the host's key"
    if leaf.subject != csr.subject or sorted(certs.subject_alt_names(leaf)) != _csr_names(csr):
        return 'the certificate names differ from the requested ones'
    if trusted_roots:
        chain = certs.build_chain(leaf, list(current[1:]) + list(trusted_roots))
        fps = set(certs.fingerprint(r) for r in trusted_roots)
        if not any(certs.fingerprint(c) in fps for c in chain[1:]):
            return 'the certificate does not chain to the ACME CA root (rollout_ca_certificates)'
    start, end = certs.not_before(leaf), certs.not_after(leaf)
    if certs.due_for_renewal(leaf, renew_before_days, now):
        return 'the certificate expires within %d days' % renew_before_days
    if renew_before_percent and (end - now) <= (end - start) * (renew_before_percent / 100.0):
        return 'the certificate is in the last %s%% of its lifetime' % renew_before_percent
    if ari_window is not None and now >= ari_window[0]:
        return 'the ACME CA asks for renewal from %s (ACME Renewal Information)' % certs.iso(ari_window[0])
    return None


def dns01_value(key_authorization):
    """The TXT record value of a dns-01 challenge (RFC 8555, section 8.4)."""
    digest = hashlib.sha256(key_authorization.encode('ascii')).digest()
    return base64.urlsafe_b64encode(digest).decode('ascii').rstrip('=')


# ---------------------------------------------------------------- protocol (through the library)

def _problem(exc):
    """One sentence for a library exception (never the request, which holds no
    key either, but may be long)."""
    if messages is not None and isinstance(exc, messages.Error):
        return exc.detail or exc.description or exc.code or str(exc)
    if requests is not None and isinstance(exc, requests.exceptions.SSLError):
        return 'its TLS certificate is not trusted (give the CA bundle that signs it in rollout_acme_ca_bundle): %s' % exc
    if requests is not None and isinstance(exc, requests.exceptions.RequestException):
        return 'it cannot be reached: %s' % exc
    return str(exc).strip().replace('\n', ' ')


class AcmeSession:
    """An ACME client for one directory and one account key."""

    def __init__(self, directory_url, account_key_pem, ca_bundle=None, timeout=30):
        self.directory_url = directory_url
        self.jwk, alg = account_jwk(account_key_pem)
        verify = ca_bundle if ca_bundle else True
        self.net = acme_lib.ClientNetwork(self.jwk, alg=alg, verify_ssl=verify, user_agent=USER_AGENT, timeout=timeout)
        try:
            self.directory = acme_lib.ClientV2.get_directory(directory_url, self.net)
        except Exception as exc:  # the library raises requests', josepy's and its own errors
            raise AcmeError('The ACME directory %s cannot be used: %s' % (directory_url, _problem(exc))) from None
        self.client = acme_lib.ClientV2(self.directory, self.net)
        self.account_url = None

    # -- account

    def account(self, contact=(), eab_kid=None, eab_hmac_key=None, terms_agreed=False, create=True):
        """Find the account of the key, or register it (with EAB when given)."""
        try:
            self.client.new_account(messages.NewRegistration(only_return_existing=True))
        except acme_errors.ConflictError as exc:
            self.account_url = exc.location
        except messages.Error as exc:
            if exc.code != 'accountDoesNotExist':
                raise AcmeError('The ACME CA refused the account lookup: %s' % _problem(exc)) from None
        except Exception as exc:
            raise AcmeError('The ACME CA refused the account lookup: %s' % _problem(exc)) from None
        if self.account_url is None:
            if not create:
                raise AcmeError('The ACME account of this key does not exist at %s' % self.directory_url)
            if self.directory.meta.external_account_required and not eab_kid:
                raise AcmeError('The ACME CA at %s requires External Account Binding: give its key id and HMAC key'
                                % self.directory_url)
            fields = dict(contact=tuple(contact or ()), terms_of_service_agreed=bool(terms_agreed))
            if eab_kid:
                try:
                    fields['external_account_binding'] = messages.ExternalAccountBinding.from_data(
                        account_public_key=self.jwk.public_key(), kid=eab_kid, hmac_key=eab_hmac_key,
                        directory=self.directory)
                except Exception:
                    raise AcmeError('The External Account Binding HMAC key is not base64url') from None
            try:
                regr = self.client.new_account(messages.NewRegistration(**fields))
                self.account_url = regr.uri
            except acme_errors.ConflictError as exc:  # registered in parallel (another host of the batch)
                self.account_url = exc.location
            except Exception as exc:
                raise AcmeError('The ACME CA refused to register the account: %s' % _problem(exc)) from None
        self.net.account = messages.RegistrationResource(uri=self.account_url, body=messages.Registration())
        return self.account_url

    # -- renewal information

    def ari_window(self, cert):
        """The (start, end) renewal window the CA suggests for ``cert``, or None
        when the directory offers no renewalInfo (or it cannot be read: ARI is
        advisory, RFC 9773 section 4.3)."""
        base = self.directory.to_partial_json().get('renewalInfo')
        cert_id = ari_cert_id(cert)
        if not base or not cert_id:
            return None
        try:
            resp = self.net.get('%s/%s' % (str(base).rstrip('/'), cert_id), content_type='application/json')
            info = messages.RenewalInfo.from_json(resp.json())
            window = info.suggested_window
            return window.start, window.end  # pylint: disable=no-member
        except Exception:
            return None

    # -- order

    def order(self, csr_pem, challenge_type='http-01'):
        """Open an order for the CSR; returns {order_url, challenges}."""
        try:
            orderr = self.client.new_order(csr_pem.encode('ascii') if isinstance(csr_pem, str) else csr_pem)
        except Exception as exc:
            raise AcmeError('The ACME CA refused the order: %s' % _problem(exc)) from None
        return dict(order_url=orderr.uri, challenges=self.challenge_facts(orderr, challenge_type))

    def challenge_facts(self, orderr, challenge_type):
        """What each pending authorization of the order needs answered."""
        out = []
        for authzr in orderr.authorizations:
            body = authzr.body
            if body.status == messages.STATUS_VALID:
                continue
            ident = body.identifier.value
            challb = next((c for c in body.challenges if c.chall.typ == challenge_type), None)
            if challb is None:
                offered = ', '.join(sorted(c.chall.typ for c in body.challenges)) or 'none'
                raise AcmeError('The ACME CA offers no %s challenge for %s (it offers: %s)'
                                % (challenge_type, ident, offered))
            key_authz = challb.chall.key_authorization(self.jwk)
            fact = dict(type=challenge_type, identifier=ident, identifier_type=body.identifier.typ.name,
                        url=challb.uri, token=challb.chall.encode('token'), key_authorization=key_authz)
            if challenge_type == 'http-01':
                fact['path'] = '/.well-known/acme-challenge/' + fact['token']
            elif challenge_type == 'dns-01':
                fact['record'] = '_acme-challenge.' + ident.lstrip('*.')
                fact['value'] = dns01_value(key_authz)
            out.append(fact)
        return out

    def _order_resource(self, order_url, csr_pem):
        # the library has no public POST-as-GET (RFC 8555, section 6.3) to read an order again
        get = self.client._post_as_get  # pylint: disable=protected-access
        body = messages.Order.from_json(get(order_url).json())
        authzs = [messages.AuthorizationResource(uri=u, body=messages.Authorization.from_json(get(u).json()))
                  for u in body.authorizations]  # pylint: disable=not-an-iterable
        return messages.OrderResource(body=body, uri=order_url, authorizations=authzs,
                                      csr_pem=csr_pem.encode('ascii') if isinstance(csr_pem, str) else csr_pem)

    def finalize(self, order_url, csr_pem, challenge_type='http-01', timeout=90):
        """Answer the order's challenges, wait for validation, finalize; returns
        the issued chain as a list of PEM certificates, leaf first."""
        try:
            orderr = self._order_resource(order_url, csr_pem)
            for authzr in orderr.authorizations:
                if authzr.body.status == messages.STATUS_VALID:
                    continue
                challb = next(c for c in authzr.body.challenges if c.chall.typ == challenge_type)
                if challb.status == messages.STATUS_PENDING:
                    self.client.answer_challenge(challb, challb.chall.response(self.jwk))
        except (AcmeError, StopIteration):
            raise AcmeError('The ACME order %s has no pending %s challenge to answer' % (order_url, challenge_type)) from None
        except Exception as exc:
            raise AcmeError('The ACME CA refused the challenge answer: %s' % _problem(exc)) from None
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=timeout)
        try:
            orderr = self.client.poll_authorizations(orderr, deadline)
        except acme_errors.ValidationError as exc:
            raise AcmeError(self._validation_sentence(exc, challenge_type)) from None
        except acme_errors.TimeoutError:
            raise AcmeError('The ACME CA did not validate the %s challenges within %d s' % (challenge_type, timeout)) from None
        except Exception as exc:
            raise AcmeError('The ACME CA did not validate the challenges: %s' % _problem(exc)) from None
        try:
            orderr = self.client.finalize_order(orderr, deadline)
        except Exception as exc:
            raise AcmeError('The ACME CA refused to issue the certificate: %s' % _problem(exc)) from None
        chain = certs.load_certificates(orderr.fullchain_pem.encode('ascii'), what='the issued chain')
        return [certs.cert_to_pem(c) for c in chain]

    @staticmethod
    def _validation_sentence(exc, challenge_type):
        parts = []
        for authzr in exc.failed_authzrs:
            ident = authzr.body.identifier.value
            errs = [c.error for c in authzr.body.challenges if c.chall.typ == challenge_type and c.error]
            parts.append('%s (%s)' % (ident, _problem(errs[0]) if errs else 'invalid'))
        return 'The ACME CA could not validate the %s challenge for %s' % (challenge_type, '; '.join(parts))
