# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The short-lived HTTP-01 responder on the managed host.

``start`` binds the port itself (so that a taken port is reported here, with
the program holding it when /proc says so), then hands the listening socket to
a detached child Python process that serves only the given token paths, and
exits by itself after ``lifetime`` seconds should ``stop`` never come.
``stop`` ends that child (only a process that is one of ours) and waits until
the port is free again.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError, KeystoreError

MARKER = 'wso2si-acme-responder'

# The child: serves GET <path> -> key authorization for the given paths, 404
# for everything else, no logging; exits after its lifetime.
SERVER = r'''
import json, socket, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
fd, family, lifetime = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
answers = json.loads(sys.stdin.read())
sys.stdin.close()
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = answers.get(self.path.split('?', 1)[0])
        data = (body or 'not found').encode('ascii')
        self.send_response(200 if body is not None else 404)
        self.send_header('Content-Type', 'text/plain' if body is not None else 'text/plain; charset=ascii')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_HEAD = do_GET
    def log_message(self, *args):
        pass
class Server(HTTPServer):
    def server_bind(self):
        pass
    def server_activate(self):
        pass
sock = socket.socket(family, socket.SOCK_STREAM, 0, fd)
server = Server(sock.getsockname()[:2], Handler, bind_and_activate=False)
server.socket = sock
threading.Timer(lifetime, server.shutdown).start()
server.serve_forever(poll_interval=0.2)
'''


class ResponderError(KeystoreError):
    """The responder cannot start or stop."""


def _listeners(port):
    """{inode: local address} of the listening TCP sockets on ``port`` (/proc/net/tcp, tcp6)."""
    found = {}
    for name in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(name) as f:
                lines = f.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != '0A':  # LISTEN
                continue
            address, hexport = fields[1].rsplit(':', 1)
            if int(hexport, 16) == port:
                found[fields[9]] = address
    return found


def port_owner(port, proc='/proc'):
    """'pid N (program)' of the processes listening on ``port``, as far as
    /proc lets this user read them, or None."""
    inodes = set(_listeners(port))
    if not inodes:
        return None
    owners = []
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        pids = []
    for pid in pids:
        fd_dir = os.path.join(proc, pid, 'fd')
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        links = []
        for fd in fds:
            try:
                links.append(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:  # closed meanwhile
                continue
        if any(link.startswith('socket:[') and link[8:-1] in inodes for link in links):
            try:
                with open(os.path.join(proc, pid, 'comm')) as f:
                    program = f.read().strip()
            except (IOError, OSError):
                program = '?'
            owners.append('pid %s (%s)' % (pid, program))
    return ', '.join(sorted(owners)) or None


def _family(address):
    return socket.AF_INET6 if ':' in (address or '') else socket.AF_INET


def bind(address, port):
    """A listening socket on address:port, or a ResponderError naming who holds it."""
    sock = socket.socket(_family(address), socket.SOCK_STREAM)
    # a LISTEN socket still refuses the bind; connections of the last run in TIME_WAIT do not
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address or '', port))
        sock.listen(16)
        return sock
    except OSError as exc:
        sock.close()
        where = '%s:%d' % (address or '*', port)
        if exc.errno == errno.EADDRINUSE:
            owner = port_owner(port)
            raise ResponderError('The HTTP-01 responder cannot listen on %s: the port is taken by %s'
                                 % (where, owner or 'another process (not readable by this user)')) from None
        if exc.errno == errno.EACCES:
            raise ResponderError('The HTTP-01 responder cannot listen on %s: a port below 1024 needs root '
                                 '(become) or CAP_NET_BIND_SERVICE' % where) from None
        raise ResponderError('The HTTP-01 responder cannot listen on %s: %s' % (where, exc.strerror)) from None


def check_challenges(challenges):
    """{path: key authorization} of the http-01 challenges, validated."""
    answers = {}
    for item in challenges or []:
        path, value = item.get('path'), item.get('key_authorization')
        if not path or not str(path).startswith('/.well-known/acme-challenge/') or '/' in str(path)[28:] or not value:
            raise InvalidInputError('each challenge needs a path under /.well-known/acme-challenge/ and a key_authorization')
        answers[str(path)] = str(value)
    if not answers:
        raise InvalidInputError('the responder has no challenge to answer')
    return answers


def start(address, port, challenges, lifetime=300, python=None):
    """Start the responder; returns its pid."""
    answers = check_challenges(challenges)
    sock = bind(address, port)
    try:
        child = subprocess.Popen(
            [python or sys.executable, '-c', SERVER, str(sock.fileno()), str(int(sock.family)), str(lifetime), MARKER],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=[sock.fileno()], start_new_session=True, close_fds=True)
        child.stdin.write(json.dumps(answers).encode('ascii'))
        child.stdin.close()
    finally:
        sock.close()
    # Popen returns once the child has called exec, but /proc may show its new
    # argument list only a moment later: wait for it, so that is_ours and stop
    # know the responder from the start.
    deadline = time.time() + 10.0
    while not is_ours(child.pid):
        if child.poll() is not None:
            raise ResponderError('The HTTP-01 responder on %s:%d ended as it started (exit status %s)'
                                 % (address or '*', port, child.returncode))
        if time.time() >= deadline:
            break
        time.sleep(0.01)
    return child.pid


def is_ours(pid, proc='/proc'):
    try:
        with open(os.path.join(proc, str(pid), 'cmdline'), 'rb') as f:
            return MARKER.encode('ascii') in f.read().split(b'\0')
    except (IOError, OSError):
        return False


def stop(pid, address, port, wait=10.0):
    """End the responder ``pid`` (when it is one of ours) and wait for its
    port to be free; returns True when a responder was ended."""
    ended = False
    if pid and is_ours(pid):
        try:
            os.kill(int(pid), signal.SIGTERM)
            ended = True
        except OSError:
            pass
        deadline = time.time() + wait
        while is_ours(pid) and time.time() < deadline:
            try:
                os.waitpid(int(pid), os.WNOHANG)
            except OSError:
                pass
            time.sleep(0.05)
        if is_ours(pid):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    if not ended:
        return False
    deadline = time.time() + wait
    while True:
        try:
            bind(address, port).close()
            return ended
        except ResponderError:
            if time.time() >= deadline:
                raise
            time.sleep(0.05)
