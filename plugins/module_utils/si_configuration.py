# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The backend of si_config: rewire SI's keystore references in place.

deployment.yaml is edited line by line, guided by PyYAML's node tree (``compose``
gives every scalar's exact character span): only the value spans of the
locations in docs/si-reference.md section 1 are replaced, so comments, blank lines, key order,
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
BOM = '\ufeff'

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
    directories = sorted(set(os.path.dirname(os.path.realpath(os.path.abspath(p))) for p in paths if p))
    with contextlib.ExitStack() as stack:
        for directory in directories:
            # locked() locks the directory holding its argument
            stack.enter_context(locked(os.path.join(directory, 'any-file-in-it')))
        yield


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
    """SI pastes a ${sec:} value into the YAML text before parsing (docs/si-reference.md section 3):
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
        # a byte order mark (SnakeYAML reads it): libyaml's marks do not count it, so the
        # document is the text after it; plan_deployment() puts it back
        data = data[1:] if data.startswith(BOM) else data
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
        if node.flow_style and not location.optional:  # an optional block in flow style is rewritten in block style
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

    @property
    def newline(self):
        """The file's line ending (that of its first line), for the lines added to it."""
        nl = self.text.find('\n')
        return '\r\n' if nl > 0 and self.text[nl - 1] == '\r' else '\n'

    def document_end(self):
        """Index where lines appended to the document go: before a document end (...) or
        a next document start (---) marker after the root, else the end of the text."""
        line = self.last_line(self.root) + 1
        index = self.line_start(line)
        while index < len(self.text):
            if re.match(r'(\.\.\.|---)([ \t\r\n]|$)', self.text[index:index + 4]):
                return index
            nl = self.text.find('\n', index)
            index = len(self.text) if nl < 0 else nl + 1
        return len(self.text)

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
    """Edit that inserts ``lines`` after 0-based ``line``, with the file's line ending."""
    index = doc.line_start(line + 1)
    prefix = ''
    if index == len(doc.text) and doc.text and not doc.text.endswith('\n'):
        prefix = doc.newline
    return (index, index, prefix + ''.join(l + doc.newline for l in lines))


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
    flow = [n for n in chain[1:] if n.flow_style]
    if location.optional and flow:
        return _unflow(doc, location, chain, flow[0], node, depth, wanted)
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
        index = doc.document_end()
        prefix = '' if doc.text[:index].endswith('\n') or not index else doc.newline
        return [(index, index, prefix + ''.join(l + doc.newline for l in header + lines))]
    if isinstance(node, SequenceNode):
        # rest starts with the select step: append one item to the list
        column = doc.dash_column(node) if node.value else node.start_mark.column
        return [_insert_at_line(doc, doc.last_line(node), render_lines(_template(rest, leaf), column))]
    if isinstance(node, MappingNode):
        indent = node.value[0][0].start_mark.column if node.value else node.start_mark.column
        return [_insert_at_line(doc, doc.last_line(node), render_lines(_template(rest, leaf), indent))]
    raise ConfigError('%s: cannot add %s below a single value' % (doc.what, location.label))


