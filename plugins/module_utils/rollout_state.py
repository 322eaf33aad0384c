# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What a completed rollout left on a host, recorded, so that a rerun can tell in one read that
nothing has changed since (docs/reruns.md).

The record (``<si_home>/.rollout-state.json``, mode 0600) holds a digest of the role's inputs
(given by the caller; no secret in it), the SHA-256, owner, group and mode of every file whose
content the rollout decides (``managed_files``), and a few facts the caller wants back (the CA's
fingerprint, the HTTPS ports). A host is *unchanged* when the inputs and every one of those files
are as recorded, each store still opens with the password given, and no renewal or key rotation
has come due since. Anything else is a reason, and the caller runs every step as usual."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import grp
import hashlib
import json
import os
import pwd
import stat

from ansible_collections.wso2si.keystores.plugins.module_utils import certificates as certs
from ansible_collections.wso2si.keystores.plugins.module_utils import si_locations as sl
from ansible_collections.wso2si.keystores.plugins.module_utils import yaml_text as yt
from ansible_collections.wso2si.keystores.plugins.module_utils.errors import KeystoreError
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.key_age import key_too_old
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import KeyEntry, Keystore, normalize_alias

# Raise it when a new release changes what the rollout writes for the same inputs: every
# record of an older format then reads as changed, and the next run takes every step.
FORMAT = 1
RECORD_NAME = '.rollout-state.json'


def record_path(si_home):
    return os.path.join(os.path.abspath(si_home), RECORD_NAME)


def home_facts(si_home):
    """Whether ``si_home`` is an SI home (its deployment.yaml exists), and who owns it: the user
    and group names (their ids as text where the host has no name for them)."""
    home = os.path.abspath(si_home)
    try:
        st = os.stat(home)
    except OSError:
        return {'deployment_exists': False, 'owner': '', 'group': ''}
    return {'deployment_exists': os.path.isfile(os.path.join(home, 'conf', 'server', 'deployment.yaml')),
            'owner': _name(pwd.getpwuid, st.st_uid, 'pw_name'), 'group': _name(grp.getgrgid, st.st_gid, 'gr_name')}


def _name(lookup, number, field):
    try:
        return getattr(lookup(number), field)
    except KeyError:
        return str(number)


def managed_files(si_home, store_paths):
    """The files whose content the rollout decides: ``store_paths``, deployment.yaml, carbon.sh,
    the secure vault's secrets and master-keys files (where deployment.yaml names them) and SI's
    shipped stores (the rollout may remove them). Sorted absolute paths."""
    home = os.path.abspath(si_home)
    deployment = os.path.join(home, 'conf', 'server', 'deployment.yaml')
    data = read_file(deployment, what='the configuration %s' % deployment)
    doc = yt.DeploymentConfig.parse(data, deployment) if data is not None else None
    refs = sl.vault_references(doc, home)
    paths = set(os.path.abspath(p) for p in store_paths if p)
    paths.update([deployment, os.path.join(home, 'wso2', 'server', 'bin', 'carbon.sh'),
                  refs.secrets_file, refs.master_keys_file])
    paths.update(os.path.join(home, 'resources', 'security', name) for name in sl.SHIPPED_STORE_FILES)
    return sorted(paths)


def file_state(path):
    """{sha256, uid, gid, mode} of ``path`` (a link: its target), or None when it does not exist."""
    data = read_file(path)
    if data is None:
        return None
    st = os.stat(path)
    return {'sha256': hashlib.sha256(data).hexdigest(), 'uid': st.st_uid, 'gid': st.st_gid,
            'mode': '%04o' % stat.S_IMODE(st.st_mode)}


def files_state(paths):
    return dict((path, file_state(path)) for path in paths)


def make_record(inputs_digest, files, facts):
    """The record's text: canonical JSON, so that the same state is the same bytes."""
    record = {'format': FORMAT, 'inputs_digest': inputs_digest, 'files': files, 'facts': facts}
    return (json.dumps(record, sort_keys=True, indent=1) + '\n').encode('utf-8')


def load_record(data):
    """The record of ``data`` (bytes), or None when there is none or it is not one this release reads."""
    if not data:
        return None
    try:
        record = json.loads(data.decode('utf-8'))
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get('format') != FORMAT or not isinstance(record.get('files'), dict):
        return None
    return record


def file_reasons(record, current):
    """Why the files are not as recorded ([] when they are)."""
    reasons = []
    for path in sorted(set(record['files']) | set(current)):
        if path not in current or path not in record['files']:
            reasons.append('the set of files the rollout manages changed (%s)' % path)
        elif record['files'][path] != current[path]:
            was, now = record['files'][path], current[path]
            if was is None or now is None:
                reasons.append('%s %s since the last run' % (path, 'appeared' if was is None else 'disappeared'))
            elif was['sha256'] != now['sha256']:
                reasons.append('%s changed since the last run' % path)
            else:
                reasons.append('the owner, group or mode of %s changed since the last run' % path)
    return reasons


def open_store(path, password, what):
    """(the store, None) or (None, why it does not open)."""
    try:
        data = read_file(path, what=what)
        if data is None:
            return None, '%s %s does not exist' % (what, path)
        return Keystore.loads(data, password, what='%s %s' % (what, path)), None
    except KeystoreError as exc:
        return None, str(exc)


def key_entry(store, alias, what):
    """(the key entry at ``alias``, None) or (None, why there is none)."""
    entry = store.get(normalize_alias(alias))
    if not isinstance(entry, KeyEntry):
        return None, '%s has no key entry %s' % (what, alias)
    return entry, None


def due_reasons(entry, renew_before_days, key_max_age_days, what, now=None):
    """Renewal or rotation that has come due for the key entry's certificate ([] when none)."""
    leaf = entry.certificate
    reasons = []
    if certs.due_for_renewal(leaf, renew_before_days, now):
        reasons.append('the certificate of %s expires on %s, within the renewal window of %d days'
                       % (what, certs.iso(certs.not_after(leaf)), renew_before_days))
    if key_too_old(entry.chain, key_max_age_days, now=now):
        reasons.append('the key of %s is %d days old or more (key_max_age_days)' % (what, key_max_age_days))
    return reasons


def unchanged_since(record_data, inputs_digest, current_files):
    """(the record's facts or None, reasons the record and the host disagree)."""
    record = load_record(record_data)
    if record is None:
        return None, ['no record of a completed run (format %d)' % FORMAT]
    reasons = []
    if record.get('inputs_digest') != inputs_digest:
        reasons.append("the role's inputs changed since the last run")
    reasons.extend(file_reasons(record, current_files))
    return record.get('facts') or {}, reasons
