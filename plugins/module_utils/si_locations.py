# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""SI's location table (docs/si-reference.md section 1), addressed by name, and
the values SI's configuration holds there: placeholders, paths, roles.

``location(name)`` gives one place in deployment.yaml (``'https_listener'``,
``'securevault'``, ``'master_key_reader'``, ...); ``LOCATIONS`` lists the
places every SI has, in the order SI ships them, ``OPTIONAL_LOCATIONS`` the
blocks a rollout may add. ``resolve_config_path()`` turns a value SI holds
into the file it names. Nothing here reads YAML.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

DEFAULT_PASSWORD = 'wso2carbon'
SHIPPED_STORE_FILES = ('wso2carbon.jks', 'client-truststore.jks', 'securevault.jks')
# the alias of the shipped vault key (docs/si-reference.md section 4)
DEFAULT_VAULT_ALIAS = 'wso2carbon'

# The aliases si_config chooses for the store passwords under passwords_as=secure_vault.
SECRET_ALIASES = {
    'keystore_password': 'wso2si.keystore.password',
    'truststore_password': 'wso2si.truststore.password',
}

CARBON = '${carbon.home}'
SYS_CARBON = '${sys:carbon.home}'
PLACEHOLDERS = (SYS_CARBON, CARBON)


# ---------------------------------------------------------------- the locations (docs/si-reference.md section 1)

class Location(object):
    """One place in deployment.yaml: a path of steps to a mapping, and the keys
    there with the role each plays (keystore_path, keystore_password, ...)."""

    def __init__(self, name, label, steps, keys, placeholder=SYS_CARBON, profiles=('server', 'tooling'),
                 optional=False):
        self.name = name
        self.label = label
        self.steps = steps
        self.keys = keys  # [(key, role)], in the order SI ships them
        self.placeholder = placeholder
        self.profiles = profiles
        self.optional = optional


def _key(name):
    return ('key', name)


def _select(**conditions):
    """A sequence item (a mapping) whose nested values match, e.g. _select(id='msf4j-https')
    or _select(**{'agentConfiguration.name': 'Thrift'})."""
    return ('select', tuple(sorted((tuple(k.split('.')), v) for k, v in conditions.items())))


LISTENER_KEYS = [('keyStoreFile', 'keystore_path'), ('keyStorePassword', 'keystore_password'),
                 ('certPass', 'keystore_password')]
AGENT_KEYS = [('trustStorePath', 'truststore_path'), ('trustStorePassword', 'truststore_password')]

# In the order SI ships them; read them by name with location(), never by position.
LOCATIONS = [
    Location('https_listener', 'wso2.transport.http > listenerConfigurations[id=msf4j-https]',
             [_key('wso2.transport.http'), _key('listenerConfigurations'), _select(id='msf4j-https')],
             LISTENER_KEYS, placeholder=CARBON),
    Location('query_api_listener', 'siddhi.stores.query.api > listenerConfigurations[id=msf4j-https]',
             [_key('siddhi.stores.query.api'), _key('listenerConfigurations'), _select(id='msf4j-https')],
             LISTENER_KEYS, placeholder=CARBON, profiles=('server',)),
    Location('databridge', 'databridge.config', [_key('databridge.config')],
             [('keyStoreLocation', 'keystore_path'), ('keyStorePassword', 'keystore_password')]),
    Location('agent_thrift', 'data.agent.config > agents[] > agentConfiguration[name=Thrift]',
             [_key('data.agent.config'), _key('agents'), _select(**{'agentConfiguration.name': 'Thrift'}),
              _key('agentConfiguration')], AGENT_KEYS),
    Location('agent_binary', 'data.agent.config > agents[] > agentConfiguration[name=Binary]',
             [_key('data.agent.config'), _key('agents'), _select(**{'agentConfiguration.name': 'Binary'}),
              _key('agentConfiguration')], AGENT_KEYS),
    Location('securevault', 'wso2.securevault > secretRepository > parameters',
             [_key('wso2.securevault'), _key('secretRepository'), _key('parameters')],
             [('privateKeyAlias', 'vault_alias'), ('keystoreLocation', 'vault_path'),
              ('secretPropertiesFile', 'secrets_file')]),
    Location('master_key_reader', 'wso2.securevault > masterKeyReader > parameters',
             [_key('wso2.securevault'), _key('masterKeyReader'), _key('parameters')],
             [('masterKeyReaderFile', 'master_keys_file')]),
]

# Blocks a rollout may add (docs/si-reference.md section 1): written with ${sys:carbon.home}, which
# SI's configuration provider resolves for any key.
SSL_CONFIGS = Location(
    'ssl_configs', 'ssl.configs', [_key('ssl.configs')],
    [('keyStoreLocation', 'keystore_path'), ('keyStorePassword', 'keystore_password'),
     ('trustStoreLocation', 'truststore_path'), ('trustStorePassword', 'truststore_password')],
    optional=True)
SIDDHI_HTTP_SOURCE = Location(
    'siddhi_http_source', 'siddhi > extensions[] > extension[name=http, namespace=source] > properties',
    [_key('siddhi'), _key('extensions'), _select(**{'extension.name': 'http', 'extension.namespace': 'source'}),
     _key('extension'), _key('properties')],
    [('keyStoreLocation', 'keystore_path'), ('keyStorePassword', 'keystore_password')], optional=True)
