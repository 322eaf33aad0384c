# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""SI's deployment.yaml rewired in place: the edits that make every location of
docs/si-reference.md section 1 name the wanted stores and passwords.

Only the value spans of the locations' keys are replaced (yaml_text); optional
blocks (``ssl.configs``, the Siddhi ``http`` source/sink overrides) are added as
new lines when missing. ``plan_deployment()`` returns the new text, checked to
parse and to hold exactly the wanted values, or raises ConfigError.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.wso2si.keystores.plugins.module_utils.errors import ConfigError, InvalidInputError
from ansible_collections.wso2si.keystores.plugins.module_utils.si_locations import (
    HTTPS_LISTENER_SECTIONS, PASSWORD_ROLES, PATH_ROLES, SIDDHI_HTTP_SINK, SIDDHI_HTTP_SOURCE, SSL_CONFIGS,
    config_path_text, location, locations_for, missing_locations, placeholder_of,
)
from ansible_collections.wso2si.keystores.plugins.module_utils.yaml_text import (
    BOM, SAFE_LOADER, DeploymentConfig, MappingNode, ScalarNode, Seq, SequenceNode, apply_edits, block_of,
    insert_at_line, is_string_scalar, render_lines, render_scalar, template, yaml, yaml_value,
)


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


def profile_of(doc):
    """'tooling' or 'server', told apart by content: the tooling profile's server
    name says Tooling, or its HTTPS listener is on 9740."""
    carbon = doc.get(doc.root, 'wso2.carbon', None)
    if carbon is not None and isinstance(carbon[1], MappingNode):
        name = doc.get(carbon[1], 'name', 'wso2.carbon')
        if name is not None and isinstance(name[1], ScalarNode) and 'tooling' in name[1].value.lower():
            return 'tooling'
    listener = doc.find(location('https_listener'))
    if listener is not None:
        port = doc.get(listener, 'port', location('https_listener').label)
        if port is not None and isinstance(port[1], ScalarNode) and port[1].value == '9740':
            return 'tooling'
    return 'server'


class Change(object):
    def __init__(self, location, file, keys):
        self.location = location
        self.file = file
        self.keys = keys

    def as_dict(self):
        return {'location': self.location, 'file': self.file, 'keys': list(self.keys)}


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


def plan_location(doc, location, settings, si_home):
    """Edits for one location: scalar replacements for the keys that exist, new lines
    for missing keys of an optional block (and for the block itself). Returns
    (edits, changed_keys, complete) where complete is False when a new level had to be
    created (the caller re-parses and plans again)."""
    node, depth, chain = doc.walk(location)
    found = depth == len(location.steps)
    wanted = _wanted(doc, location, settings, si_home, node if found else None)
    if not wanted:
        return [], [], True
    flow = [n for n in chain[1:] if n.flow_style]
    if location.optional and flow:
        return _unflow(doc, location, chain, flow[0], node, depth, wanted)
    if not found:
        if not location.optional:
            raise ConfigError('%s lacks %s; this module does not invent SI\'s structure' % (doc.what, location.label))
        return _create_rest(doc, location, node, depth, wanted), [w[0] for w in wanted], False
    edits, changed = _edit_keys(doc, location, node, wanted)
    return edits, changed, True


def _current(doc, location, node, key):
    """The string ``key`` holds in the location's mapping ``node`` (None: absent, not a scalar, or no node)."""
    pair = doc.get(node, key, location.label) if node is not None else None
    if pair is not None and isinstance(pair[1], ScalarNode):
        return pair[1].value
    return None


def _wanted(doc, location, settings, si_home, node):
    """[(key, role, text)]: the keys of ``location`` being set, and the text each should hold."""
    wanted = []
    for key, role in location.keys:
        text = desired_text(role, settings, location, _current(doc, location, node, key), si_home)
        if text is not None:
            wanted.append((key, role, text))
    return wanted


def _edit_keys(doc, location, node, wanted):
    """(edits, changed keys) for a location that exists: its keys replaced, the missing keys of an
    optional block added."""
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
        edits.append(insert_at_line(doc, doc.last_line(node), lines))
        changed.extend(m[0] for m in missing)
    return edits, changed


def _new_scalar(text, role, key, location):
    if role in PASSWORD_ROLES and not text.startswith('${sec:'):
        return render_scalar(text, "'", '%s > %s' % (location.label, key))
    return render_scalar(text, None, '%s > %s' % (location.label, key))


def _create_rest(doc, location, node, depth, wanted):
    """Edit that creates the missing levels of an optional location below ``node``."""
    leaf = [(key, _new_scalar(text, role, key, location)) for key, role, text in wanted]
    rest = location.steps[depth:]
    if depth == 0:
        lines = render_lines(template(rest, leaf), 0)
        header = ['', '# Added by wso2si.keystores.si_config']
        index = doc.document_end()
        prefix = '' if doc.text[:index].endswith('\n') or not index else doc.newline
        return [(index, index, prefix + ''.join(l + doc.newline for l in header + lines))]
    if isinstance(node, SequenceNode):
        # rest starts with the select step: append one item to the list
        column = doc.dash_column(node) if node.value else node.start_mark.column
        return [insert_at_line(doc, doc.last_line(node), render_lines(template(rest, leaf), column))]
    if isinstance(node, MappingNode):
        indent = node.value[0][0].start_mark.column if node.value else node.start_mark.column
        return [insert_at_line(doc, doc.last_line(node), render_lines(template(rest, leaf), indent))]
    raise ConfigError('%s: cannot add %s below a single value' % (doc.what, location.label))


