# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Pinned peers (issue 16 item 5): pin spellings, endpoints, the served chain
checked against the pin, one sentence for every failure."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import socket
import ssl
import threading

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import peers
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError

HEX = hashlib.sha256(b'pin').hexdigest()
CANONICAL = ':'.join(HEX[i:i + 2] for i in range(0, 64, 2)).upper()


def make_chain():
    """[leaf (CN=localhost), intermediate, root], with their keys."""
    keys = [certs.generate_private_key('ec') for dummy in range(3)]
    names = ['localhost', 'peer issuing CA', 'peer root CA']
    now = certs.utcnow()
    chain = [None, None, None]
    for level in (2, 1, 0):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[level])])
        issuer = chain[level + 1].subject if level < 2 else name
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
                   .public_key(keys[level].public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30)))
        if level:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(u'localhost')]), critical=False)
        chain[level] = builder.sign(keys[level + 1] if level < 2 else keys[level], hashes.SHA256())
    return chain, keys


@pytest.mark.parametrize('spelling', [
    HEX, HEX.upper(), CANONICAL, CANONICAL.lower(), ' '.join(CANONICAL.split(':')),
    'sha256:' + HEX, 'SHA256 Fingerprint=' + CANONICAL, 'SHA-256: ' + CANONICAL, '  %s\n' % HEX,
])
def test_pin_spellings_are_one_fingerprint(spelling):
    assert peers.parse_pin(spelling) == CANONICAL
    assert peers.pins_equal(spelling, HEX)


@pytest.mark.parametrize('bad', ['', '   ', HEX[:-2], HEX + 'ab', HEX[:-1] + 'g', 'sha1:' + HEX[:40],
                                 'sha256//' + 'A' * 43 + '=', None, 42])
def test_a_bad_pin_is_one_sentence_naming_the_alias(bad):
    with pytest.raises(InvalidInputError) as exc:
        peers.parse_pin(bad, 'partner')
    assert "alias 'partner'" in str(exc.value) and '\n' not in str(exc.value)


def test_different_pins_differ():
    other = hashlib.sha256(b'other').hexdigest()
    assert not peers.pins_equal(HEX, other)


@pytest.mark.parametrize('text, expected', [
    ('broker.example:9443', ('broker.example', 9443)),
    ('127.0.0.1:8443', ('127.0.0.1', 8443)),
    ('[::1]:9443', ('::1', 9443)),
    ('broker.example', ('broker.example', 443)),
    ('https://broker.example:9443/', ('broker.example', 9443)),
])
def test_endpoints(text, expected):
    assert peers.parse_endpoint(text) == expected


@pytest.mark.parametrize('text', ['', 'host:port', 'host:0', 'host:70000', 'a b:1', 'http://x:1', '::1:9443'])
def test_a_bad_endpoint_is_one_sentence(text):
    with pytest.raises(InvalidInputError) as exc:
        peers.parse_endpoint(text, 'partner')
    assert "alias 'partner'" in str(exc.value)


def fake_fetch(chain, seen):
    def fetch(host, port, timeout):
        seen.append((host, port, timeout))
        return chain
    return fetch


def test_the_pinned_certificate_of_the_chain_is_the_one_trusted():
    chain, dummy = make_chain()
    for cert in chain:
        seen = []
        out = peers.resolve([{'alias': 'p', 'url': 'peer.example:9443', 'sha256': certs.fingerprint(cert).lower(),
                              'timeout': 3.0, 'content': None, 'path': None}], fetch=fake_fetch(chain, seen))
        assert seen == [('peer.example', 9443, 3.0)]
        assert certs.load_certificates(out[0]['content']) == [cert]
        assert set(out[0]) == {'alias', 'content', 'path'}


def test_a_changed_pin_names_alias_endpoint_expected_and_served():
    chain, dummy = make_chain()
    with pytest.raises(peers.PinMismatchError) as exc:
        peers.resolve([{'alias': 'p', 'url': 'peer.example:9443', 'sha256': HEX}], fetch=fake_fetch(chain, []))
    msg = str(exc.value)
    assert msg.startswith("alias 'p': peer.example:9443 serves no certificate with the pinned SHA-256 fingerprint %s"
                          % CANONICAL), msg
    for cert in chain:
        assert certs.fingerprint(cert) in msg
    assert msg.endswith('nothing was written') and '\n' not in msg