def _unflow(doc, location, chain, flow, node, depth, wanted):
    """The edit that rewrites ``flow`` (the outermost flow collection, e.g. ``siddhi:
    {extensions: []}``, on the way to an optional location) in block style, with the
    missing part of the location merged in. Returns plan_location()'s triple."""
    if depth == len(location.steps):
        current = [doc.get(node, key, location.label) for key, dummy, dummy2 in wanted]
        if all(pair is not None and is_string_scalar(pair[1]) and pair[1].value == text
               for pair, (dummy, dummy2, text) in zip(current, wanted)):
            return [], [], True
    leaf = [(key, _new_scalar(text, role, key, location)) for key, role, text in wanted]
    extra = leaf if depth == len(location.steps) else _template(location.steps[depth:], leaf)
    if not isinstance(node, (MappingNode, SequenceNode)) or isinstance(extra, Seq) != isinstance(node, SequenceNode):
        raise ConfigError('%s: cannot add %s below a single value' % (doc.what, location.label))
    parent = chain[chain.index(flow) - 1]
    if isinstance(parent, MappingNode):
        key = [k for k, v in parent.value if v is flow][0]
        indent = key.start_mark.column + 2
    else:
        indent = flow.start_mark.column
    what = '%s: %s, written in flow style,' % (doc.what, location.label)
    old = _block_of(doc, flow, None, None, what)
    new = _block_of(doc, flow, node, extra, what)
    if isinstance(old, list) and yaml.load(_yaml_value(old, indent, '\n'), Loader=SAFE_LOADER) != \
            yaml.load('k: ' + doc.text[flow.start_mark.index:flow.end_mark.index], Loader=SAFE_LOADER):
        raise ConfigError('%s cannot be rewritten in block style by this module; write it in block style first'
                          % what)
    # the collection leaves its line (a comment after it stays there); its block lines follow
    start = flow.start_mark.index
    while start > 0 and doc.text[start - 1] in ' \t':
        start -= 1
    return [(start, flow.end_mark.index, ''), _insert_at_line(doc, flow.end_mark.line, render_lines(new, indent))], \
        [w[0] for w in wanted], False


def _yaml_value(obj, indent, newline):
    """``obj`` (from _block_of) as the block-style value of a key ``k``."""
    return newline.join(['k:'] + render_lines(obj, indent))


def _block_of(doc, node, target, extra, what):
    """The structure render_lines() writes for ``node`` (a flow collection), its scalars as
    written; ``extra`` is merged into ``target``. An empty collection stays ``{}``/``[]``."""
    if isinstance(node, MappingNode):
        pairs = []
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                raise ConfigError('%s has a key that is not a single value' % what)
            pairs.append((doc.text[key.start_mark.index:key.end_mark.index], _block_of(doc, value, target, extra, what)))
        if node is target:
            names = [k for k, dummy in pairs]
            for key, value in extra:
                if key in names and not isinstance(value, list):
                    pairs[names.index(key)] = (key, value)
                else:
                    pairs = _merge_pairs(pairs, [(key, value)])
        return pairs or '{}'
    if isinstance(node, SequenceNode):
        items = Seq(_block_of(doc, item, target, extra, what) for item in node.value)
        if node is target:
            items.extend(extra)
        if any(not isinstance(item, list) for item in items):
            raise ConfigError('%s has a list item that is a single value' % what)
        return items or '[]'
    if node.start_mark.line != node.end_mark.line:
        raise ConfigError('%s has a value over several lines; write it in block style first' % what)
    return doc.text[node.start_mark.index:node.end_mark.index]


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
    bom = BOM if text.startswith(BOM) else ''
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
    new_text = bom + new_text
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
    words = _sh_words(raw.strip())
    if len(words) != 1:
        return raw.strip()
    return _sh_value(words[0].pieces, si_home)


# The shell's word boundaries and quoting, as far as carbon.sh needs them (POSIX sh):
# backslash-newline joins lines (outside single quotes), '...' is literal, "..." keeps
# $-expansions, backslash escapes; # at the start of a word starts a comment; here-documents
# are skipped. A word is a list of pieces (kind, text, start, end, context): kind 'lit' (one
# character the word holds) or 'exp' (an expansion, text as written); context 'bare', 'dq', 'sq'.
_SH_BLANK = ' \t\n'
_SH_OPERATOR = ';&|()<>'
_SH_CARBON_HOME = ('$CARBON_HOME', '${CARBON_HOME}')


class _ShWord(object):
    def __init__(self, start):
        self.start = start
        self.end = start
        self.pieces = []
        self.unsure = False  # a construct only some shells read the same way ($'...', $"...")


