# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_config: rewire SI's keystore references in place.

deployment.yaml is edited line by line, guided by PyYAML's node tree (``compose``
gives every scalar's exact character span): only the value spans of the
locations in SI-FACTS section 1 are replaced, so comments, blank lines, key order,
quoting and ``key : value`` spacing elsewhere stay byte for byte. Optional blocks
(``ssl.configs``, the Siddhi ``http`` source/sink overrides) are added as new
lines when missing. The launcher (carbon.sh) is edited on its four
``-Djavax.net.ssl.*`` lines only.

Verbs: ``DeploymentConfig.parse(text)``, ``plan_deployment(...)``,
``plan_launcher(...)``, ``audit(...)``, ``mask_deployment`` / ``mask_launcher``
for diffs, and ``StoreOpener`` to check that stores open.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os
import re
import traceback

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import (
    ConfigError, InvalidInputError, KeystoreError, WrongKeyPasswordError, WrongPasswordError,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import locked, read_file
from ansible_collections.wso2si.keystores.plugins.module_utils.keystore import Keystore
from ansible_collections.wso2si.keystores.plugins.module_utils.secure_vault import MASK
from ansible_collections.wso2si.keystores.plugins.module_utils import snakeyaml

YAML_IMPORT_ERROR = None
try:
    import yaml
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
    # libyaml's parser when PyYAML was built with it: the same nodes and marks, about ten times faster
    SAFE_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
except ImportError:  # pragma: no cover - exercised only on hosts without PyYAML
    YAML_IMPORT_ERROR = traceback.format_exc()
    yaml = MappingNode = ScalarNode = SequenceNode = SAFE_LOADER = None

# Keep in sync with the requirements in si_config's and si_secret's documentation.
MINIMUM_PYYAML_VERSION = '5.1'

DEFAULT_PASSWORD = 'wso2carbon'
SHIPPED_STORE_FILES = ('wso2carbon.jks', 'client-truststore.jks', 'securevault.jks')
STR_TAG = 'tag:yaml.org,2002:str'

# The aliases si_config chooses for the store passwords under passwords_as=secure_vault.
SECRET_ALIASES = {
    'keystore_password': 'wso2si.keystore.password',
    'truststore_password': 'wso2si.truststore.password',
}

CARBON = '${carbon.home}'
SYS_CARBON = '${sys:carbon.home}'
PLACEHOLDERS = (SYS_CARBON, CARBON)


def check_yaml_dependency(module):
    """Fail the module with the install hint when PyYAML is missing."""
    if YAML_IMPORT_ERROR is not None:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib('PyYAML >= %s' % MINIMUM_PYYAML_VERSION),
                         exception=YAML_IMPORT_ERROR)


@contextlib.contextmanager
def locked_all(paths):
    """Hold ``fileio.locked`` on the directory of every path, each directory once,
    taken in sorted order so two tasks never wait on each other crosswise."""
    directories = sorted(set(os.path.dirname(os.path.abspath(p)) for p in paths if p))
    with contextlib.ExitStack() as stack:
        for directory in directories:
            # locked() locks the directory holding its argument
            stack.enter_context(locked(os.path.join(directory, 'any-file-in-it')))
        yield


# ---------------------------------------------------------------- the locations (SI-FACTS section 1)

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

    def roles(self):
        return set(role for dummy, role in self.keys)


def _key(name):
    return ('key', name)


def _select(**conditions):
    """A sequence item (a mapping) whose nested values match, e.g. _select(id='msf4j-https')
    or _select(**{'agentConfiguration.name': 'Thrift'})."""
    return ('select', tuple(sorted((tuple(k.split('.')), v) for k, v in conditions.items())))


LISTENER_KEYS = [('keyStoreFile', 'keystore_path'), ('keyStorePassword', 'keystore_password'),
                 ('certPass', 'keystore_password')]
AGENT_KEYS = [('trustStorePath', 'truststore_path'), ('trustStorePassword', 'truststore_password')]

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

# Blocks a rollout may add (SI-FACTS section 1): written with ${sys:carbon.home}, which
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

# Top-level keys SI prefers over wso2.transport.http / data.agent.config / wso2.securevault.
SHADOWING_KEYS = ('transports', 'securevault')

PATH_ROLES = ('keystore_path', 'truststore_path', 'vault_path')
PASSWORD_ROLES = ('keystore_password', 'truststore_password')
STORE_OF_ROLE = {'keystore_path': 'keystore', 'keystore_password': 'keystore',
                 'truststore_path': 'truststore', 'truststore_password': 'truststore',
                 'vault_path': 'vault', 'vault_alias': 'vault'}

# carbon.sh: the four lines, in the order SI ships them.
LAUNCHER_LABEL = 'carbon.sh -Djavax.net.ssl.*'
LAUNCHER_PROPS = [('keyStore', 'keystore_path'), ('keyStorePassword', 'keystore_password'),
                  ('trustStore', 'truststore_path'), ('trustStorePassword', 'truststore_password')]
LAUNCHER_LINE = re.compile(
    r'^(?P<head>[ \t]*-Djavax\.net\.ssl\.(?P<prop>keyStore|keyStorePassword|trustStore|trustStorePassword)=)'
    r'(?P<value>.*?)(?P<tail>[ \t]+\\|\\)?[ \t]*$')


# ---------------------------------------------------------------- values

class Password(object):
    """A store password as written to SI's files: the literal, or a ${sec:alias} reference."""

    def __init__(self, value, alias=None):
        self.value = value
        self.alias = alias

    @property
    def text(self):
        return '${sec:%s}' % self.alias if self.alias else self.value


