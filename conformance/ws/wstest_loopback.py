# Python 2.7 only: runs Autobahn|Testsuite's `wstest` (same command line) with two changes.
#
# * Every socket it listens on is bound to 127.0.0.1 instead of every interface (wstest's
#   fuzzingserver and echoserver modes bind '' otherwise), and once a socket listens the line
#   `listening on 127.0.0.1:PORT` is printed, so a caller can wait for it instead of guessing.
# * `wstest_loopback.py --list-cases SPEC.json` prints the ids of the cases that SPEC selects
#   (its "cases" minus its "exclude-cases"), one a line, in the order the suite runs them; the
#   harness checks every one of them has a result.
import json
import sys


def _announce(listening):
    sys.stdout.write("listening on 127.0.0.1:%d\n" % listening.getHost().port)
    sys.stdout.flush()
    return listening


def _patch_reactor():
    from twisted.internet import reactor

    listen_tcp = reactor.listenTCP
    listen_ssl = reactor.listenSSL

    def loopback_tcp(port, factory, backlog=50, interface=''):
        if interface in ('', '0.0.0.0', '::'):
            interface = '127.0.0.1'
        return _announce(listen_tcp(port, factory, backlog, interface))

    def loopback_ssl(port, factory, context_factory, backlog=50, interface=''):
        if interface in ('', '0.0.0.0', '::'):
            interface = '127.0.0.1'
        return _announce(listen_ssl(port, factory, context_factory, backlog, interface))

    reactor.listenTCP = loopback_tcp
    reactor.listenSSL = loopback_ssl


def _list_cases(spec_path):
    from autobahntestsuite.case import Cases, CaseCategories, CaseSubCategories, \
        CaseSetname, CaseBasename
    from autobahntestsuite.caseset import CaseSet

    with open(spec_path) as f:
        spec = json.load(f)
    case_set = CaseSet(CaseSetname, CaseBasename, Cases, CaseCategories, CaseSubCategories)
    for case_id in case_set.parseSpecCases(spec):
        sys.stdout.write(case_id + "\n")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--list-cases':
        _list_cases(sys.argv[2])
        return 0
    # wstest's own module picks the reactor (kqueue on BSD); import it before patching.
    from autobahntestsuite import wstest
    _patch_reactor()
    sys.argv[0] = 'wstest'
    return wstest.run()


if __name__ == '__main__':
    sys.exit(main())