def _sh_skip_quoted(text, i, close):
    """Index after the ``close`` character that ends a $(...), ${...} or `...` started before i."""
    depth = 1
    opener = {')': '(', '}': '{'}.get(close)
    n = len(text)
    while i < n:
        c = text[i]
        if c == '\\':
            i += 2
            continue
        if close != '`' and c == "'":
            end = text.find("'", i + 1)
            i = n if end < 0 else end + 1
            continue
        if c == opener:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ConfigError('an expansion is not closed')


def _sh_expansion(text, i):
    """(end, unsure) of the $-construct at ``i``, or None when the $ is a literal character."""
    nxt = text[i + 1:i + 2]
    if nxt == '{':
        return _sh_skip_quoted(text, i + 2, '}'), False
    if nxt == '(':
        return _sh_skip_quoted(text, i + 2, ')'), False
    m = re.compile(r'[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]').match(text, i + 1)
    if m:
        return m.end(), False
    if nxt in ("'", '"'):
        return None, True
    return None, False


def _sh_heredoc_delimiters(text, i):
    """Delimiters of the here-documents the operator ``<<`` at ``i`` starts (one)."""
    m = re.compile(r'<<(-?)[ \t]*(\\?)(["\']?)([A-Za-z0-9_.-]+)\3').match(text, i)
    if not m:
        return None, i + 2
    return (m.group(4), bool(m.group(1))), m.end()


def _sh_words(text):
    """The words of ``text`` as the shell splits them (see above). Raises ConfigError for an
    unterminated quote or expansion."""
    words = []
    heredocs = []
    i, n = 0, len(text)
    word = None
    while i <= n:
        c = text[i] if i < n else ''
        if word is None:
            if c == '':
                break
            if c == '\\' and text[i + 1:i + 2] == '\n':
                i += 2
                continue
            if c == '\n' and heredocs:
                i = _sh_skip_heredocs(text, i + 1, heredocs)
                heredocs = []
                continue
            if c in _SH_BLANK:
                i += 1
                continue
            if c == '#':
                nl = text.find('\n', i)
                i = n if nl < 0 else nl
                continue
            if text.startswith('<<', i):
                delimiter, i = _sh_heredoc_delimiters(text, i)
                if delimiter:
                    heredocs.append(delimiter)
                continue
            if c in _SH_OPERATOR:
                i += 1
                continue
            word = _ShWord(i)
        if c == '' or c in _SH_BLANK or c in _SH_OPERATOR:
            word.end = i
            words.append(word)
            word = None
            continue
        if c == '\\':
            if text[i + 1:i + 2] == '\n':
                i += 2
            elif i + 1 < n:
                word.pieces.append(('lit', text[i + 1], i, i + 2, 'bare'))
                i += 2
            else:
                word.pieces.append(('lit', c, i, i + 1, 'bare'))
                i += 1
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ConfigError('a single quote is not closed')
            for k in range(i + 1, end):
                word.pieces.append(('lit', text[k], k, k + 1, 'sq'))
            word.pieces.append(('quote', "'", end, end + 1, 'sq'))
            i = end + 1
        elif c == '"':
            i = _sh_double_quoted(text, i + 1, word)
        elif c in '$`':
            i = _sh_expansion_piece(text, i, word, 'bare')
        else:
            word.pieces.append(('lit', c, i, i + 1, 'bare'))
            i += 1
    return words


def _sh_skip_heredocs(text, i, heredocs):
    for delimiter, strip_tabs in heredocs:
        while i < len(text):
            nl = text.find('\n', i)
            line = text[i:] if nl < 0 else text[i:nl]
            i = len(text) if nl < 0 else nl + 1
            if (line.lstrip('\t') if strip_tabs else line) == delimiter:
                break
    return i


def _sh_expansion_piece(text, i, word, context):
    if text[i] == '`':
        end = _sh_skip_quoted(text, i + 1, '`')
    else:
        end, unsure = _sh_expansion(text, i)
        word.unsure = word.unsure or unsure
        if end is None:
            word.pieces.append(('lit', '$', i, i + 1, context))
            return i + 1
    word.pieces.append(('exp', text[i:end], i, end, context))
    return end