def check_config_password(password, what):
    """Refuse passwords SI's configuration or the launcher cannot carry."""
    if password is None or password == '':
        raise InvalidInputError('%s must not be empty' % what)
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise InvalidInputError('%s contains a control character or line break, which SI\'s files cannot carry' % what)
    if '${' in password:
        raise InvalidInputError('%s contains "${", which SI would read as a placeholder' % what)


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


# ---------------------------------------------------------------- YAML scalars

def yaml_reads_as(fragment, expected):
    """True when ``key: <fragment>`` parses to the string ``expected``, judged the way SI's
    SnakeYAML 2.2 types it: a plain scalar is a string only when SnakeYAML's resolver says so
    (``1e3`` and ``._5`` are floats there, strings to PyYAML), and an explicit tag is refused."""
    try:
        events = list(yaml.parse('k: %s\n' % fragment, Loader=SAFE_LOADER))
    except yaml.YAMLError:
        return False
    kinds = [type(e).__name__ for e in events]
    if kinds != ['StreamStartEvent', 'DocumentStartEvent', 'MappingStartEvent', 'ScalarEvent', 'ScalarEvent',
                 'MappingEndEvent', 'DocumentEndEvent', 'StreamEndEvent']:
        return False
    value = events[4]
    if value.tag is not None or value.anchor is not None or value.value != expected:
        return False
    # implicit[0]: a plain scalar, typed by the resolver (libyaml reports its style as '', PyYAML as None)
    return not value.implicit[0] or snakeyaml.plain_is_string(value.value)


def render_scalar(value, style, what):
    """YAML text for the string ``value`` in ``style`` (None: plain, "'" or '"'),
    falling back to single quotes when plain would not read back as the same string."""
    if style is None:
        if value and yaml_reads_as(value, value):
            return value
        style = "'"
    if style == "'":
        text = "'%s'" % value.replace("'", "''")
    else:
        text = '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')
    if not yaml_reads_as(text, value):
        raise ConfigError('%s cannot be written as a YAML string' % what)
    return text


def pasted_value_survives(value, style):
    """SI pastes a ${sec:} value into the YAML text before parsing (SI-FACTS section 3):
    True when the value still reads back as itself in a scalar of ``style``."""
    if style == "'":
        fragment = "'%s'" % value
    elif style == '"':
        fragment = '"%s"' % value
    else:
        fragment = value
    return yaml_reads_as(fragment, value)


def is_string_scalar(node):
    """A string to SI: a plain scalar counts only when SnakeYAML's resolver also reads it as one."""
    return (isinstance(node, ScalarNode) and node.tag == STR_TAG
            and (node.style not in (None, '') or snakeyaml.plain_is_string(node.value)))


# ---------------------------------------------------------------- the document

