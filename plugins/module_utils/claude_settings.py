# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one writer of JSON settings files (claude_settings and model_pins): read, merge, render, write.

The merge helpers are pure. Key order is preserved everywhere: Python dicts keep insertion order,
existing keys keep their position and new keys are appended at the end of their object.
``read_document`` and ``write_document`` do the file part through ``home_fs`` (regular files only,
bounded reads, atomic writes through a directory descriptor); ``render_document`` keeps the file's
indentation, final-newline state and UTF-8 BOM.
"""

from __future__ import annotations

import copy
import json
import re

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import home_fs

DEFAULT_INDENT = 2

_INDENT_RE = re.compile(r'^[{\[]\s*\n([ \t]+)\S', re.MULTILINE)


class SettingsParseError(Exception):
    """The text is not a JSON object. Carries the position for a precise message."""

    def __init__(self, reason, lineno=None, colno=None):
        self.reason = reason
        self.lineno = lineno
        self.colno = colno
        where = '' if lineno is None else ' at line %d column %d' % (lineno, colno)
        super().__init__('%s%s' % (reason, where))


def _reject_constant(name):
    raise ValueError('%s is not valid JSON' % name)


def parse_settings(text):
    """Parse a settings document; an empty or whitespace-only text is an empty object."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SettingsParseError(exc.msg, exc.lineno, exc.colno) from None
    except ValueError as exc:
        raise SettingsParseError(str(exc)) from None
    if not isinstance(data, dict):
        raise SettingsParseError('the top-level value is a JSON %s, not an object' % type_name(data))
    return data


def type_name(value):
    """JSON type name of a parsed value."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'array'
    if isinstance(value, dict):
        return 'object'
    return type(value).__name__


def _kind(value):
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, int):
        return 'int'
    if isinstance(value, float):
        return 'float'
    if isinstance(value, str):
        return 'str'
    if isinstance(value, dict):
        return 'dict'
    if isinstance(value, (list, tuple)):
        return 'list'
    if value is None:
        return 'null'
    return type(value).__name__


def strict_equal(left, right):
    """Compare parsed JSON data. Unlike ``==``, ``true`` differs from ``1`` and ``1`` from ``1.0``."""
    if left is right:
        return True
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == 'dict':
        if set(left) != set(right):
            return False
        return all(strict_equal(left[key], right[key]) for key in left)
    if kind == 'list':
        if len(left) != len(right):
            return False
        return all(strict_equal(a, b) for a, b in zip(left, right))
    return left == right


def detect_indent(text):
    """Indentation of an existing document: the whitespace before its first nested line, else 2."""
    match = _INDENT_RE.search(text)
    if not match:
        return DEFAULT_INDENT
    unit = match.group(1)
    if set(unit) == {' '}:
        return len(unit)
    return unit


def dump_settings(data, indent=DEFAULT_INDENT, trailing_newline=True):
    """Serialise like ``JSON.stringify(data, null, indent)``: insertion order, UTF-8, ``": "``."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, separators=(',', ': '))
    return text + '\n' if trailing_newline else text


def normalize_key_path(path):
    """A key path is a list of keys (any strings), or a string of non-empty keys joined by dots."""
    if isinstance(path, str):
        parts = path.split('.')
        if any(part == '' for part in parts):
            raise ValueError('invalid key path %r: empty key (use the list form for keys that are empty or contain dots)' % (path,))
    elif isinstance(path, (list, tuple)):
        parts = [str(part) for part in path]
    else:
        raise ValueError('a key path must be a string or a list of strings, got %r' % (path,))
    if not parts:
        raise ValueError('invalid key path %r: no keys' % (path,))
    return tuple(parts)


def format_key_path(parts):
    """Dotted form of a key path, used in the changed_keys return value."""
    return '.'.join(parts)


def leaf_paths(managed, prefix=()):
    """Key paths of the leaves of a nested dict (lists and empty objects are leaves)."""
    paths = []
    for key, value in managed.items():
        here = prefix + (key,)
        if isinstance(value, dict) and value:
            paths.extend(leaf_paths(value, here))
        else:
            paths.append(here)
    return paths


def _to_plain(value):
    """Copy Ansible-typed containers and strings into plain JSON-able Python values."""
    kind = _kind(value)
    if kind == 'dict':
        return dict((str(k), _to_plain(v)) for k, v in value.items())
    if kind == 'list':
        return [_to_plain(v) for v in value]
    if kind == 'str':
        return str(value)
    return value


def merge_settings(base, managed, list_merge='replace'):
    """Deep-merge ``managed`` into ``base`` without modifying ``base``.

    Returns ``(result, changed_paths)``. Objects merge key by key; any other value
    replaces what is there. With ``list_merge='append_unique'`` a managed array is
    appended to an existing array, skipping items already present.
    Copy-on-write: only the objects on the paths of managed keys are copied; the
    rest of the result shares (unmodified) values with ``base``.
    """
    changed = []
    result = _merged(base, _to_plain(managed), (), list_merge, changed)
    return result, changed