def _sh_double_quoted(text, i, word):
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            word.pieces.append(('quote', '"', i, i + 1, 'dq'))
            return i + 1
        if c == '\\' and i + 1 < n and text[i + 1] == '\n':
            i += 2
        elif c == '\\' and i + 1 < n and text[i + 1] in '$`"\\':
            word.pieces.append(('lit', text[i + 1], i, i + 2, 'dq'))
            i += 2
        elif c in '$`':
            i = _sh_expansion_piece(text, i, word, 'dq')
        else:
            word.pieces.append(('lit', c, i, i + 1, 'dq'))
            i += 1
    raise ConfigError('a double quote is not closed')


def _sh_value(pieces, si_home=None):
    """The text the pieces give the program: $CARBON_HOME replaced by si_home when given,
    any other expansion left as written."""
    out = []
    for kind, text, dummy, dummy2, dummy3 in pieces:
        if kind == 'lit':
            out.append(text)
        elif kind == 'exp':
            out.append(si_home.rstrip('/') if si_home is not None and text in _SH_CARBON_HOME else text)
    return ''.join(out)


def _sh_symbols(pieces):
    """What the pieces mean, independent of quoting: compares two spellings of a value."""
    return tuple((kind, '$CARBON_HOME' if text in _SH_CARBON_HOME else text)
                 for kind, text, dummy, dummy2, dummy3 in pieces if kind != 'quote')


class _LauncherOption(object):
    """One -Djavax.net.ssl.<prop>=VALUE word: the source span of VALUE (from after the '='
    to the end of the word, continuations and all) and the quoting context at the '='."""

    def __init__(self, prop, word, eq):
        self.prop = prop
        self.word = word
        self.pieces = word.pieces[eq + 1:]
        self.start = word.pieces[eq][3]
        self.end = word.end
        self.context = word.pieces[eq][4]

    def replacement(self, text):
        """Source text that makes the word's value the shell word ``text`` while keeping
        everything up to the '=' byte for byte: a quote open at the '=' is closed first."""
        return {'bare': '', 'dq': '"', 'sq': "'"}[self.context] + text


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


_LAUNCHER_OPTION = re.compile(r'-Djavax\.net\.ssl\.(%s)=' % '|'.join(p for p, dummy in LAUNCHER_PROPS))


class LauncherLines(object):
    """carbon.sh read as the shell reads it: its -Djavax.net.ssl.* words, wherever they
    are on their lines and however they are continued."""

    def __init__(self, text, what):
        self.text = text
        self.what = what
        self.lines = text.splitlines(True)
        self.found = {}
        try:
            self.words = _sh_words(text)
        except ConfigError as exc:
            raise ConfigError('%s cannot be read as the shell reads it (%s); nothing was changed'
                              % (what, exc)) from exc
        for word in self.words:
            literal = []
            for kind, char, dummy, dummy2, dummy3 in word.pieces:
                if kind == 'exp':
                    break
                literal.append(char if kind == 'lit' else '')
            m = _LAUNCHER_OPTION.match(''.join(literal))
            if not m:
                continue
            if word.unsure:
                raise ConfigError('%s writes -Djavax.net.ssl.%s with $\'...\' or $"...", which shells read '
                                  'differently; edit it by hand first' % (what, m.group(1)))
            count = 0
            for eq, piece in enumerate(word.pieces):
                count += piece[0] == 'lit'
                if count == m.end():
                    break
            self.found.setdefault(m.group(1), []).append(_LauncherOption(m.group(1), word, eq))

    def get(self, prop):
        hits = self.found.get(prop, [])
        if len(hits) > 1:
            raise ConfigError('%s sets -Djavax.net.ssl.%s %d times; edit it by hand first' % (self.what, prop, len(hits)))
        return hits[0] if hits else None

    def values(self, si_home):
        """{prop: the value the JVM receives}, $CARBON_HOME read as si_home."""
        out = {}
        for prop, dummy in LAUNCHER_PROPS:
            hit = self.get(prop)
            if hit is not None:
                out[prop] = _sh_value(hit.pieces, si_home)
        return out

    def others(self):
        """Every word but the values of the -Djavax.net.ssl.* options, as the shell reads them."""
        ours = set(id(h.word) for hits in self.found.values() for h in hits)
        return [_sh_symbols(w.pieces) for w in self.words if id(w) not in ours]


