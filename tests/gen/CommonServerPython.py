"""Common server code for scripts and integrations (synthetic stand-in).

Defines only the names the items of this repository use.  Valid under Python 2.7 and 3.x.
"""
import json
import sys

import demistomock as demisto  # noqa: F401

entryTypes = {
    'note': 1, 'downloadAgent': 2, 'file': 3, 'error': 4, 'pinned': 5, 'userManagement': 6,
    'image': 7, 'playgroundError': 8, 'entryInfoFile': 9, 'warning': 11, 'map': 15,
    'widget': 17,
}
formats = {
    'html': 'html', 'table': 'table', 'json': 'json', 'text': 'text',
    'dbotResponse': 'dbotCommandResponse', 'markdown': 'markdown',
}


class EntryType(object):
    NOTE = 1
    FILE = 3
    ERROR = 4
    WARNING = 11


class EntryFormat(object):
    TEXT = 'text'
    JSON = 'json'
    MARKDOWN = 'markdown'


if sys.version_info[0] >= 3:
    STRING_TYPES = (str, bytes)
else:
    STRING_TYPES = (str, unicode)  # noqa: F821


def argToList(arg, separator=','):
    """Turn a comma-separated string, a JSON list or a list into a list."""
    if not arg:
        return []
    if isinstance(arg, list):
        return arg
    if isinstance(arg, STRING_TYPES):
        if arg.startswith('['):
            return json.loads(arg)
        return [s.strip() for s in arg.split(separator) if s.strip()]
    return [arg]


def arg_to_number(arg, arg_name=None, required=False):
    if arg is None or arg == '':
        if required:
            raise ValueError('Missing "{}"'.format(arg_name))
        return None
    return int(arg)


def tableToMarkdown(name, t, headers=None):
    """A minimal Markdown table of a dict or a list of dicts."""
    rows = t if isinstance(t, list) else [t]
    rows = [r for r in rows if isinstance(r, dict)]
    out = ['### ' + str(name)]
    if not rows:
        out.append('**No entries.**')
        return '\n'.join(out) + '\n'
    headers = headers or sorted(rows[0].keys())
    out.append('|' + '|'.join(str(h) for h in headers) + '|')
    out.append('|' + '|'.join('---' for _ in headers) + '|')
    for r in rows:
        out.append('|' + '|'.join(str(r.get(h, '')) for h in headers) + '|')
    return '\n'.join(out) + '\n'


class CommandResults(object):
    def __init__(self, outputs_prefix=None, outputs_key_field=None, outputs=None,
                 readable_output=None, raw_response=None):
        self.outputs_prefix = outputs_prefix
        self.outputs_key_field = outputs_key_field
        self.outputs = outputs
        self.readable_output = readable_output
        self.raw_response = raw_response

    def to_context(self):
        context = {}
        if self.outputs_prefix and self.outputs is not None:
            context[self.outputs_prefix] = self.outputs
        return {
            'Type': entryTypes['note'],
            'ContentsFormat': formats['json'],
            'Contents': self.raw_response if self.raw_response is not None else self.outputs,
            'HumanReadable': self.readable_output,
            'EntryContext': context,
        }


def return_results(results):
    """Send results to the server: a string, a dict entry, CommandResults or a list of them."""
    if results is None:
        return
    if isinstance(results, list):
        for r in results:
            return_results(r)
        return
    if isinstance(results, CommandResults):
        demisto.results(results.to_context())
        return
    demisto.results(results)


def return_error(message, error='', outputs=None):
    """Report an error entry and end the script, as the real module does."""
    demisto.error(str(message))
    demisto.results({
        'Type': entryTypes['error'],
        'ContentsFormat': formats['text'],
        'Contents': str(message),
        'EntryContext': outputs,
    })
    sys.exit(0)


def return_warning(message, exit=False):
    demisto.results({'Type': entryTypes['warning'], 'ContentsFormat': formats['text'],
                     'Contents': str(message)})
    if exit:
        sys.exit(0)