class DeploymentConfig(object):
    """deployment.yaml as text plus its node tree."""

    def __init__(self, text, root, what):
        self.text = text
        self.root = root
        self.what = what

    @classmethod
    def parse(cls, data, what='deployment.yaml'):
        if isinstance(data, bytes):
            try:
                data = data.decode('utf-8')
            except UnicodeDecodeError as exc:
                raise ConfigError('%s is not UTF-8 text' % what) from exc
        try:
            root = yaml.compose(data, Loader=SAFE_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, 'problem_mark', None)
            where = ' (line %d)' % (mark.line + 1) if mark is not None else ''
            raise ConfigError('%s is not valid YAML%s; nothing was changed' % (what, where)) from exc
        if root is None:
            raise ConfigError('%s is empty' % what)
        if not isinstance(root, MappingNode):
            raise ConfigError('%s does not hold a mapping at the top level' % what)
        return cls(data, root, what)

    # ------------------------------------------------------------ lookups

    def get(self, mapping, key, where):
        """The value node of ``key`` in ``mapping`` (None when absent); duplicates are refused."""
        found = [(k, v) for k, v in mapping.value if isinstance(k, ScalarNode) and k.value == key]
        if len(found) > 1:
            raise ConfigError('%s has the key %r %d times under %s; SI would read only one of them'
                              % (self.what, key, len(found), where or 'the top level'))
        return found[0] if found else None

    def top_keys(self):
        return [k.value for k, dummy in self.root.value if isinstance(k, ScalarNode)]

    def _matches(self, item, conditions):
        if not isinstance(item, MappingNode):
            return False
        for path, wanted in conditions:
            node = item
            for part in path:
                if not isinstance(node, MappingNode):
                    return False
                pair = self.get(node, part, None)
                if pair is None:
                    return False
                node = pair[1]
            if not isinstance(node, ScalarNode) or node.value != wanted:
                return False
        return True

    def walk(self, location):
        """Follow the steps of ``location``: (node, steps_taken, parent_chain).
        ``node`` is the mapping of the location, or the deepest node reached."""
        node = self.root
        chain = [node]
        where = ''
        for n, step in enumerate(location.steps):
            if step[0] == 'key':
                if not isinstance(node, MappingNode):
                    raise ConfigError('%s: %s is not a mapping, so %s cannot be found'
                                      % (self.what, where or 'the top level', location.label))
                pair = self.get(node, step[1], where)
                if pair is None:
                    return node, n, chain
                node = pair[1]
                where = (where + ' > ' if where else '') + step[1]
            else:
                if not isinstance(node, SequenceNode):
                    raise ConfigError('%s: %s is not a list, so %s cannot be found' % (self.what, where, location.label))
                items = [item for item in node.value if self._matches(item, step[1])]
                if len(items) > 1:
                    raise ConfigError('%s: %s matches %d list items under %s; SI would use only one'
                                      % (self.what, location.label, len(items), where))
                if not items:
                    return node, n, chain
                node = items[0]
            chain.append(node)
        if not isinstance(node, MappingNode):
            raise ConfigError('%s: %s is not a mapping' % (self.what, location.label))
        if node.flow_style:
            raise ConfigError('%s: %s is written in flow style ({...}); this module edits block style only'
                              % (self.what, location.label))
        return node, len(location.steps), chain

    def find(self, location):
        node, depth, dummy = self.walk(location)
        return node if depth == len(location.steps) else None

    def values(self, location):
        """{key: string value} of a location's scalar keys (missing keys are left out)."""
        node = self.find(location)
        out = {}
        if node is None:
            return None
        for key, dummy in location.keys:
            pair = self.get(node, key, location.label)
            if pair is not None and isinstance(pair[1], ScalarNode):
                out[key] = pair[1].value
        return out

    def profile(self):
        """'tooling' or 'server', told apart by content: the tooling profile's server
        name says Tooling, or its HTTPS listener is on 9740."""
        carbon = self.get(self.root, 'wso2.carbon', None)
        if carbon is not None and isinstance(carbon[1], MappingNode):
            name = self.get(carbon[1], 'name', 'wso2.carbon')
            if name is not None and isinstance(name[1], ScalarNode) and 'tooling' in name[1].value.lower():
                return 'tooling'
        listener = self.find(LOCATIONS[0])
        if listener is not None:
            port = self.get(listener, 'port', LOCATIONS[0].label)
            if port is not None and isinstance(port[1], ScalarNode) and port[1].value == '9740':
                return 'tooling'
        return 'server'

    def sec_aliases(self):
        return sorted(set(re.findall(r'\$\{sec:([^}]*)\}', self.text)))

    # ------------------------------------------------------------ geometry

    def last_line(self, node):
        """The last line (0-based) holding content of ``node``."""
        if isinstance(node, ScalarNode):
            line = node.end_mark.line
            if node.end_mark.column == 0 and node.end_mark.index > node.start_mark.index:
                line -= 1
            return line
        if not node.value:
            return node.start_mark.line
        last = node.value[-1]
        if isinstance(node, MappingNode):
            key, value = last
            if isinstance(value, ScalarNode) and value.value == '' and value.start_mark.index == value.end_mark.index:
                return key.end_mark.line
            return max(key.end_mark.line, self.last_line(value))
        return self.last_line(last)

    def line_start(self, line):
        """Character index where 0-based ``line`` starts (len(text) past the end)."""
        index = 0
        for dummy in range(line):
            nl = self.text.find('\n', index)
            if nl < 0:
                return len(self.text)
            index = nl + 1
        return index

    def dash_column(self, seq):
        """Column of the '-' of the first item of a block sequence."""
        first = seq.value[0]
        index = first.start_mark.index - 1
        while index >= 0 and self.text[index] != '-':
            index -= 1
        if index < 0:
            return seq.start_mark.column
        return index - (self.text.rfind('\n', 0, index) + 1)


# ---------------------------------------------------------------- planning edits

class Change(object):
    def __init__(self, location, file, keys):
        self.location = location
        self.file = file
        self.keys = keys

    def as_dict(self):
        return {'location': self.location, 'file': self.file, 'keys': list(self.keys)}


def _apply(text, edits):
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def desired_text(role, settings, location, current, si_home):
    """The string a key of ``location`` should hold, or None when ``role`` is not being set."""
    if role in PATH_ROLES:
        path = settings.get(role)
        if path is None:
            return None
        placeholder = placeholder_of(current or '') or location.placeholder
        return config_path_text(path, si_home, placeholder)
    if role in PASSWORD_ROLES:
        password = settings.get(role)
        return None if password is None else password.text
    if role == 'vault_alias':
        return settings.get('vault_alias')
    return None  # read-only roles (secrets_file, master_keys_file)


def _scalar_edit(doc, key_node, value_node, wanted, role, location):
    """The edit that makes ``value_node`` hold ``wanted`` (None when it already does)."""
    if not isinstance(value_node, ScalarNode):
        raise ConfigError('%s: %s > %s is not a single value' % (doc.what, location.label, key_node.value))
    if value_node.style in ('|', '>'):
        raise ConfigError('%s: %s > %s is a block scalar; write it on one line first'
                          % (doc.what, location.label, key_node.value))
    if is_string_scalar(value_node) and value_node.value == wanted:
        return None
    what = '%s > %s' % (location.label, key_node.value)
    if role in PASSWORD_ROLES and not wanted.startswith('${sec:'):
        # a literal password is always quoted, so YAML keeps it a string
        style = value_node.style if value_node.style in ("'", '"') else "'"
    else:
        style = value_node.style if value_node.style in ("'", '"') else None
    rendered = render_scalar(wanted, style, what)
    start, end = value_node.start_mark.index, value_node.end_mark.index
    if start == end:  # `key:` with no value: the mark sits right after the colon
        rendered = ' ' + rendered
    return (start, end, rendered)


class Seq(list):
    """A YAML sequence in the structures render_lines() writes (a plain list of
    (key, value) pairs is a mapping)."""