def read_launcher(data, what):
    if isinstance(data, bytes):
        try:
            data = data.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise ConfigError('%s is not UTF-8 text' % what) from exc
    return LauncherLines(data, what)


def plan_launcher(data, settings, si_home, what='carbon.sh'):
    """(new_text, changed_props) for the launcher: only the values of its -Djavax.net.ssl.*
    options change (every other byte stays), and the result is read back as the shell
    reads it to prove the JVM gets exactly the wanted values."""
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
    edits = []
    changed = []
    for prop, text in wanted:
        hit = launcher.get(prop)
        if _sh_symbols(hit.pieces) == _sh_symbols(_sh_words(text)[0].pieces):
            continue
        edits.append((hit.start, hit.end, hit.replacement(text)))
        changed.append('javax.net.ssl.%s' % prop)
    new_text = _apply(launcher.text, edits)
    if edits:
        check = read_launcher(new_text, what)
        got = dict((prop, _sh_symbols(check.get(prop).pieces)) for prop, dummy in wanted if check.get(prop))
        if got != dict((prop, _sh_symbols(_sh_words(text)[0].pieces)) for prop, text in wanted) \
                or check.others() != launcher.others():  # pragma: no cover - a bug guard
            raise ConfigError('%s: the shell would not read the changed launcher as intended; nothing was changed'
                              % what)
    return new_text, changed


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
    """(before, after) launchers with the value of every -Djavax.net.ssl.*Password masked,
    wherever it is on its line and however it is continued."""
    out = []
    old = {}
    for n, text in enumerate((before, after)):
        try:
            launcher = LauncherLines(text, 'carbon.sh')
        except ConfigError:
            out.append(_mask_known(text, secrets))
            continue
        edits = []
        for prop, hits in sorted(launcher.found.items()):
            if not prop.endswith('Password'):
                continue
            for hit in hits:
                value = _sh_symbols(hit.pieces)
                if not value:
                    continue
                if n == 0:
                    old[prop] = value
                    mask = MASK
                else:
                    mask = MASK if old.get(prop) == value else MASK + ' (changed)'
                edits.append((hit.start, hit.end, hit.replacement('"%s"' % mask)))
        out.append(_mask_known(_apply(text, edits), secrets))
    return out[0], out[1]


def write_file(module, path, data, mode=None, backup=False, enforce_mode=False):
    """Atomically replace ``path`` with ``data`` (bytes), by fileio's rules (owner
    and group of the file replaced or of its directory, ACLs kept, a link
    followed). ``enforce_mode``: a private file (``fileio.private_mode``: never
    readable by others, the group's read kept). Returns the backup file, if one
    was made."""
    files = write_files(module, [dict(path=path, data=data, mode=mode, backup=backup, enforce_mode=enforce_mode)])
    return files.get(path)


