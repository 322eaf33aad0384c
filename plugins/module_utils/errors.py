# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The one error root of the collection.

Every loader translates library exceptions into one of these at the boundary
(``raise ... from exc``); every module's ``main()`` turns them into one plain
sentence with ``fail_json(msg=str(exc))``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class KeystoreError(Exception):
    """Root of every error the collection reports to the user."""


class WrongPasswordError(KeystoreError):
    """The store password does not open the store."""


class WrongKeyPasswordError(KeystoreError):
    """The key password does not decrypt a key entry."""


class CorruptKeystoreError(KeystoreError):
    """The file is not a keystore, or it is damaged."""


class KeyMismatchError(KeystoreError):
    """A private key and a certificate do not belong together."""


class UnsupportedContentError(KeystoreError):
    """The content is valid but not something the collection can handle."""


class InvalidInputError(KeystoreError):
    """An option value or an input file is malformed."""


class ChainError(KeystoreError):
    """A certificate chain is incomplete, broken, untrusted or out of date."""


class ConfigError(KeystoreError):
    """SI's configuration cannot be read or changed as asked."""
