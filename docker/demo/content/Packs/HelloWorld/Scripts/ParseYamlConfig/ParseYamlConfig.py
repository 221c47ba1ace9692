import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401
import yaml

text = demisto.args().get('text') or 'a: 1'
return_results(yaml.safe_load(text))