def render_lines(obj, indent):
    """Block-style YAML lines for nested mappings (lists of pairs) and sequences (Seq)
    whose leaves are already rendered scalars; sequence items in SI's style, the dash
    on a line of its own."""
    lines = []
    pad = ' ' * indent
    if isinstance(obj, Seq):
        for item in obj:
            lines.append(pad + '-')
            lines.extend(render_lines(item, indent + 2))
        return lines
    for key, value in obj:
        if isinstance(value, list):
            lines.append('%s%s:' % (pad, key))
            lines.extend(render_lines(value, indent + 2))
        else:
            lines.append('%s%s: %s' % (pad, key, value))
    return lines


def _template(steps, leaf):
    """The structure to create for the remaining ``steps``, ending in ``leaf`` (a list of pairs)."""
    obj = leaf
    for step in reversed(steps):
        if step[0] == 'key':
            obj = [(step[1], obj)]
        else:
            item = []
            for path, wanted in step[1]:
                _merge_condition(item, list(path), render_scalar(wanted, None, wanted))
            obj = Seq([_merge_pairs(item, obj)])
    return obj


def _merge_condition(pairs, path, value):
    head = path[0]
    for n, (key, sub) in enumerate(pairs):
        if key == head:
            if len(path) > 1:
                _merge_condition(sub, path[1:], value)
            return
    if len(path) == 1:
        pairs.append((head, value))
    else:
        sub = []
        _merge_condition(sub, path[1:], value)
        pairs.append((head, sub))


def _merge_pairs(base, extra):
    """Merge the pair list ``extra`` into ``base`` (nested pair lists are merged by key)."""
    out = list(base)
    for key, value in extra:
        for n, (k, v) in enumerate(out):
            if k == key and isinstance(v, list) and isinstance(value, list):
                out[n] = (k, _merge_pairs(v, value))
                break
        else:
            out.append((key, value))
    return out


def _insert_at_line(doc, line, lines):
    """Edit that inserts ``lines`` after 0-based ``line``."""
    index = doc.line_start(line + 1)
    prefix = ''
    if index == len(doc.text) and doc.text and not doc.text.endswith('\n'):
        prefix = '\n'
    return (index, index, prefix + ''.join(l + '\n' for l in lines))


def plan_location(doc, location, settings, si_home):
    """Edits for one location: scalar replacements for the keys that exist, new lines
    for missing keys of an optional block (and for the block itself). Returns
    (edits, changed_keys, complete) where complete is False when a new level had to be
    created (the caller re-parses and plans again)."""
    node, depth, chain = doc.walk(location)
    wanted = []
    for key, role in location.keys:
        current = None
        if depth == len(location.steps):
            pair = doc.get(node, key, location.label)
            if pair is not None and isinstance(pair[1], ScalarNode):
                current = pair[1].value
        text = desired_text(role, settings, location, current, si_home)
        if text is not None:
            wanted.append((key, role, text))
    if not wanted:
        return [], [], True
    if depth < len(location.steps):
        if not location.optional:
            raise ConfigError('%s lacks %s; this module does not invent SI\'s structure' % (doc.what, location.label))
        return _create_rest(doc, location, node, depth, wanted), [w[0] for w in wanted], False
    edits, changed, missing = [], [], []
    for key, role, text in wanted:
        pair = doc.get(node, key, location.label)
        if pair is None:
            if not location.optional:
                raise ConfigError('%s: %s lacks the key %s; this module does not invent SI\'s structure'
                                  % (doc.what, location.label, key))
            missing.append((key, role, text))
            continue
        edit = _scalar_edit(doc, pair[0], pair[1], text, role, location)
        if edit is not None:
            edits.append(edit)
            changed.append(key)
    if missing:
        indent = node.value[0][0].start_mark.column if node.value else 2
        lines = ['%s%s: %s' % (' ' * indent, key, _new_scalar(text, role, key, location)) for key, role, text in missing]
        edits.append(_insert_at_line(doc, doc.last_line(node), lines))
        changed.extend(m[0] for m in missing)
    return edits, changed, True


def _new_scalar(text, role, key, location):
    if role in PASSWORD_ROLES and not text.startswith('${sec:'):
        return render_scalar(text, "'", '%s > %s' % (location.label, key))
    return render_scalar(text, None, '%s > %s' % (location.label, key))


def _create_rest(doc, location, node, depth, wanted):
    """Edit that creates the missing levels of an optional location below ``node``."""
    leaf = [(key, _new_scalar(text, role, key, location)) for key, role, text in wanted]
    rest = location.steps[depth:]
    if depth == 0:
        lines = render_lines(_template(rest, leaf), 0)
        header = ['', '# Added by wso2si.keystores.si_config']
        index = len(doc.text)
        prefix = '' if doc.text.endswith('\n') or not doc.text else '\n'
        return [(index, index, prefix + ''.join(l + '\n' for l in header + lines))]
    if isinstance(node, SequenceNode):
        # rest starts with the select step: append one item to the list
        column = doc.dash_column(node) if node.value else node.start_mark.column
        return [_insert_at_line(doc, doc.last_line(node), render_lines(_template(rest, leaf), column))]
    if isinstance(node, MappingNode):
        indent = node.value[0][0].start_mark.column if node.value else node.start_mark.column
        return [_insert_at_line(doc, doc.last_line(node), render_lines(_template(rest, leaf), indent))]
    raise ConfigError('%s: cannot add %s below a single value' % (doc.what, location.label))


class DeploymentPlan(object):
    def __init__(self, before, after, changes, profile, missing, after_data=None):
        self.before = before
        self.after = after
        self.after_data = after_data  # ``after`` loaded as plain YAML data
        self.changes = changes
        self.profile = profile
        self.missing = missing

    @property
    def changed(self):
        return self.before != self.after


