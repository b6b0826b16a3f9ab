# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The "unmanaged projection" of a user file: what is left of it once everything the collection manages is cut out.

Uninstall gives a file's pre-converge bytes back only when the projection of the file as it is now equals the
projection of those bytes: then the user changed nothing the collection does not own, and the original bytes (final
newline, CRLF, BOM, inline JSON arrays, indentation) are the truthful result. Pure functions, no file system.
"""

from __future__ import annotations

import hashlib
import json
import re

FORMATS = ('lines', 'json', 'ini')


class ProjectionError(Exception):
    """The text cannot be projected (for example JSON that does not parse)."""


def _text(data):
    text = data.decode('utf-8', 'surrogateescape')
    return text[1:] if text.startswith('\ufeff') else text


def project_lines(data, marker):
    """Text outside the blocks of MARKER (with {mark}); line endings and the final newline normalised."""
    begin, end = marker.replace('{mark}', 'BEGIN'), marker.replace('{mark}', 'END')
    kept, inside = [], False
    for line in _text(data).replace('\r\n', '\n').split('\n'):
        if line.rstrip('\r') == begin:
            inside = True
            continue
        if line.rstrip('\r') == end and inside:
            inside = False
            continue
        if not inside:
            kept.append(line)
    while kept and kept[-1] == '':
        kept.pop()
    return '\n'.join(kept)


def _drop(data, path):
    if not path:
        return
    node = data
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _prune(node):
    if isinstance(node, dict):
        for key in list(node):
            _prune(node[key])
    return node


def project_json(data, managed):
    """The parsed document without the MANAGED key paths; objects the removal left empty are dropped."""
    text = _text(data)
    if not text.strip():
        return '{}'
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ProjectionError('not valid JSON: %s' % exc) from None
    if not isinstance(doc, dict):
        raise ProjectionError('not a JSON object')
    for path in managed:
        path = path.split('.') if isinstance(path, str) else list(path)
        parents = [path[:index] for index in range(len(path) - 1, 0, -1)]
        _drop(doc, path)
        # claude_settings drops an object that its removal left empty; an object that was empty before stays.
        for parent in parents:
            node = doc
            for key in parent:
                node = node.get(key) if isinstance(node, dict) else None
            if node == {}:
                _drop(doc, parent)
    return json.dumps(doc, sort_keys=True, ensure_ascii=False)


_SECTION_RE = re.compile(r'^\s*\[([^\]]*)\]\s*$')
_OPTION_RE = re.compile(r'^\s*([^=:#;\s][^=:]*?)\s*[=:]')


def project_ini(data, managed):
    """Sections and option lines without the MANAGED [section, option] pairs; empty sections and blank lines dropped."""
    drop = {(section.strip(), option.strip()) for section, option in managed}
    sections, current = [], [None, []]
    for line in _text(data).replace('\r\n', '\n').split('\n'):
        found = _SECTION_RE.match(line)
        if found:
            sections.append(current)
            current = [found.group(1).strip(), []]
            continue
        if not line.strip():
            continue
        option = _OPTION_RE.match(line)
        if option and (current[0], option.group(1).strip()) in drop:
            continue
        current[1].append(line.rstrip())
    sections.append(current)
    return '\n'.join('[%s]\n%s' % (name, '\n'.join(lines)) if name is not None else '\n'.join(lines)
                     for name, lines in sections if lines)


def leaf_paths(tree, prefix=()):
    """Key paths (lists) of the leaves of a nested mapping: what claude_settings removes for state=absent."""
    paths = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            paths.extend(leaf_paths(value, prefix + (key,)))
        else:
            paths.append(list(prefix + (key,)))
    return paths


def project(data, file_format, managed=None, marker=None):
    """The projection of DATA (bytes) in FILE_FORMAT; None stands for a missing file and projects to nothing."""
    if data is None:
        return ''
    if file_format == 'lines':
        return project_lines(data, marker)
    if file_format == 'json':
        projected = project_json(data, managed or [])
        return '' if projected == '{}' else projected
    if file_format == 'ini':
        return project_ini(data, managed or [])
    raise ValueError('unknown format %r' % file_format)


def digest(projection):
    return hashlib.sha256(projection.encode('utf-8', 'surrogateescape')).hexdigest()
