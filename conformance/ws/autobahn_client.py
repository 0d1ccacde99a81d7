"""A fuzzingserver client on Python's `websockets`: the stand-in for weir's `ws_autobahn_client`.

It takes the same command line (`--url ws://127.0.0.1:PORT --agent NAME`) and follows the
Autobahn|Testsuite fuzzingserver protocol: it reads the number of cases from `/getCaseCount`,
opens `/runCase?case=N&agent=NAME` for each N from 1 and echoes every message until the server
closes, then asks `/updateReports?agent=NAME` for the reports. Compression (permessage-deflate)
is offered unless `--no-compression` is given. Each case is bounded by `--case-timeout` seconds.
"""

import argparse
import asyncio
import os
import sys
from urllib.parse import quote

# websockets (17.4 here) fails a message of more than 4096 fragments with 1009 "too many
# fragments", a guard against floods; the suite's cases 9.3 and 9.4 send 4 MiB in fragments
# of 64 bytes and up (65536 fragments). The examples have no such cap, so lift it here.
os.environ.setdefault("WEBSOCKETS_MAX_FRAGMENTS", str(1 << 20))

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI


async def run_case(url, compression, case_timeout):
    try:
        async with asyncio.timeout(case_timeout):
            async with connect(
                url,
                compression=compression,
                max_size=None,
                ping_interval=None,
                # The suite's own close timeouts are what it tests; do not wait longer here.
                close_timeout=5,
                proxy=None,
            ) as connection:
                async for message in connection:
                    await connection.send(message)
    except ConnectionClosed:
        pass
    except TimeoutError:
        print(f"case timed out after {case_timeout} s: {url}", file=sys.stderr)
    except (InvalidHandshake, InvalidURI, OSError) as error:
        # A case that fails the connection on purpose (bad frames, bad UTF-8) ends here too.
        print(f"{url}: {type(error).__name__}: {error}", file=sys.stderr)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the fuzzingserver, ws://127.0.0.1:PORT")
    parser.add_argument("--agent", required=True, help="the name the reports carry")
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--case-timeout", type=float, default=60.0)
    args = parser.parse_args()
    base = args.url.rstrip("/")
    agent = quote(args.agent, safe="")
    compression = None if args.no_compression else "deflate"

    async with asyncio.timeout(30):
        async with connect(f"{base}/getCaseCount", proxy=None) as connection:
            count = int(await connection.recv())
    print(f"{count} cases", flush=True)

    for case in range(1, count + 1):
        await run_case(f"{base}/runCase?case={case}&agent={agent}", compression, args.case_timeout)
        if case % 50 == 0 or case == count:
            print(f"ran {case}/{count}", flush=True)

    async with asyncio.timeout(120):
        async with connect(f"{base}/updateReports?agent={agent}", proxy=None) as connection:
            try:
                await connection.recv()
            except ConnectionClosed:
                pass
    print("reports updated", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