def locations_for(profile, doc=None):
    out = []
    for loc in LOCATIONS:
        if profile in loc.profiles or (doc is not None and doc.find(loc) is not None):
            out.append(loc)
    return out


def missing_locations(doc, profile):
    return [loc.label for loc in LOCATIONS if profile in loc.profiles and doc.find(loc) is None]


def plan_deployment(text, settings, si_home, ssl_configs=False, siddhi_http=False, what='deployment.yaml'):
    """The new deployment.yaml text. ``settings`` maps roles to values: paths for
    *_path roles, Password objects for *_password roles, a string for vault_alias.
    Raises ConfigError (nothing written) for anything it cannot do exactly."""
    doc = DeploymentConfig.parse(text, what)
    profile = doc.profile()
    missing = missing_locations(doc, profile)
    if missing:
        raise ConfigError('%s (%s profile) lacks %s; this module does not invent SI\'s structure, and nothing '
                          'was changed' % (what, profile, ', '.join(missing)))
    changes = []
    edits = []
    for loc in locations_for(profile, doc):
        loc_edits, keys, dummy = plan_location(doc, loc, settings, si_home)
        edits.extend(loc_edits)
        if keys:
            changes.append(Change(loc.label, what, keys))
    new_text = _apply(doc.text, edits)
    optional = []
    if ssl_configs:
        optional.append(SSL_CONFIGS)
    if siddhi_http:
        optional.extend([SIDDHI_HTTP_SOURCE, SIDDHI_HTTP_SINK])
    for loc in optional:
        keys_changed = []
        for dummy in range(len(loc.steps) + 1):
            doc = DeploymentConfig.parse(new_text, what)
            loc_edits, keys, complete = plan_location(doc, loc, settings, si_home)
            new_text = _apply(doc.text, loc_edits)
            keys_changed.extend(k for k in keys if k not in keys_changed)
            if complete:
                break
        if keys_changed:
            changes.append(Change(loc.label, what, keys_changed))
    after_data = check_result(text, new_text, settings, si_home, optional, what)
    return DeploymentPlan(text, new_text, changes, profile, missing, after_data)


def check_result(before, after, settings, si_home, optional, what):
    """The new text must parse, hold exactly the wanted values at every location, and
    add no top-level key other than the optional blocks. Returns the new text loaded as data."""
    try:
        new = DeploymentConfig.parse(after, what)
        old = DeploymentConfig.parse(before, what)
        data = yaml.load(after, Loader=SAFE_LOADER)
    except (ConfigError, yaml.YAMLError) as exc:  # pragma: no cover - a bug guard
        raise ConfigError('the changed %s would not parse; nothing was changed' % what) from exc
    added = set(new.top_keys()) - set(old.top_keys())
    if added - set(['ssl.configs', 'siddhi']):  # pragma: no cover - a bug guard
        raise ConfigError('the change would add the top-level keys %s; nothing was changed' % sorted(added))
    for loc in locations_for(new.profile(), new) + optional:
        node = new.find(loc)
        for key, role in loc.keys:
            pair = new.get(node, key, loc.label) if node is not None else None
            current = pair[1].value if pair is not None and isinstance(pair[1], ScalarNode) else None
            want = desired_text(role, settings, loc, current, si_home)
            if want is None:
                continue
            if pair is None or not is_string_scalar(pair[1]) or pair[1].value != want:  # pragma: no cover
                raise ConfigError('the changed %s would not hold the wanted %s > %s; nothing was changed'
                                  % (what, loc.label, key))
    return data


# ---------------------------------------------------------------- the launcher (carbon.sh)

def _sh_escape(text):
    return re.sub(r'([\\"$`])', r'\\\1', text)


