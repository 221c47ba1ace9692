import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401

name = demisto.args().get('name') or 'world'
return_results('Hello, {}!'.format(name))
