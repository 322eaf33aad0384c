# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Offline stand-in for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip in every virtual environment it creates by running
``~/.ansible/test/cache/get_pip_<version>.py`` and downloads that script from a
host this machine cannot reach when the file is missing.  This file takes its
place:

``python3 tests/utils/get_pip_standin.py --install``
    (run by ``make``) copies this file to the cache path that the installed
    ansible-test looks for, with the pip settings of the calling environment
    (``PIP_*`` variables and proxies) written into the copy.

``python3 get_pip_<version>.py [pip options] pip==X [--no-setuptools] [--no-wheel]``
    (run by ansible-test, in the environment it strips down to PATH, HOME and
    LC_ALL) installs pip with ``ensurepip``, gives the virtual environment a
    site ``pip.conf`` with the saved settings, so later ``pip install`` calls
    that ansible-test makes in the stripped environment still reach the package
    index, and then runs ``python -m pip install`` with the given arguments.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

# Replaced in the installed copy by --install; None here.
SAVED_ENV = None  # SAVED_ENV_MARKER

PROXY_VARS = ('https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY')
EXTRA_VARS = ('SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE')


def _captured_env():
    env = {}
    for key, value in os.environ.items():
        if key.startswith('PIP_') and key != 'PIP_CONFIG_FILE':
            env[key] = value
        elif key in PROXY_VARS or key in EXTRA_VARS:
            env[key] = value
    return env


def _ansible_test_pip_version():
    import importlib.util

    spec = importlib.util.find_spec('ansible_test')
    if spec is None or not spec.submodule_search_locations:
        sys.exit('get_pip_standin: ansible_test is not importable with %s' % sys.executable)
    root = list(spec.submodule_search_locations)[0]
    path = os.path.join(root, '_internal', 'python_requirements.py')
    with open(path, encoding='utf-8') as handle:
        match = re.search(r"""\bpip=['"]([0-9][0-9.]*)['"]""", handle.read())
    if not match:
        sys.exit('get_pip_standin: cannot find the pip version in %s' % path)
    return match.group(1)


def install():
    version = _ansible_test_pip_version()
    cache_dir = os.path.expanduser('~/.ansible/test/cache')
    target = os.path.join(cache_dir, 'get_pip_%s.py' % version.replace('.', '_'))
    with open(os.path.abspath(__file__), encoding='utf-8') as handle:
        source = handle.read()
    line = 'SAVED_ENV = None  # SAVED_ENV_MARKER'
    if line not in source:
        sys.exit('get_pip_standin: marker line missing')
    source = source.replace(line, 'SAVED_ENV = %r  # SAVED_ENV_MARKER' % (dict(sorted(_captured_env().items())),), 1)
    os.makedirs(cache_dir, exist_ok=True)
    current = None
    if os.path.exists(target):
        with open(target, encoding='utf-8') as handle:
            current = handle.read()
    if current != source:
        tmp = target + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as handle:
            handle.write(source)
        os.replace(tmp, target)
        print('get_pip_standin: installed %s' % target)


def _site_pip_conf(saved):
    """Write the saved pip settings as the venv's site configuration."""
    if sys.prefix == getattr(sys, 'base_prefix', sys.prefix):
        return  # not a virtual environment: leave the interpreter alone
    lines = ['[global]']
    for key in sorted(saved):
        if key.startswith('PIP_') and key not in ('PIP_BREAK_SYSTEM_PACKAGES', 'PIP_CONSTRAINT', 'PIP_REQUIREMENT'):
            lines.append('%s = %s' % (key[4:].lower().replace('_', '-'), saved[key]))
    proxy = saved.get('https_proxy') or saved.get('HTTPS_PROXY')
    if proxy and 'PIP_PROXY' not in saved:
        lines.append('proxy = %s' % proxy)
    if len(lines) == 1:
        return
    with open(os.path.join(sys.prefix, 'pip.conf'), 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines) + '\n')


def bootstrap(argv):
    saved = SAVED_ENV or {}
    env = dict(os.environ)
    # The variables ansible-test stripped come back, but never over ones it set.
    for key, value in saved.items():
        env.setdefault(key, value)
    # A PIP_CONFIG_FILE (os.devnull in particular) would hide the machine's pip.conf.
    env.pop('PIP_CONFIG_FILE', None)
    _site_pip_conf(saved)

    args = list(argv)
    want_setuptools = '--no-setuptools' not in args
    want_wheel = '--no-wheel' not in args
    args = [a for a in args if a not in ('--no-setuptools', '--no-wheel')]

    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'], env=env,
                          stdout=subprocess.DEVNULL)
    packages = []
    if want_setuptools:
        packages.append('setuptools')
    if want_wheel:
        packages.append('wheel')
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args + packages, env=env)
    if not want_setuptools:
        # get-pip would not have installed it; ensurepip on Python < 3.12 does.
        subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '-y', '-q', 'setuptools'], env=env,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    if sys.argv[1:] == ['--install']:
        install()
    else:
        bootstrap(sys.argv[1:])


if __name__ == '__main__':
    main()