SIDDHI_HTTP_SINK = Location(
    'siddhi_http_sink', 'siddhi > extensions[] > extension[name=http, namespace=sink] > properties',
    [_key('siddhi'), _key('extensions'), _select(**{'extension.name': 'http', 'extension.namespace': 'sink'}),
     _key('extension'), _key('properties')],
    [('trustStoreLocation', 'truststore_path'), ('trustStorePassword', 'truststore_password'),
     ('keyStoreLocation', 'keystore_path'), ('keyStorePassword', 'keystore_password'),
     ('keyPassword', 'keystore_password')], optional=True)
OPTIONAL_LOCATIONS = [SSL_CONFIGS, SIDDHI_HTTP_SOURCE, SIDDHI_HTTP_SINK]

_BY_NAME = dict((loc.name, loc) for loc in LOCATIONS + OPTIONAL_LOCATIONS)


def location(name):
    """The location called ``name`` (``'https_listener'``, ``'securevault'``, ...)."""
    return _BY_NAME[name]


# Top-level keys SI prefers over wso2.transport.http / data.agent.config / wso2.securevault.
SHADOWING_KEYS = ('transports', 'securevault')

PATH_ROLES = ('keystore_path', 'truststore_path', 'vault_path')
PASSWORD_ROLES = ('keystore_password', 'truststore_password')
STORE_OF_ROLE = {'keystore_path': 'keystore', 'keystore_password': 'keystore',
                 'truststore_path': 'truststore', 'truststore_password': 'truststore',
                 'vault_path': 'vault', 'vault_alias': 'vault'}

# carbon.sh: the four options, in the order SI ships them.
LAUNCHER_LABEL = 'carbon.sh -Djavax.net.ssl.*'
LAUNCHER_PROPS = [('keyStore', 'keystore_path'), ('keyStorePassword', 'keystore_password'),
                  ('trustStore', 'truststore_path'), ('trustStorePassword', 'truststore_password')]

HTTPS_LISTENER_SECTIONS = ('wso2.transport.http', 'siddhi.stores.query.api')


# ---------------------------------------------------------------- values SI holds there

def placeholder_of(value):
    for p in PLACEHOLDERS:
        if value.startswith(p):
            return p
    return None


def config_path_text(path, si_home, placeholder):
    """The text SI's configuration should hold for a store at ``path``: relative to
    ``placeholder`` when it is under si_home, absolute otherwise."""
    rel = relative_to_home(path, si_home)
    if rel is None:
        return os.path.abspath(path)
    return '%s/%s' % (placeholder, rel)


def relative_to_home(path, si_home):
    """``path`` relative to si_home (forward slashes), or None when it is outside."""
    for p, h in ((os.path.abspath(path), os.path.abspath(si_home)),
                 (os.path.realpath(path), os.path.realpath(si_home))):
        h = h.rstrip('/') + '/'
        if p.startswith(h) and len(p) > len(h):
            return p[len(h):]
    return None


def resolve_config_path(value, si_home, runtime='server'):
    """The file a value of SI's configuration names, or None when it holds a
    placeholder this module cannot resolve."""
    if value is None:
        return None
    text = str(value)
    for p in PLACEHOLDERS:
        text = text.replace(p, si_home.rstrip('/'))
    text = text.replace('${sys:wso2.runtime}', runtime)

    def env(match):
        found = os.environ.get(match.group(1))
        return found if found is not None else match.group(0)
    text = re.sub(r'\$\{env:([^}]+)\}', env, text)
    if '${' in text:
        return None
    if not os.path.isabs(text):
        text = os.path.join(si_home, text)
    return os.path.normpath(text)


def locations_for(profile, doc=None):
    """The locations of ``profile``, and any other of the table that ``doc`` (a
    yaml_text.DeploymentConfig) holds."""
    out = []
    for loc in LOCATIONS:
        if profile in loc.profiles or (doc is not None and doc.find(loc) is not None):
            out.append(loc)
    return out


def missing_locations(doc, profile):
    return [loc.label for loc in LOCATIONS if profile in loc.profiles and doc.find(loc) is None]


class VaultReferences(object):
    """The secure vault's files as deployment.yaml names them (locations ``securevault`` and
    ``master_key_reader``), resolved against si_home, with SI's defaults where a key is absent."""

    def __init__(self, vault_values, master_values, si_home):
        server = os.path.join(si_home, 'conf', 'server')
        self.keystore_location = vault_values.get('keystoreLocation')  # as written
        self.keystore = resolve_config_path(self.keystore_location, si_home)  # None: absent or unresolvable
        self.default_keystore = os.path.join(si_home, 'resources', 'security', 'securevault.jks')
        self.alias = vault_values.get('privateKeyAlias') or DEFAULT_VAULT_ALIAS
        self.named_secrets_file = resolve_config_path(vault_values.get('secretPropertiesFile'), si_home)
        self.secrets_file = self.named_secrets_file or os.path.join(server, 'secrets.properties')
        self.master_keys_file = resolve_config_path(master_values.get('masterKeyReaderFile'), si_home) or \
            os.path.join(server, 'master-keys.yaml')


def vault_references(doc, si_home):
    """VaultReferences of ``doc`` (a yaml_text.DeploymentConfig; None: SI's defaults)."""
    if doc is None:
        return VaultReferences({}, {}, si_home)
    return VaultReferences(doc.values(location('securevault')) or {}, doc.values(location('master_key_reader')) or {},
                           si_home)