def write_files(module, files):
    """Write several files as one change (``fileio.WriteSet``), in the order given:
    each a dict(path, data, mode=None, backup=False, enforce_mode=False). Returns
    {path: backup file}."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import WriteSet
    ws = WriteSet()
    for f in files:
        private = bool(f.get('enforce_mode')) and f.get('mode') is not None
        ws.add(f['path'], f['data'], mode=f.get('mode'), private=private, backup=bool(f.get('backup')))
    return ws.commit()


def mode_differs(path, mode):
    """True when ``path`` exists and its mode is not what a write with
    ``enforce_mode`` would give it (``fileio.private_mode``)."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.fileio import private_mode
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_mode & 0o7777) != private_mode(mode, st, os.path.realpath(path))


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
    """docs/si-reference.md section 2: exactly one key entry, whose key password is the store password."""
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
    """[(alias, kind)] of entries holding shipped WSO2 material (``defaults.shipped_entries``,
    the one rule: a shipped certificate or a shipped public key, in any entry)."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import shipped_entries
    return [(found.alias, found.kind) for found in shipped_entries(store)]


def cert_fingerprint(cert):
    from ansible_collections.wso2si.keystores.plugins.module_utils.certificates import fingerprint
    return fingerprint(cert)


def shipped_fingerprints_of_cert(cert):
    """True when ``cert`` is, or carries the public key of, a shipped WSO2 certificate (docs/si-reference.md section 4)."""
    from ansible_collections.wso2si.keystores.plugins.module_utils.certificates import cert_to_der
    from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import shipped_certificate_der
    return shipped_certificate_der(cert_to_der(cert)) is not None


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
        elif secrets[alias] is None:
            findings.append(_undecrypted_secret(secrets_path, alias, vault, vault_path, vault_alias))

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
            findings.extend(sweep_launcher(raw, launcher_path))
    findings.extend(sweep_deployment(doc, profile))
    return _dedupe(findings), facts


# ---------------------------------------------------------------- the sweep: shipped names anywhere

# A shipped store's file name as a whole path component or word (wso2carbon.jks, not my-wso2carbon.jks).
SHIPPED_STORE_NAME = re.compile(r'(?<![A-Za-z0-9_.-])(%s)(?![A-Za-z0-9_-])'
                                % '|'.join(re.escape(n) for n in SHIPPED_STORE_FILES))
# keys that name an alias or a user, not a password (wso2.securevault's privateKeyAlias: wso2carbon is an alias)
NOT_A_PASSWORD_KEY = re.compile(r'(?i)(alias|user(name)?)$')
# the embedded H2 databases' credentials (also wso2carbon in every download) guard no key material; the
# keystore audit leaves them to whoever secures the databases
NOT_KEY_MATERIAL = ('wso2.datasources.',)


def _item_label(item, index):
    """``[id=x]`` / ``[name=x]`` for a list item that has such a key, else ``[index]``."""
    if isinstance(item, MappingNode):
        for k, v in item.value:
            if isinstance(k, ScalarNode) and k.value in ('id', 'name') and isinstance(v, ScalarNode):
                return '[%s=%s]' % (k.value, v.value)
            if isinstance(v, MappingNode) and isinstance(k, ScalarNode):
                for k2, v2 in v.value:
                    if isinstance(k2, ScalarNode) and k2.value == 'name' and isinstance(v2, ScalarNode):
                        return '[%s.name=%s]' % (k.value, v2.value)
    return '[%d]' % index


def scalar_paths(doc):
    """(yaml_path, key, value_node) for every scalar value of the document; the path joins keys
    with dots and names list items by their id or name (``a.list[id=x].key``)."""
    out = []

    def visit(node, path, key):
        if isinstance(node, ScalarNode):
            out.append((path, key, node))
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                name = k.value if isinstance(k, ScalarNode) else '?'
                visit(v, (path + '.' if path else '') + name, name)
        elif isinstance(node, SequenceNode):
            for n, item in enumerate(node.value):
                visit(item, path + _item_label(item, n), key)
    visit(doc.root, '', None)
    return out


def _audited_nodes(doc, profile):
    """Value nodes of the known locations: the audit above already judged them (by opening the store)."""
    seen = set()
    for loc in LOCATIONS + OPTIONAL_LOCATIONS:
        try:
            node = doc.find(loc)
        except ConfigError:
            continue
        if node is None:
            continue
        for key, dummy in loc.keys:
            pair = doc.get(node, key, loc.label)
            if pair is not None:
                seen.add(id(pair[1]))
    return seen


def sweep_deployment(doc, profile):
    """Findings for every scalar of deployment.yaml, outside the known locations, that names a
    shipped store file or is the shipped password (a second listener, an http-sender, a Siddhi
    extension...): SI components this module does not know read them all the same."""
    findings = []
    audited = _audited_nodes(doc, profile)
    for path, key, node in scalar_paths(doc):
        if id(node) in audited or not isinstance(node.value, str):
            continue
        value = node.value
        where = 'line %d' % (node.start_mark.line + 1)
        match = SHIPPED_STORE_NAME.search(value)
        if match:
            findings.append(Finding('default_store_file', doc.what, path,
                                    'names the shipped %s (%s)' % (match.group(1), where), key=key))
        if value == DEFAULT_PASSWORD and not (key and NOT_A_PASSWORD_KEY.search(key)) \
                and not path.startswith(NOT_KEY_MATERIAL):
            findings.append(Finding('default_password', doc.what, path,
                                    'the value is the shipped password "%s" (%s)' % (DEFAULT_PASSWORD, where),
                                    key=key))
    return findings


LAUNCHER_PROPERTY = re.compile(r'-D(?P<prop>[A-Za-z0-9_.-]+)=(?P<value>.*)$', re.S)


def sweep_launcher(raw, what):
    """Findings for every word of the launcher, as the shell joins and unquotes it, besides the
    four -Djavax.net.ssl.* options the audit judged, that names a shipped store file or passes the
    shipped password; each is reported with the line its word starts on."""
    if isinstance(raw, bytes):
        raw = raw.decode('utf-8', 'replace')
    try:
        launcher = LauncherLines(raw, what)
    except ConfigError:
        return []  # the audit of the four options has said so already
    audited = set(id(h.word) for hits in launcher.found.values() for h in hits)
    findings = []
    for word in launcher.words:
        if id(word) in audited:
            continue
        value = _sh_value(word.pieces)
        label = '%s line %d' % (os.path.basename(what), raw.count('\n', 0, word.start) + 1)
        prop = LAUNCHER_PROPERTY.match(value)
        match = SHIPPED_STORE_NAME.search(value)
        if match:
            findings.append(Finding('default_store_file', what, label, 'names the shipped %s' % match.group(1),
                                    key=prop.group('prop') if prop else None))
        if prop and prop.group('value') == DEFAULT_PASSWORD and not NOT_A_PASSWORD_KEY.search(prop.group('prop')):
            findings.append(Finding('default_password', what, label,
                                    'passes the shipped password "%s"' % DEFAULT_PASSWORD, key=prop.group('prop')))
    return findings


def _undecrypted_secret(secrets_path, alias, vault, vault_path, vault_alias):
    """A ${sec:} alias whose entry the configured vault does not decrypt: SI reads it as an
    empty string, silently (an entry of another key), or the audit cannot tell."""
    where = '${sec:%s}' % alias
    if vault is None or vault.private_key is None:
        return Finding('unverified_secret', secrets_path, where,
                       'the entry %r was not checked: no known password unlocks the vault key (%s, alias %r)'
                       % (alias, vault_path, vault_alias))
    return Finding('undecryptable_secret', secrets_path, where,
                   'the vault key (%s, alias %r) does not decrypt the entry %r (another key\'s, or not a valid '
                   'entry), so SI reads an empty value' % (vault_path, vault_alias, alias))


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
    from ansible_collections.wso2si.keystores.plugins.module_utils.defaults import shipped_entries
    for found in shipped_entries(store):
        if found.kind == 'private_key':
            findings.append(Finding('shipped_key', file, label,
                                    '%s holds the shipped WSO2 key under the alias %r (%s)'
                                    % (path, found.alias, found.where), key=key))
        else:
            findings.append(Finding('trusts_shipped_certificate', file, label,
                                    '%s trusts the shipped WSO2 certificate (alias %r; %s), whose key everyone has'
                                    % (path, found.alias, found.where), key=key))
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
