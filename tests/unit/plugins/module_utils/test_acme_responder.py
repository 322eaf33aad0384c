# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import socket
import sys
import urllib.error
import urllib.request

import pytest

from ansible_collections.wso2si.keystores.plugins.module_utils import acme_responder
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'), reason='the responder reads /proc')

PATH = '/.well-known/acme-challenge/tok-1'
CHALLENGES = [{'path': PATH, 'key_authorization': 'tok-1.thumb'}]


def free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def get(port, path):
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path), timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ''


def listening(port):
    sock = socket.socket()
    try:
        return sock.connect_ex(('127.0.0.1', port)) == 0
    finally:
        sock.close()


def test_the_responder_serves_only_its_tokens_and_stop_frees_the_port():
    port = free_port()
    pid = acme_responder.start('127.0.0.1', port, CHALLENGES)
    try:
        assert acme_responder.is_ours(pid)
        assert get(port, PATH) == (200, 'tok-1.thumb')
        assert get(port, '/.well-known/acme-challenge/other')[0] == 404
        assert get(port, '/etc/passwd')[0] == 404
    finally:
        assert acme_responder.stop(pid, '127.0.0.1', port) is True
    assert not acme_responder.is_ours(pid)
    assert not listening(port)
    # and the port can be taken again at once (the validation's connections do not hold it)
    pid = acme_responder.start('127.0.0.1', port, CHALLENGES)
    acme_responder.stop(pid, '127.0.0.1', port)


def test_the_responder_is_known_as_ours_as_soon_as_start_returns():
    # /proc shows a new process's argument list a moment after exec; start waits for it
    for dummy in range(20):
        port = free_port()
        pid = acme_responder.start('127.0.0.1', port, CHALLENGES)
        try:
            assert acme_responder.is_ours(pid)
        finally:
            assert acme_responder.stop(pid, '127.0.0.1', port) is True


def test_a_taken_port_is_refused_naming_the_process():
    holder = socket.socket()
    holder.bind(('127.0.0.1', 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        with pytest.raises(acme_responder.ResponderError) as err:
            acme_responder.start('127.0.0.1', port, CHALLENGES)
    finally:
        holder.close()
    text = str(err.value)
    assert text.startswith('The HTTP-01 responder cannot listen on 127.0.0.1:%d: the port is taken by pid %d ('
                           % (port, os.getpid()))
    assert '\n' not in text


def test_port_owner_is_none_for_a_free_port():
    assert acme_responder.port_owner(free_port()) is None


def test_stop_leaves_a_process_that_is_not_a_responder_alone():
    # this test's own pid: not one of ours, so nothing is signalled and no port is waited for
    assert acme_responder.stop(os.getpid(), '127.0.0.1', free_port()) is False
    assert acme_responder.stop(None, '127.0.0.1', free_port()) is False


@pytest.mark.parametrize('challenges', [
    [],
    [{'path': '/elsewhere/tok', 'key_authorization': 'x'}],
    [{'path': '/.well-known/acme-challenge/a/b', 'key_authorization': 'x'}],
    [{'path': PATH}],
])
def test_bad_challenges_are_refused_before_anything_starts(challenges):
    with pytest.raises(InvalidInputError):
        acme_responder.start('127.0.0.1', free_port(), challenges)


def test_the_responder_exits_by_itself_after_its_lifetime():
    import time
    port = free_port()
    pid = acme_responder.start('127.0.0.1', port, CHALLENGES, lifetime=0.5)
    deadline = time.time() + 30
    while acme_responder.is_ours(pid) and time.time() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except OSError:
            pass
        time.sleep(0.1)
    assert not acme_responder.is_ours(pid)