def _merged(target, managed, prefix, list_merge, changed):
    result = dict(target)
    for key, value in managed.items():
        here = prefix + (key,)
        if key in result and isinstance(result[key], dict) and isinstance(value, dict):
            result[key] = _merged(result[key], value, here, list_merge, changed)
            continue
        if list_merge == 'append_unique' and key in result and isinstance(result[key], list) and isinstance(value, list):
            merged = list(result[key])
            for item in value:
                if not any(strict_equal(item, have) for have in merged):
                    merged.append(copy.deepcopy(item))
            if len(merged) != len(result[key]):
                result[key] = merged
                changed.append(here)
            continue
        if key in result and strict_equal(result[key], value):
            continue
        result[key] = copy.deepcopy(value)
        changed.append(here)
    return result


def remove_settings(base, paths):
    """Remove key paths, without modifying ``base`` (copy-on-write along each removed path).

    Objects left empty by a removal are removed too (only those this call emptied).
    Returns ``(result, removed_paths)``; absent paths are not an error.
    """
    result = dict(base)
    removed = []
    for raw in paths:
        parts = normalize_key_path(raw)
        chain = [result]
        node = result
        for key in parts[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                break
            child = dict(child)
            node[key] = child
            chain.append(child)
            node = child
        else:
            if parts[-1] in node:
                del node[parts[-1]]
                removed.append(parts)
                for depth in range(len(parts) - 1, 0, -1):
                    if chain[depth]:
                        break
                    del chain[depth - 1][parts[depth - 1]]
    return result, removed


def plan_settings(base, settings=None, remove=None, state='present', list_merge='replace'):
    """Compute the new data for one module run.

    ``state=present`` merges ``settings`` then removes ``remove``;
    ``state=absent`` removes ``remove`` and every leaf key path of ``settings``.
    Returns ``(result, changed_paths)`` with dotted, de-duplicated paths.
    """
    settings = settings or {}
    remove = list(remove or [])
    changed = []
    result = base
    if state == 'present':
        result, changed = merge_settings(result, settings, list_merge)
    else:
        remove.extend(leaf_paths(_to_plain(settings)))
    result, removed = remove_settings(result, remove)
    seen = []
    for parts in changed + removed:
        dotted = format_key_path(parts)
        if dotted not in seen:
            seen.append(dotted)
    if strict_equal(base, result):
        return result, []
    return result, seen


BOM = '\ufeff'


class SettingsDocument(object):
    """A settings file as read: its text (without BOM), whether it exists, whether it had a BOM, its data."""

    def __init__(self, path, text='', exists=False, bom=False, data=None):
        self.path = path
        self.text = text
        self.exists = exists
        self.bom = bom
        self.data = {} if data is None else data

    @property
    def raw_text(self):
        """The file's text as it is on disk (BOM included)."""
        return (BOM if self.bom else '') + self.text


class SettingsFileError(Exception):
    """A settings file that cannot be used: its message names the file; line/column when known."""

    def __init__(self, path, message, lineno=None, colno=None):
        self.path = path
        self.lineno = lineno
        self.colno = colno
        super().__init__(message)


def decode_document(path, raw):
    """Parse the bytes of a settings file (None: missing) into a SettingsDocument; raises SettingsFileError."""
    if raw is None:
        return SettingsDocument(path)
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise SettingsFileError(path, '%s is not valid JSON: it is not UTF-8 text (byte %d); the file was left untouched'
                                % (path, exc.start)) from None
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    try:
        data = parse_settings(text)
    except SettingsParseError as exc:
        where = '' if exc.lineno is None else ' at line %d column %d' % (exc.lineno, exc.colno)
        raise SettingsFileError(path, '%s is not valid JSON: %s%s; the file was left untouched' % (path, exc.reason, where),
                                exc.lineno, exc.colno) from None
    return SettingsDocument(path, text, True, bom, data)


def render_document(document, data, indent=None):
    """Text (BOM included) of the document holding ``data``: its own indentation and final-newline state, else 2 and a newline."""
    if indent is None:
        indent = detect_indent(document.text) if document.exists else DEFAULT_INDENT
    trailing_newline = document.text.endswith('\n') if document.exists and document.text.strip() else True
    return (BOM if document.bom else '') + dump_settings(data, indent, trailing_newline)


def read_document(directory, name, cap=home_fs.READ_CAP):
    """Read and parse ``name`` in an open home_fs directory. Raises home_fs.UnsafePath or SettingsFileError."""
    return decode_document(directory.child(name), directory.read(name, cap))


def write_document(directory, name, text, mode=None, uid=None, gid=None, replace_link=False):
    """Replace ``name`` atomically with ``text`` (owner and mode of the old file unless given). Raises home_fs.UnsafePath."""
    directory.write(name, text.encode('utf-8', 'surrogateescape'), mode=mode, uid=uid, gid=gid, replace_link=replace_link)


def pin_changes(pins):
    """(settings, remove) that set each pin in ``env``; an empty value removes the variable."""
    return {'env': {k: v for k, v in pins.items() if v}}, [['env', k] for k, v in pins.items() if not v]
