# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The one dependency gate: what the managed host needs, and the install hint.

Keep MINIMUM_* in sync with plugins/doc_fragments/store.py (requirements) and
requirements.txt.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib
import importlib.util
import sys
import traceback

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import UnsupportedContentError

MINIMUM_CRYPTOGRAPHY_VERSION = '41.0.0'
MINIMUM_PYJKS_VERSION = '20.0.0'
# PKCS#12 containers are read and written with pyasn1 and pyasn1-modules (pkcs12_container.py),
# which pyjks installs; they are imported when a PKCS#12 store is first opened

CRYPTOGRAPHY_IMPORT_ERROR = None
PYJKS_IMPORT_ERROR = None
CRYPTOGRAPHY_VERSION = None

# The names below are imported here, once, for the other module_utils to use.
# pylint: disable=unused-import
try:
    import cryptography
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
    CRYPTOGRAPHY_VERSION = cryptography.__version__
except ImportError:
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
    x509 = hashes = serialization = ec = ed25519 = padding = rsa = None
    ExtendedKeyUsageOID = ExtensionOID = NameOID = None

    class InvalidSignature(Exception):  # type: ignore[no-redef]
        pass

    class UnsupportedAlgorithm(Exception):  # type: ignore[no-redef]
        pass


def load_der_pkcs7_certificates(data):
    """cryptography's ``pkcs7.load_der_pkcs7_certificates``, imported on first use:
    cryptography's pkcs7 module imports the email package (5 ms and more of every
    module run), and PKCS#7 input is rare."""
    from cryptography.hazmat.primitives.serialization import pkcs7
    return pkcs7.load_der_pkcs7_certificates(data)


def _import_pyjks():
    """pyjks, with its JKS support loaded now and its BKS/UBER support only when used.

    pyjks's package ``__init__`` also imports its BKS/UBER module, and with it
    pycryptodomex, which parses C declarations with cffi and pycparser when it
    loads: about 30 ms, for store types this collection never opens. When
    nothing has imported pyjks yet, the package is registered without running
    its ``__init__``, pyjks's JKS module is loaded, and its names are put on
    the package as the ``__init__`` would. The first access of any other name
    (``jks.BksKeyStore``) runs the real ``__init__``, so other code that
    imports ``jks`` still sees all of pyjks. Anything unexpected falls back to
    a plain ``import jks``.
    """
    if 'jks' not in sys.modules:
        try:
            spec = importlib.util.find_spec('jks')
            if spec is not None and spec.submodule_search_locations is not None:
                package = importlib.util.module_from_spec(spec)
                sys.modules['jks'] = package
                try:
                    jks_module = importlib.import_module('jks.jks')
                    for name, value in vars(jks_module).items():
                        if not name.startswith('_'):
                            setattr(package, name, value)
                    package.__version__ = jks_module.__version__
                    package.__version_info__ = jks_module.__version_info__

                    def __getattr__(name):
                        # the rest of pyjks: run the package's own __init__ once
                        if name.startswith('__'):
                            raise AttributeError(name)
                        del package.__getattr__
                        spec.loader.exec_module(package)
                        return getattr(package, name)

                    package.__getattr__ = __getattr__
                    return package
                except Exception:
                    for name in [n for n in sys.modules if n == 'jks' or n.startswith('jks.')]:
                        del sys.modules[name]
        except (ImportError, ValueError, AttributeError):
            pass
    import jks as package  # pyjks
    return package


def pyjks():
    """pyjks, imported on first use: only writing a JKS store needs it.

    Its import (pyasn1, its ASN.1 modules and javaobj) costs about 20 ms, more
    than a module run that only reads a store spends on everything else;
    keystore.py reads JKS itself. ``check_dependencies`` has already made sure
    pyjks is installed.
    """
    try:
        return _import_pyjks()
    except ImportError as exc:
        raise UnsupportedContentError('writing a JKS store needs pyjks >= %s on the managed host, and it cannot be '
                                      'imported: %s' % (MINIMUM_PYJKS_VERSION, exc)) from exc


try:
    if importlib.util.find_spec('jks') is None:
        raise ImportError('No module named jks')
except (ImportError, ValueError):
    PYJKS_IMPORT_ERROR = traceback.format_exc()
# pylint: enable=unused-import


def _version_tuple(text):
    out = []
    for part in str(text).split('.'):
        digits = ''.join(c for c in part if c.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


def cryptography_at_least(version):
    return CRYPTOGRAPHY_VERSION is not None and _version_tuple(CRYPTOGRAPHY_VERSION) >= _version_tuple(version)


def check_dependencies(module):
    """Fail the module with the install hint when a dependency is missing or too old."""
    from ansible.module_utils.basic import missing_required_lib
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib('cryptography >= %s' % MINIMUM_CRYPTOGRAPHY_VERSION),
                         exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if not cryptography_at_least(MINIMUM_CRYPTOGRAPHY_VERSION):
        module.fail_json(msg='cryptography %s is too old: this module needs cryptography >= %s on the managed host'
                         % (CRYPTOGRAPHY_VERSION, MINIMUM_CRYPTOGRAPHY_VERSION))
    if PYJKS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib('pyjks >= %s' % MINIMUM_PYJKS_VERSION),
                         exception=PYJKS_IMPORT_ERROR)