def _sh_unquote(raw, si_home=None):
    """The value of a shell word as carbon.sh writes them ("...", '...' or bare)."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    if si_home is not None:
        raw = re.sub(r'(?<!\\)\$\{?CARBON_HOME\}?', lambda m: si_home.rstrip('/'), raw)
    return re.sub(r'\\([\\"$`])', r'\1', raw)


def launcher_text(role, settings, si_home):
    """The quoted shell word carbon.sh should hold for ``role``, or None when not set."""
    if role in PATH_ROLES:
        path = settings.get(role)
        if path is None:
            return None
        rel = relative_to_home(path, si_home)
        if rel is not None:
            return '"$CARBON_HOME/%s"' % _sh_escape(rel)
        return '"%s"' % _sh_escape(os.path.abspath(path))
    password = settings.get(role)
    if password is None:
        return None
    # carbon.sh cannot resolve ${sec:}: under secure vault no password is written here;
    # ssl.configs (with ${sec:}) sets javax.net.ssl.* at start instead.
    return '""' if password.alias else '"%s"' % _sh_escape(password.value)


class LauncherLines(object):
    def __init__(self, text, what):
        self.text = text
        self.what = what
        self.lines = text.splitlines(True)
        self.found = {}
        for n, line in enumerate(self.lines):
            m = LAUNCHER_LINE.match(line.rstrip('\r\n'))
            if m:
                self.found.setdefault(m.group('prop'), []).append((n, m))

    def get(self, prop):
        hits = self.found.get(prop, [])
        if len(hits) > 1:
            raise ConfigError('%s sets -Djavax.net.ssl.%s %d times; edit it by hand first' % (self.what, prop, len(hits)))
        return hits[0] if hits else None

    def values(self, si_home):
        out = {}
        for prop, dummy in LAUNCHER_PROPS:
            hit = self.get(prop)
            if hit is not None:
                out[prop] = _sh_unquote(hit[1].group('value'), si_home)
        return out


def read_launcher(data, what):
    if isinstance(data, bytes):
        try:
            data = data.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise ConfigError('%s is not UTF-8 text' % what) from exc
    return LauncherLines(data, what)


def plan_launcher(data, settings, si_home, what='carbon.sh'):
    """(new_text, changed_props) for the launcher; only its -Djavax.net.ssl.* lines change."""
    launcher = read_launcher(data, what)
    wanted = []
    for prop, role in LAUNCHER_PROPS:
        text = launcher_text(role, settings, si_home)
        if text is not None:
            wanted.append((prop, text))
    missing = [w[0] for w in wanted if launcher.get(w[0]) is None]
    if missing:
        raise ConfigError('%s has no line setting %s; this module edits the launcher\'s existing lines only '
                          '(set launcher to an empty string to skip it), and nothing was changed'
                          % (what, ', '.join('-Djavax.net.ssl.%s' % m for m in missing)))
    lines = list(launcher.lines)
    changed = []
    for prop, text in wanted:
        n, m = launcher.get(prop)
        if m.group('value') == text:
            continue
        line = lines[n]
        ending = line[len(line.rstrip('\r\n')):]
        lines[n] = m.group('head') + text + (m.group('tail') or '') + ending
        changed.append('javax.net.ssl.%s' % prop)
    return ''.join(lines), changed


# ---------------------------------------------------------------- masks for diffs

PASSWORD_KEY = re.compile(r'(?i)(pass(word)?|passwd|secret)$')


def _secret_pairs(doc):
    """(path, value_node) for every scalar whose key looks like a password."""
    out = []

    def visit(node, path):
        if isinstance(node, MappingNode):
            for k, v in node.value:
                key = k.value if isinstance(k, ScalarNode) else '?'
                if isinstance(v, ScalarNode):
                    if PASSWORD_KEY.search(key) and v.value and not v.value.startswith('${'):
                        out.append((path + (key,), v))
                else:
                    visit(v, path + (key,))
        elif isinstance(node, SequenceNode):
            for n, item in enumerate(node.value):
                visit(item, path + (n,))
    visit(doc.root, ())
    return out


def mask_deployment(before, after, secrets=()):
    """(before, after) texts with every password value masked. A value that changed
    shows as ******** (changed) so the diff still tells that it did."""
    masked = []
    old_values = {}
    for n, text in enumerate((before, after)):
        try:
            doc = DeploymentConfig.parse(text)
        except ConfigError:
            masked.append(_mask_known(text, secrets))
            continue
        edits = []
        for path, node in _secret_pairs(doc):
            if n == 0:
                old_values[path] = node.value
                mask = MASK
            else:
                mask = MASK if old_values.get(path) == node.value else MASK + ' (changed)'
            q = doc.text[node.start_mark.index] if node.style in ("'", '"') else ''
            edits.append((node.start_mark.index, node.end_mark.index, q + mask + q))
        masked.append(_mask_known(_apply(doc.text, edits), secrets))
    return masked[0], masked[1]


def mask_launcher(before, after, secrets=()):
    out = []
    old = {}
    for n, text in enumerate((before, after)):
        lines = text.splitlines(True)
        for i, line in enumerate(lines):
            m = LAUNCHER_LINE.match(line.rstrip('\r\n'))
            if m and m.group('prop').endswith('Password') and m.group('value') not in ('', '""', "''"):
                if n == 0:
                    old[m.group('prop')] = m.group('value')
                    mask = MASK
                else:
                    mask = MASK if old.get(m.group('prop')) == m.group('value') else MASK + ' (changed)'
                ending = line[len(line.rstrip('\r\n')):]
                lines[i] = m.group('head') + '"%s"' % mask + (m.group('tail') or '') + ending
        out.append(_mask_known(''.join(lines), secrets))
    return out[0], out[1]


def write_file(module, path, data, mode=None, backup=False, enforce_mode=False):
    """Atomically replace ``path`` with ``data`` (bytes). A new file gets ``mode`` and,
    when running as root, the owner and group of its directory, so SI (running as
    that user) can read it. Returns the backup file, if one was made."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import atomic_write, backup as private_backup
    existed = os.path.exists(path)
    backup_file = private_backup(module, path) if backup and existed else None
    atomic_write(path, data, mode=mode, force_mode=enforce_mode)
    try:
        if not existed and os.geteuid() == 0:
            st = os.stat(os.path.dirname(os.path.abspath(path)))
            os.chown(path, st.st_uid, st.st_gid)
        if enforce_mode and mode is not None:
            os.chmod(path, mode)
    except OSError as exc:
        raise KeystoreError('cannot set the owner or mode of %s: %s' % (path, exc.strerror)) from exc
    return backup_file


def mode_differs(path, mode):
    try:
        return (os.stat(path).st_mode & 0o7777) != mode
    except OSError:
        return False


def _mask_known(text, secrets):
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


# ---------------------------------------------------------------- stores

