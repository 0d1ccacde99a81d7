"""A WebSocket echo server on Python's `websockets`: the stand-in for weir's `ws_echo` example.

It takes the same command line (`--port P`, `--no-compression`), listens on 127.0.0.1 only,
prints `listening on 127.0.0.1:P` once it accepts connections (P is the real port, so
`--port 0` works), and echoes every text and binary message on every path, with
permessage-deflate offered to clients unless `--no-compression` is given. It stops on SIGTERM
or SIGINT.
"""

import argparse
import asyncio
import os
import signal
import sys

# websockets (17.4 here) fails a message of more than 4096 fragments with 1009 "too many
# fragments", a guard against floods; the suite's cases 9.3 and 9.4 send 4 MiB in fragments
# of 64 bytes and up (65536 fragments). The examples have no such cap, so lift it here.
os.environ.setdefault("WEBSOCKETS_MAX_FRAGMENTS", str(1 << 20))

from websockets.asyncio.server import serve


async def echo(connection):
    async for message in connection:
        await connection.send(message)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-compression", action="store_true")
    args = parser.parse_args()

    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.cancel)

    async with serve(
        echo,
        "127.0.0.1",
        args.port,
        compression=None if args.no_compression else "deflate",
        # The suite sends messages of up to 16 MiB (case 9.*) and paces its own pings.
        max_size=None,
        ping_interval=None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on 127.0.0.1:{port}", flush=True)
        try:
            await stop
        except asyncio.CancelledError:
            pass


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