def test_items_without_url_pass_and_inconsistent_items_are_refused():
    plain = [{'alias': 'a', 'content': 'PEM', 'path': None, 'timeout': 10.0}]
    assert peers.resolve(plain) == [{'alias': 'a', 'content': 'PEM', 'path': None}]
    never = fake_fetch(None, [])
    for item, words in (({'alias': 'a', 'url': 'h:1'}, 'needs its sha256 pin'),
                        ({'alias': 'a', 'url': 'h:1', 'sha256': HEX, 'path': '/x'}, 'only one of them'),
                        ({'alias': 'a', 'content': 'PEM', 'sha256': HEX}, 'give url too'),
                        ({'alias': 'a', 'url': 'h:1', 'sha256': HEX, 'timeout': 0}, 'more than 0')):
        with pytest.raises(InvalidInputError) as exc:
            peers.resolve([item], fetch=never)
        assert words in str(exc.value)


def test_state_absent_uses_the_alias_and_fetches_nothing():
    seen = []
    out = peers.resolve([{'alias': 'p', 'url': 'h:1', 'sha256': HEX}], state='absent', fetch=fake_fetch([], seen))
    assert out == [{'alias': 'p'}] and seen == []


def test_unreachable_is_one_sentence():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(peers.PeerUnreachableError) as exc:
        peers.resolve([{'alias': 'p', 'url': '127.0.0.1:%d' % port, 'sha256': HEX, 'timeout': 5}])
    msg = str(exc.value)
    assert msg.startswith("alias 'p': cannot connect to 127.0.0.1:%d" % port), msg
    assert msg.endswith('nothing was written') and '\n' not in msg


class ChainServer(object):
    """A TLS server on 127.0.0.1 serving leaf + intermediate, one handshake per connection; records SNI."""

    def __init__(self, tmp_path, chain, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert_file = tmp_path / 'chain.pem'
        key_file = tmp_path / 'key.pem'
        cert_file.write_text(''.join(certs.cert_to_pem(c) for c in chain))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.ctx.load_cert_chain(str(cert_file), str(key_file))
        self.names = []
        self.ctx.sni_callback = lambda sslobj, name, ctx: self.names.append(name)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve)
        self.thread.daemon = True
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                return
            conn.settimeout(10)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    def close(self):
        self.sock.close()


def test_the_served_chain_is_read_whole_with_sni(tmp_path):
    chain, keys = make_chain()
    server = ChainServer(tmp_path, chain[:2], keys[0])
    try:
        got = peers.fetch_chain('localhost', server.port, timeout=10)
        assert got[0] == chain[0]
        if hasattr(ssl.SSLSocket, 'get_unverified_chain') or hasattr(getattr(ssl, '_ssl')._SSLSocket,
                                                                     'get_unverified_chain'):
            assert got == chain[:2]
        assert server.names == ['localhost']
        # the intermediate's pin picks the intermediate
        out = peers.resolve([{'alias': 'ca', 'url': 'localhost:%d' % server.port,
                              'sha256': certs.fingerprint(chain[1]).replace(':', '')}])
        assert certs.load_certificates(out[0]['content']) == [chain[1]]
        # an IP address: no SNI
        peers.fetch_chain('127.0.0.1', server.port, timeout=10)
        assert server.names == ['localhost', 'localhost', None]
    finally:
        server.close()


def test_a_plain_tcp_server_is_a_failed_handshake_in_one_sentence():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    sock.listen(1)
    port = sock.getsockname()[1]

    def answer():
        conn, dummy = sock.accept()
        conn.sendall(b'HTTP/1.0 400 Bad Request\r\n\r\n')
        conn.close()
    thread = threading.Thread(target=answer)
    thread.daemon = True
    thread.start()
    try:
        with pytest.raises(peers.PeerUnreachableError) as exc:
            peers.fetch_chain('127.0.0.1', port, timeout=10)
        assert str(exc.value).startswith('the TLS handshake with 127.0.0.1:%d failed' % port) or \
            str(exc.value).startswith('cannot connect to 127.0.0.1:%d' % port), str(exc.value)
    finally:
        sock.close()
