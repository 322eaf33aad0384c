# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""How old a key is, from the certificates issued for it.

A keystore does not record when a key was made (a JKS entry's timestamp is
rewritten whenever its chain is), so the key's age is read from certificates:
the key was born no later than the earliest notBefore of the certificates
issued for that same public key that the caller knows. A key entry knows the
certificates of its chain: its leaf, and any other certificate in the chain
that holds the same key (a cross-signed leaf). The age is therefore at least
the leaf's age; a renewal that re-signs the same key starts the count again
unless the caller passes the earlier certificates too."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import InvalidInputError


def key_born(public_key, certificates):
    """The earliest notBefore (UTC) of ``certificates`` that hold ``public_key``, or None."""
    dates = [certs.not_before(c) for c in certificates if certs.public_keys_equal(c.public_key(), public_key)]
    return min(dates) if dates else None


def key_age(chain, known=(), now=None):
    """The age (a timedelta, never negative) of the key of ``chain``'s leaf,
    from the leaf, the rest of ``chain`` and the ``known`` certificates."""
    born = key_born(chain[0].public_key(), list(chain) + list(known))
    return max(datetime.timedelta(0), (now or certs.utcnow()) - born)


def key_too_old(chain, max_age_days, known=(), now=None):
    """True when ``max_age_days`` (None or 0: no limit) is set and the key of
    ``chain`` is at least that many days old."""
    if not max_age_days:
        return False
    if max_age_days < 0:
        raise InvalidInputError('key_max_age_days must be 0 (no limit) or more (got %d)' % max_age_days)
    return key_age(chain, known, now) >= datetime.timedelta(days=max_age_days)
