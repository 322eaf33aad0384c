# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Run tests/java/TlsCheck.java (the JDK TLS checker) with a cached compile.

    python3 tests/utils/tls_check.py selftest --keystore P [--storetype T] --truststore P [--tstype T] [--hostname N]
    python3 tests/utils/tls_check.py connect --host H --port N --truststore P [--tstype T] [--hostname N]
    python3 tests/utils/tls_check.py serve --keystore P [--storetype T] [--port N[,N...]] [--count K] [--background]
    python3 tests/utils/tls_check.py --compile-only

Passwords come from the environment only: KS_PASSWORD (keystore, and its key)
and TS_PASSWORD (truststore).  From Ansible:

    - ansible.builtin.command:
        argv: [python3, "{{ tls_check_script }}", selftest, --keystore, "{{ ks }}", --truststore, "{{ ts }}"]
      environment:
        KS_PASSWORD: "{{ ks_password }}"
        TS_PASSWORD: "{{ ts_password }}"
      no_log: false  # the passwords are not in argv, so the result is safe to show

The class is compiled once per source version into
$TLS_CHECK_CACHE (default ~/.cache/wso2si-keystores/tlscheck/<sha>); a JVM
start is then about 0.25 s instead of 0.9 s for a source launch.  Without
javac the source is launched directly.

``serve --background`` starts the server detached, waits for it to listen and
prints ``LISTENING <port>[,<port>...] <pid>``: one JVM serves every port given (use --count so
it ends by itself, or kill the pid).  The exit status and output are TlsCheck's: 0 and ``OK <sha256>
<subject>``; 1 handshake/verification failure, 2 usage, 3 store unusable, each
with one ``FAIL <reason>`` line on stderr.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, '..', 'java', 'TlsCheck.java'))
JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto']


def _cache_root():
    env = os.environ.get('TLS_CHECK_CACHE')
    if env:
        return env
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'wso2si-keystores', 'tlscheck')


def _java():
    java = shutil.which('java')
    if not java:
        sys.stderr.write('FAIL java is not installed (need a JDK 11+)\n')
        sys.exit(2)
    return java


def compiled_classpath():
    """Directory holding TlsCheck.class for the current source, or None without javac."""
    with open(SOURCE, 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    target = os.path.join(_cache_root(), digest)
    if os.path.exists(os.path.join(target, 'TlsCheck.class')):
        return target
    javac = shutil.which('javac')
    if not javac:
        return None
    os.makedirs(os.path.dirname(target), exist_ok=True)
    work = tempfile.mkdtemp(prefix='.build-', dir=os.path.dirname(target))
    try:
        subprocess.run([javac, '-nowarn', '-d', work, SOURCE], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            os.rename(work, target)  # atomic; a concurrent build may win
        except OSError:
            if not os.path.exists(os.path.join(target, 'TlsCheck.class')):
                raise
    except subprocess.CalledProcessError as exc:
        sys.stderr.write('FAIL javac failed: %s\n' % exc.stderr.decode('utf-8', 'replace').strip())
        sys.exit(2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def java_command(args):
    classpath = compiled_classpath()
    if classpath:
        return [_java()] + JVM_FLAGS + ['-cp', classpath, 'TlsCheck'] + list(args)
    return [_java()] + JVM_FLAGS + [SOURCE] + list(args)


def serve_background(args, timeout=30.0):
    """Start the server detached; its output goes to a temporary file that is read until
    it listens (or fails) and then removed (the server's later lines are not kept)."""
    log_fd, log_path = tempfile.mkstemp(prefix='tlscheck-serve-', suffix='.log')
    try:
        with os.fdopen(log_fd, 'wb') as log:
            proc = subprocess.Popen(java_command(args), stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(log_path, encoding='utf-8', errors='replace') as handle:
                text = handle.read()
            for line in text.splitlines():
                if line.startswith('LISTENING '):
                    print('%s %d' % (line.strip(), proc.pid))
                    return 0
                if line.startswith('FAIL '):
                    sys.stderr.write(line + '\n')
                    proc.wait()
                    return proc.returncode or 1
            if proc.poll() is not None:
                sys.stderr.write('FAIL server exited with status %d: %s\n' % (proc.returncode, text.strip()))
                return proc.returncode or 1
            time.sleep(0.05)
        proc.kill()
        sys.stderr.write('FAIL server did not listen within %.0f s\n' % timeout)
        return 1
    finally:
        os.unlink(log_path)


def main(argv):
    if argv == ['--compile-only']:
        print(compiled_classpath() or 'javac not found: source launch will be used')
        return 0
    if not argv or argv[0] in ('-h', '--help'):
        print(__doc__)
        return 0 if argv else 2
    if argv[0] == 'serve' and '--background' in argv:
        args = [a for a in argv if a != '--background']
        return serve_background(args)
    command = java_command(argv)
    sys.stdout.flush()
    os.execv(command[0], command)
    return 1  # not reached


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
