#!/usr/bin/env python3
"""Reads an Autobahn|Testsuite report (index.json) and says whether the testee passed.

A case passes when its `behavior` is OK, NON-STRICT or INFORMATIONAL and its `behaviorClose`
is OK or INFORMATIONAL. Every case in the expected list must have a result. Prints each case
that did not pass, then one summary line:

    autobahn <direction> <mode>: <n> cases, <ok> OK, <ns> NON-STRICT, <inf> INFORMATIONAL, <fail> FAILED

and exits 1 when any case failed (or none ran), 0 otherwise. Used by scripts/autobahn.sh.
"""

import argparse
import json
import os
import sys

PASSING_BEHAVIOR = ("OK", "NON-STRICT", "INFORMATIONAL")
PASSING_CLOSE = ("OK", "INFORMATIONAL")


def case_key(case_id):
    return tuple(int(part) for part in case_id.split("."))


def detail(outdir, result):
    """The one-line reason the suite gives in the case's own report, if it can be read."""
    path = os.path.join(outdir, result.get("reportfile") or "")
    try:
        with open(path, encoding="utf-8") as f:
            text = json.load(f).get("result") or ""
    except (OSError, ValueError):
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= 160 else text[:157] + "..."


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", required=True, help="the report directory (has index.json)")
    parser.add_argument("--expected", required=True, help="file of case ids, one a line")
    parser.add_argument("--agent", required=True)
    parser.add_argument("--label", required=True, help='"server quick", "client full", ...')
    args = parser.parse_args()

    with open(args.expected, encoding="utf-8") as f:
        expected = [line.strip() for line in f if line.strip()]
    index_path = os.path.join(args.outdir, "index.json")
    try:
        with open(index_path, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as error:
        print(f"no usable report at {index_path}: {error}", file=sys.stderr)
        index = {}
    results = index.get(args.agent, {})
    if index and not results:
        print(f"{index_path} has no agent {args.agent!r} (it has {sorted(index)})", file=sys.stderr)

    counts = {"OK": 0, "NON-STRICT": 0, "INFORMATIONAL": 0}
    if not results:
        # Nothing ran (or the suite never wrote its report): one line says so, not one a case.
        print(f"autobahn {args.label}: {len(expected)} cases, 0 OK, 0 NON-STRICT, "
              f"0 INFORMATIONAL, {len(expected)} FAILED (no results)")
        return 1
    failed = []
    for case_id in sorted(set(expected) | set(results), key=case_key):
        result = results.get(case_id)
        if result is None:
            failed.append(f"{case_id}: no result (the case did not run)")
            continue
        behavior = result.get("behavior")
        close = result.get("behaviorClose")
        if behavior in PASSING_BEHAVIOR and close in PASSING_CLOSE:
            counts[behavior] += 1
            continue
        why = detail(args.outdir, result)
        failed.append(
            f"{case_id}: behavior={behavior} behaviorClose={close} "
            f"remoteCloseCode={result.get('remoteCloseCode')}" + (f" -- {why}" if why else "")
        )

    if failed:
        print(f"cases not passing ({len(failed)}), details in {args.outdir}/index.html:")
        for line in failed:
            print(f"  {line}")
    total = len(set(expected) | set(results))
    print(
        f"autobahn {args.label}: {total} cases, {counts['OK']} OK, "
        f"{counts['NON-STRICT']} NON-STRICT, {counts['INFORMATIONAL']} INFORMATIONAL, "
        f"{len(failed)} FAILED"
    )
    return 1 if failed or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
