"""A small stand-in for the content repository's CommonServerPython, for the demo."""
import sys

import demistomock as demisto

entryTypes = {'note': 1, 'error': 4}
formats = {'text': 'text', 'json': 'json', 'markdown': 'markdown'}


def return_results(results):
    demisto.results(results)


def return_error(message, error=''):
    demisto.results({'Type': entryTypes['error'], 'ContentsFormat': formats['text'],
                     'Contents': str(message)})
    sys.exit(0)