class StoreOpener(object):
    """Opens stores once per (path, password) and answers the checks si_config and
    the audit need. Errors are the collection's error root classes."""

    def __init__(self):
        self._cache = {}

    def open(self, path, password, what):
        key = (os.path.abspath(path), password)
        if key not in self._cache:
            data = read_file(path, what=what)
            if data is None:
                raise ConfigError('%s does not exist' % what)
            self._cache[key] = Keystore.loads(data, password, what=what)
        return self._cache[key]

    def try_open(self, path, passwords, what):
        """(store, password) for the first password that opens the store; (None, None) when none does.
        Raises for a missing or corrupt file."""
        for password in passwords:
            if password is None:
                continue
            try:
                return self.open(path, password, what), password
            except WrongPasswordError:
                continue
        return None, None


HTTPS_LISTENER_SECTIONS = ('wso2.transport.http', 'siddhi.stores.query.api')


def https_ports(doc):
    """The HTTPS listener ports of a deployment.yaml loaded as data (``DeploymentPlan.after_data``),
    with SI's port offset (``wso2.carbon > ports.offset``) added; ports written as placeholders are left out."""
    def number(value):
        if isinstance(value, bool):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def mapping(value):
        return value if isinstance(value, dict) else {}

    doc = mapping(doc)
    offset = number(mapping(mapping(doc.get('wso2.carbon')).get('ports')).get('offset')) or 0
    ports = []
    for section in HTTPS_LISTENER_SECTIONS:
        listeners = mapping(doc.get(section)).get('listenerConfigurations')
        for listener in listeners if isinstance(listeners, list) else []:
            listener = mapping(listener)
            port = number(listener.get('port'))
            if str(listener.get('scheme', '')).lower() == 'https' and port is not None and port + offset not in ports:
                ports.append(port + offset)
    return ports


def check_tls_keystore(store, password, what):
    """SI-FACTS section 2: exactly one key entry, whose key password is the store password."""
    keys = store.key_entries()
    if len(keys) != 1:
        raise ConfigError('%s holds %d key entries; SI\'s TLS keystore must hold exactly one (the JDK key manager '
                          'picks among several by itself)' % (what, len(keys)))
    entry = keys[0]
    try:
        entry.open(password)
    except WrongKeyPasswordError as exc:
        raise ConfigError('the key entry %r in %s has a key password other than the store password; SI opens the '
                          'key with the store password' % (entry.alias, what)) from exc
    return entry


def shipped_fingerprints(store):
    """[(alias, kind)] of entries holding a shipped WSO2 certificate (SI-FACTS section 4)."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import is_shipped_wso2_certificate
    out = []
    for alias in sorted(store.entries):
        entry = store.entries[alias]
        fp = entry.fingerprint()
        if fp and is_shipped_wso2_certificate(fp):
            out.append((alias, entry.kind))
    return out


def cert_fingerprint(cert):
    from ansible_collections.wso2si.keystores.plugins.module_utils.certificates import fingerprint
    return fingerprint(cert)


def shipped_fingerprints_of_cert(cert):
    """True when ``cert`` is one of the shipped WSO2 certificates (SI-FACTS section 4)."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import is_shipped_wso2_certificate
    return is_shipped_wso2_certificate(cert_fingerprint(cert))


# ---------------------------------------------------------------- audit

class Finding(dict):
    def __init__(self, kind, file, location, detail, key=None):
        super(Finding, self).__init__(kind=kind, file=file, location=location, detail=detail)
        if key is not None:
            self['key'] = key


