# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""YAML text edited in place: the PyYAML gate, scalars judged the way SI's SnakeYAML
reads them, and a document as text plus its node tree.

PyYAML's ``compose`` gives every scalar's exact character span, so a value is
replaced by editing those characters only: comments, blank lines, key order,
quoting and ``key : value`` spacing elsewhere stay byte for byte. Missing levels
are added as new lines (``render_lines``), and a flow collection on the way is
rewritten in block style (``block_of``). Edits are ``(start, end, text)`` triples
applied by ``apply_edits``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError
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

STR_TAG = 'tag:yaml.org,2002:str'
BOM = '\ufeff'


def check_yaml_dependency(module):
    """Fail the module with the install hint when PyYAML is missing."""
    if YAML_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib('PyYAML >= %s' % MINIMUM_PYYAML_VERSION),
                         exception=YAML_IMPORT_ERROR)


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
                found = self._key_step(node, step[1], where, location)
                where = (where + ' > ' if where else '') + step[1]
            else:
                found = self._select_step(node, step[1], where, location)
            if found is None:
                return node, n, chain
            node = found
            chain.append(node)
        if not isinstance(node, MappingNode):
            raise ConfigError('%s: %s is not a mapping' % (self.what, location.label))
        if node.flow_style and not location.optional:  # an optional block in flow style is rewritten in block style
            raise ConfigError('%s: %s is written in flow style ({...}); this module edits block style only'
                              % (self.what, location.label))
        return node, len(location.steps), chain

    def _key_step(self, node, key, where, location):
        """The value of ``key`` in the mapping ``node`` (None when absent)."""
        if not isinstance(node, MappingNode):
            raise ConfigError('%s: %s is not a mapping, so %s cannot be found'
                              % (self.what, where or 'the top level', location.label))
        pair = self.get(node, key, where)
        return None if pair is None else pair[1]

    def _select_step(self, node, conditions, where, location):
        """The one item of the sequence ``node`` matching ``conditions`` (None when none does)."""
        if not isinstance(node, SequenceNode):
            raise ConfigError('%s: %s is not a list, so %s cannot be found' % (self.what, where, location.label))
        items = [item for item in node.value if self._matches(item, conditions)]
        if len(items) > 1:
            raise ConfigError('%s: %s matches %d list items under %s; SI would use only one'
                              % (self.what, location.label, len(items), where))
        return items[0] if items else None

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


# ---------------------------------------------------------------- edits

def apply_edits(text, edits):
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


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


def template(steps, leaf):
    """The structure (for render_lines) to create for the remaining ``steps``, ending in ``leaf`` (a list of pairs)."""
    obj = leaf
    for step in reversed(steps):
        if step[0] == 'key':
            obj = [(step[1], obj)]
        else:
            item = []
            for path, wanted in step[1]:
                _merge_condition(item, list(path), render_scalar(wanted, None, wanted))
            obj = Seq([merge_pairs(item, obj)])
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


def merge_pairs(base, extra):
    """Merge the pair list ``extra`` into ``base`` (nested pair lists are merged by key)."""
    out = list(base)
    for key, value in extra:
        for n, (k, v) in enumerate(out):
            if k == key and isinstance(v, list) and isinstance(value, list):
                out[n] = (k, merge_pairs(v, value))
                break
        else:
            out.append((key, value))
    return out


def insert_at_line(doc, line, lines):
    """Edit that inserts ``lines`` after 0-based ``line``, with the file's line ending."""
    index = doc.line_start(line + 1)
    prefix = ''
    if index == len(doc.text) and doc.text and not doc.text.endswith('\n'):
        prefix = doc.newline
    return (index, index, prefix + ''.join(l + doc.newline for l in lines))


def yaml_value(obj, indent, newline):
    """``obj`` (from block_of) as the block-style value of a key ``k``."""
    return newline.join(['k:'] + render_lines(obj, indent))


def block_of(doc, node, target, extra, what):
    """The structure render_lines() writes for ``node`` (a flow collection), its scalars as
    written; ``extra`` is merged into ``target``. An empty collection stays ``{}``/``[]``."""
    if isinstance(node, MappingNode):
        return _block_mapping(doc, node, target, extra, what)
    if isinstance(node, SequenceNode):
        items = Seq(block_of(doc, item, target, extra, what) for item in node.value)
        if node is target:
            items.extend(extra)
        if any(not isinstance(item, list) for item in items):
            raise ConfigError('%s has a list item that is a single value' % what)
        return items or '[]'
    if node.start_mark.line != node.end_mark.line:
        raise ConfigError('%s has a value over several lines; write it in block style first' % what)
    return doc.text[node.start_mark.index:node.end_mark.index]


def _block_mapping(doc, node, target, extra, what):
    pairs = []
    for key, value in node.value:
        if not isinstance(key, ScalarNode):
            raise ConfigError('%s has a key that is not a single value' % what)
        pairs.append((doc.text[key.start_mark.index:key.end_mark.index], block_of(doc, value, target, extra, what)))
    if node is target:
        names = [k for k, dummy in pairs]
        for key, value in extra:
            if key in names and not isinstance(value, list):
                pairs[names.index(key)] = (key, value)
            else:
                pairs = merge_pairs(pairs, [(key, value)])
    return pairs or '{}'