def _unflow(doc, location, chain, flow, node, depth, wanted):
    """The edit that rewrites ``flow`` (the outermost flow collection, e.g. ``siddhi:
    {extensions: []}``, on the way to an optional location) in block style, with the
    missing part of the location merged in. Returns plan_location()'s triple."""
    found = depth == len(location.steps)
    if found and _holds_already(doc, location, node, wanted):
        return [], [], True
    leaf = [(key, _new_scalar(text, role, key, location)) for key, role, text in wanted]
    extra = leaf if found else template(location.steps[depth:], leaf)
    if not isinstance(node, (MappingNode, SequenceNode)) or isinstance(extra, Seq) != isinstance(node, SequenceNode):
        raise ConfigError('%s: cannot add %s below a single value' % (doc.what, location.label))
    indent = _block_indent(chain, flow)
    what = '%s: %s, written in flow style,' % (doc.what, location.label)
    _check_block_reads_the_same(doc, flow, indent, what)
    new = block_of(doc, flow, node, extra, what)
    # the collection leaves its line (a comment after it stays there); its block lines follow
    start = flow.start_mark.index
    while start > 0 and doc.text[start - 1] in ' \t':
        start -= 1
    return [(start, flow.end_mark.index, ''), insert_at_line(doc, flow.end_mark.line, render_lines(new, indent))], \
        [w[0] for w in wanted], False


def _holds_already(doc, location, node, wanted):
    """True when every wanted key of the location's mapping ``node`` holds its text already."""
    current = [doc.get(node, key, location.label) for key, dummy, dummy2 in wanted]
    return all(pair is not None and is_string_scalar(pair[1]) and pair[1].value == text
               for pair, (dummy, dummy2, text) in zip(current, wanted))


def _block_indent(chain, flow):
    """The indent of the block lines that replace the flow collection ``flow``."""
    parent = chain[chain.index(flow) - 1]
    if isinstance(parent, MappingNode):
        key = [k for k, v in parent.value if v is flow][0]
        return key.start_mark.column + 2
    return flow.start_mark.column


def _check_block_reads_the_same(doc, flow, indent, what):
    """The flow collection written in block style must load as the same data."""
    old = block_of(doc, flow, None, None, what)
    if isinstance(old, list) and yaml.load(yaml_value(old, indent, '\n'), Loader=SAFE_LOADER) != \
            yaml.load('k: ' + doc.text[flow.start_mark.index:flow.end_mark.index], Loader=SAFE_LOADER):
        raise ConfigError('%s cannot be rewritten in block style by this module; write it in block style first'
                          % what)


class DeploymentPlan(object):
    def __init__(self, before, after, changes, profile, after_data=None):
        self.before = before
        self.after = after
        self.after_data = after_data  # ``after`` loaded as plain YAML data
        self.changes = changes
        self.profile = profile

    @property
    def changed(self):
        return self.before != self.after


def plan_deployment(text, settings, si_home, ssl_configs=False, siddhi_http=False, what='deployment.yaml'):
    """The new deployment.yaml text. ``settings`` maps roles to values: paths for
    *_path roles, Password objects for *_password roles, a string for vault_alias.
    Raises ConfigError (nothing written) for anything it cannot do exactly."""
    doc = DeploymentConfig.parse(text, what)
    bom = BOM if text.startswith(BOM) else ''
    profile = profile_of(doc)
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
    new_text = apply_edits(doc.text, edits)
    optional = ([SSL_CONFIGS] if ssl_configs else []) + ([SIDDHI_HTTP_SOURCE, SIDDHI_HTTP_SINK] if siddhi_http else [])
    for loc in optional:
        new_text, keys_changed = _plan_optional(new_text, loc, settings, si_home, what)
        if keys_changed:
            changes.append(Change(loc.label, what, keys_changed))
    new_text = bom + new_text
    after_data = check_result(text, new_text, settings, si_home, optional, what)
    return DeploymentPlan(text, new_text, changes, profile, after_data)


def _plan_optional(text, loc, settings, si_home, what):
    """(new text, keys changed) for an optional block, created level by level (each level
    added is parsed again before the next)."""
    keys_changed = []
    for dummy in range(len(loc.steps) + 1):
        doc = DeploymentConfig.parse(text, what)
        loc_edits, keys, complete = plan_location(doc, loc, settings, si_home)
        text = apply_edits(doc.text, loc_edits)
        keys_changed.extend(k for k in keys if k not in keys_changed)
        if complete:
            break
    return text, keys_changed


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
    for loc in locations_for(profile_of(new), new) + optional:
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