def audit(si_home, deployment_path, launcher_path, passwords):
    """Every reference that still points at SI's shipped defaults, and every ${sec:}
    alias that secrets.properties lacks. ``passwords`` holds candidate passwords
    (keystore, truststore, vault, vault_key) for stores whose configured password
    cannot be resolved. Returns (findings, facts)."""
    findings = []
    opener = StoreOpener()
    data = read_file(deployment_path, what=deployment_path)
    if data is None:
        raise ConfigError('%s does not exist' % deployment_path)
    doc = DeploymentConfig.parse(data, deployment_path)
    profile = doc.profile()
    facts = {'profile': profile}
    for label in missing_locations(doc, profile):
        findings.append(Finding('missing_location', deployment_path, label,
                                'the location is missing, so SI uses its built-in default there (the shipped store)'))
    for key in SHADOWING_KEYS:
        if key in doc.top_keys():
            findings.append(Finding('shadowing_key', deployment_path, key,
                                    'a top-level %r key makes SI ignore the standard namespace it replaces' % key))

    # the vault and the secrets it decrypts
    vault_values = doc.values(LOCATIONS[5]) or {}
    vault_path = resolve_config_path(vault_values.get('keystoreLocation'), si_home)
    vault_alias = vault_values.get('privateKeyAlias') or DEFAULT_PASSWORD
    secrets_path = resolve_config_path(vault_values.get('secretPropertiesFile'), si_home) or \
        os.path.join(si_home, 'conf', 'server', 'secrets.properties')
    master_values = doc.values(LOCATIONS[6]) or {}
    master_path = resolve_config_path(master_values.get('masterKeyReaderFile'), si_home) or \
        os.path.join(si_home, 'conf', 'server', 'master-keys.yaml')
    from ansible_collections.wso2si.keystores.plugins.module_utils import secure_vault as sv
    master = sv.read_master_keys(master_path)
    if master is not None and DEFAULT_PASSWORD in (master.get('keyStorePassword'), master.get('privateKeyPassword')):
        findings.append(Finding('default_password', master_path, LOCATIONS[6].label,
                                'the master keys file holds the shipped password', key='masterKeyReaderFile'))
    vault = None
    if vault_path is not None:
        store_candidates = [passwords.get('vault'), (master or {}).get('keyStorePassword'), DEFAULT_PASSWORD]
        key_candidates = [passwords.get('vault_key'), passwords.get('vault'), (master or {}).get('privateKeyPassword'),
                          (master or {}).get('keyStorePassword'), DEFAULT_PASSWORD]
        vault = _audit_store(findings, opener, vault_path, store_candidates, deployment_path, LOCATIONS[5].label,
                             'keystoreLocation', 'vault')
        if vault is not None:
            vault = sv.VaultKey.from_store(vault, vault_alias, key_candidates, vault_path, need_private=False)
    secrets = sv.read_secret_values(secrets_path, vault)
    facts['secrets_file'] = secrets_path
    for alias in doc.sec_aliases():
        if alias not in secrets:
            findings.append(Finding('missing_secret_alias', deployment_path, '${sec:%s}' % alias,
                                    '%s has no entry %r, so SI reads an empty value' % (secrets_path, alias)))

    def resolve_password(text):
        if text is None:
            return None
        m = re.match(r'^\$\{sec:([^}]*)\}$', text)
        if m:
            return secrets.get(m.group(1))
        return text

    # the TLS stores in deployment.yaml
    known = {'keystore': [], 'truststore': []}
    locations = locations_for(profile, doc) + OPTIONAL_LOCATIONS
    for loc in locations:
        values = doc.values(loc)
        if values is None:
            continue
        for path_key, path_role in loc.keys:
            if path_role not in ('keystore_path', 'truststore_path'):
                continue
            kind = STORE_OF_ROLE[path_role]
            pw_keys = [k for k, r in loc.keys if r == kind + '_password' and k in values]
            pw_texts = [values[k] for k in pw_keys]
            for k in pw_keys:
                if resolve_password(values[k]) == DEFAULT_PASSWORD:
                    findings.append(Finding('default_password', deployment_path, loc.label,
                                            'the password is the shipped "%s"' % DEFAULT_PASSWORD, key=k))
            path = resolve_config_path(values.get(path_key), si_home)
            if path is None:
                findings.append(Finding('unverified_store', deployment_path, loc.label,
                                        'the path holds a placeholder this audit cannot resolve', key=path_key))
                continue
            candidates = [resolve_password(t) for t in pw_texts] + [passwords.get(kind)]
            known[kind].extend(c for c in candidates if c)
            _audit_store(findings, opener, path, candidates, deployment_path, loc.label, path_key, kind)
    for loc in (SIDDHI_HTTP_SOURCE, SIDDHI_HTTP_SINK):
        if doc.find(loc) is None:
            findings.append(Finding('implicit_default', deployment_path, loc.label,
                                    'no override: the Siddhi http extension falls back to wso2carbon.jks, '
                                    'client-truststore.jks and the password "%s"' % DEFAULT_PASSWORD))

    # the launcher
    if launcher_path:
        raw = read_file(launcher_path, what=launcher_path)
        if raw is None:
            findings.append(Finding('missing_launcher', launcher_path, LAUNCHER_LABEL, 'the launcher does not exist'))
        else:
            values = read_launcher(raw, launcher_path).values(si_home)
            for prop, role in LAUNCHER_PROPS:
                if role in PASSWORD_ROLES or prop not in values:
                    continue
                kind = STORE_OF_ROLE[role]
                password = values.get(prop + 'Password')
                if password == DEFAULT_PASSWORD:
                    findings.append(Finding('default_password', launcher_path, LAUNCHER_LABEL,
                                            'the password is the shipped "%s"' % DEFAULT_PASSWORD,
                                            key='javax.net.ssl.%sPassword' % prop))
                # under secure vault the launcher holds no password: ssl.configs sets it at start
                candidates = [password] + known[kind] + [passwords.get(kind)]
                _audit_store(findings, opener, os.path.join(si_home, values[prop]), candidates,
                             launcher_path, LAUNCHER_LABEL, 'javax.net.ssl.%s' % prop, kind)
    return _dedupe(findings), facts


def _audit_store(findings, opener, path, candidates, file, label, key, kind):
    name = os.path.basename(path)
    if name in SHIPPED_STORE_FILES:
        findings.append(Finding('default_store_file', file, label, 'names the shipped %s' % name, key=key))
    what = 'the %s %s' % (kind, path)
    try:
        if read_file(path, what=what) is None:
            findings.append(Finding('missing_store', file, label, '%s does not exist' % path, key=key))
            return None
        shipped_pw = opener.try_open(path, [DEFAULT_PASSWORD], what)[0]
        if shipped_pw is not None:
            findings.append(Finding('default_password', file, label,
                                    '%s opens with the shipped password "%s"' % (path, DEFAULT_PASSWORD), key=key))
        store = opener.try_open(path, [c for c in candidates if c] + [DEFAULT_PASSWORD], what)[0]
    except KeystoreError as exc:
        findings.append(Finding('unverified_store', file, label, str(exc), key=key))
        return None
    if store is None:
        findings.append(Finding('unverified_store', file, label,
                                'no known password opens %s, so its content was not checked' % path, key=key))
        return None
    for alias, entry_kind in shipped_fingerprints(store):
        if entry_kind == 'private_key':
            findings.append(Finding('shipped_key', file, label,
                                    '%s holds the shipped WSO2 key under the alias %r' % (path, alias), key=key))
        else:
            findings.append(Finding('trusts_shipped_certificate', file, label,
                                    '%s trusts the shipped WSO2 certificate (alias %r), whose key everyone has'
                                    % (path, alias), key=key))
    return store


def _dedupe(findings):
    seen = set()
    out = []
    for f in findings:
        key = tuple(sorted(f.items()))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
