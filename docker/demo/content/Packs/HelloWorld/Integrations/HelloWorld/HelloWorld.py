import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401


def main():
    command = demisto.command()
    if command == 'test-module':
        return_results('ok')
    elif command == 'helloworld-say-hello':
        return_results('Hello, {}!'.format(demisto.args().get('name', 'world')))


if __name__ in ('__main__', '__builtin__', 'builtins'):
    main()
