"""A WebSocket peer on Python's `websockets` for weir's interop tests (tests/ws_interop_python.rs).

It reports what it sees as JSON lines on stdout, one event a line, flushed at once:

  open     the handshake is done: the negotiated extensions (with their parameters), the
           Sec-WebSocket-Extensions offer and answer, the subprotocol
  message  a message it received: type, length, Adler-32, the text when short, and the wire
           bytes of its frames (after compression) in and, for an echo, out
  pong     the answer to its ping arrived
  closed   the connection is closed: the close code and reason it received
  error    something failed (the test prints it)

Server mode echoes every message and listens on 127.0.0.1 only:

  ws_peer.py server --port 0 [deflate options]

It prints `listening on 127.0.0.1:P` first. The path selects what a connection does: `/` echoes;
`/fragment-echo` echoes each message in 3 fragments; `/close/CODE/REASON` closes at once with
that status; `/ping/PAYLOAD` pings first (a `pong` event), then echoes.

Client mode connects to a URL and runs a script, a JSON list of steps:

  ws_peer.py client URL --script '[...]' [deflate options]

  {"send": "text"|"binary", "data": "..."}              (binary data in hex)
  {"send": "text"|"binary", "fragments": ["...", ...]}  one message in these fragments
  {"send": "text"|"binary", "repeat": "unit", "times": N}
  {"send": "text"|"binary", "random": N, "seed": S, "copies": C}
      N pseudo-random printable bytes (the generator of tests/ws_interop_python.rs), C times
  {"ping": "payload"}
  {"close": CODE, "reason": "..."}
  {"wait_close": true}

After each `send` it waits for one message back (the test echoes) and reports it.

Deflate options (both modes): --deflate turns permessage-deflate on; --server-no-context-takeover,
--client-no-context-takeover, --server-max-window-bits N, --client-max-window-bits N set the
RFC 7692 parameters (the client offers them, the server requires or applies them).

It stops on SIGTERM or SIGINT (server) or at the end of its script (client).
"""

import argparse
import asyncio
import collections
import json
import signal
import sys
import zlib

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import CTRL_OPCODES, Opcode

MAX_SIZE = 64 * 1024 * 1024


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class Counting(Extension):
    """Wraps the negotiated permessage-deflate and measures the frames on the wire."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        # Per message received, in order: (wire bytes, first frame compressed, frames).
        self.received = collections.deque()
        self._in = None
        # Since the last take: wire bytes and whether the first frame was compressed.
        self._out = None

    def __repr__(self):
        return repr(self.inner)

    def decode(self, frame, *, max_size=None):
        if frame.opcode not in CTRL_OPCODES:
            if frame.opcode is not Opcode.CONT:
                self._in = [0, frame.rsv1, 0]
            self._in[0] += len(frame.data)
            self._in[2] += 1
            if frame.fin:
                self.received.append(tuple(self._in))
        return self.inner.decode(frame, max_size=max_size)

    def encode(self, frame):
        encoded = self.inner.encode(frame)
        if frame.opcode not in CTRL_OPCODES:
            if frame.opcode is not Opcode.CONT or self._out is None:
                self._out = [0, encoded.rsv1]
            self._out[0] += len(encoded.data)
        return encoded

    def take_sent(self):
        sent, self._out = self._out, None
        return sent


class CountingClientFactory(ClientPerMessageDeflateFactory):
    def process_response_params(self, params, accepted_extensions):
        return Counting(super().process_response_params(params, accepted_extensions))


class CountingServerFactory(ServerPerMessageDeflateFactory):
    def process_request_params(self, params, accepted_extensions):
        response, extension = super().process_request_params(params, accepted_extensions)
        return response, Counting(extension)


def deflate_settings(args):
    return dict(
        server_no_context_takeover=args.server_no_context_takeover,
        client_no_context_takeover=args.client_no_context_takeover,
        server_max_window_bits=args.server_max_window_bits,
        compress_settings={"memLevel": 8},
    )


def client_extensions(args):
    if not args.deflate:
        return []
    settings = deflate_settings(args)
    settings["client_max_window_bits"] = args.client_max_window_bits or True
    return [CountingClientFactory(**settings)]


def server_extensions(args):
    if not args.deflate:
        return []
    settings = deflate_settings(args)
    settings["client_max_window_bits"] = args.client_max_window_bits
    return [CountingServerFactory(**settings)]


def counting(connection):
    for extension in connection.protocol.extensions:
        if isinstance(extension, Counting):
            return extension
    return None


def opened(connection, request_headers, response_headers):
    emit(
        "open",
        path=connection.request.path if connection.request else None,
        extensions=[repr(e) for e in connection.protocol.extensions],
        offer=request_headers.get("Sec-WebSocket-Extensions"),
        answer=response_headers.get("Sec-WebSocket-Extensions"),
        subprotocol=connection.subprotocol,
    )


def describe(message, counter, sent=None):
    data = message.encode() if isinstance(message, str) else message
    fields = dict(
        type="text" if isinstance(message, str) else "binary",
        length=len(data),
        adler32=zlib.adler32(data),
    )
    if len(data) <= 256:
        fields["text" if isinstance(message, str) else "hex"] = (
            message if isinstance(message, str) else data.hex()
        )
    if counter is not None and counter.received:
        wire, compressed, frames = counter.received.popleft()
        fields.update(wire_in=wire, compressed_in=compressed, frames_in=frames)
    if sent is not None:
        fields.update(wire_out=sent[0], compressed_out=sent[1])
    return fields


def closed(connection):
    emit("closed", code=connection.close_code, reason=connection.close_reason)


async def echo(connection):
    opened(connection, connection.request.headers, connection.response.headers)
    path = connection.request.path
    counter = counting(connection)
    try:
        if path.startswith("/close/"):
            _, _, code, reason = path.split("/", 3)
            await connection.close(int(code), reason)
        else:
            if path.startswith("/ping/"):
                payload = path.split("/", 2)[2].encode()
                await asyncio.wait_for(await connection.ping(payload), 10)
                emit("pong", payload=payload.decode())
            async for message in connection:
                if path == "/fragment-echo":
                    # The echo in 3 fragments (websockets compresses each one).
                    third = max(1, len(message) // 3)
                    await connection.send(
                        [message[:third], message[third : 2 * third], message[2 * third :]]
                    )
                else:
                    await connection.send(message)
                sent = counter.take_sent() if counter is not None else None
                emit("message", **describe(message, counter, sent))
    except ConnectionClosed:
        pass
    except Exception as error:  # reported, not raised: the server keeps serving
        emit("error", error=repr(error))
    await connection.wait_closed()
    closed(connection)


async def run_server(args):
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.cancel)
    async with serve(
        echo,
        "127.0.0.1",
        args.port,
        compression=None,
        extensions=server_extensions(args),
        max_size=MAX_SIZE,
        ping_interval=None,
        close_timeout=5,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on 127.0.0.1:{port}", flush=True)
        try:
            await stop
        except asyncio.CancelledError:
            pass


def pseudo_random(length, seed):
    """Printable bytes from a 64-bit LCG: the same as tests/ws_interop_python.rs."""
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    state = seed & 0xFFFFFFFFFFFFFFFF
    out = bytearray(length)
    for i in range(length):
        state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        out[i] = alphabet[(state >> 33) % 64]
    return bytes(out)


def payload(step):
    if "fragments" in step:
        parts = step["fragments"]
        return parts if step["send"] == "text" else [bytes.fromhex(p) for p in parts]
    if "data" in step:
        data = step["data"]
        return data if step["send"] == "text" else bytes.fromhex(data)
    if "repeat" in step:
        data = step["repeat"] * step["times"]
    else:
        data = (pseudo_random(step["random"], step["seed"]) * step.get("copies", 1)).decode()
    return data if step["send"] == "text" else data.encode()


async def run_client(args):
    script = json.loads(args.script)
    async with connect(
        args.url,
        compression=None,
        extensions=client_extensions(args),
        max_size=MAX_SIZE,
        ping_interval=None,
        close_timeout=5,
        open_timeout=10,
    ) as connection:
        opened(connection, connection.request.headers, connection.response.headers)
        counter = counting(connection)
        for step in script:
            if "send" in step:
                await connection.send(payload(step))
                sent = counter.take_sent() if counter is not None else None
                back = await asyncio.wait_for(connection.recv(), 10)
                emit("message", **describe(back, counter, sent))
            elif "ping" in step:
                answer = await connection.ping(step["ping"].encode())
                await asyncio.wait_for(answer, 10)
                emit("pong", payload=step["ping"])
            elif "close" in step:
                await connection.close(step["close"], step.get("reason", ""))
            elif "wait_close" in step:
                await asyncio.wait_for(connection.wait_closed(), 10)
            else:
                raise ValueError(f"unknown step {step!r}")
    closed(connection)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["server", "client"])
    parser.add_argument("url", nargs="?")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", default="[]")
    parser.add_argument("--deflate", action="store_true")
    parser.add_argument("--server-no-context-takeover", action="store_true")
    parser.add_argument("--client-no-context-takeover", action="store_true")
    parser.add_argument("--server-max-window-bits", type=int)
    parser.add_argument("--client-max-window-bits", type=int)
    args = parser.parse_args()
    try:
        if args.mode == "server":
            asyncio.run(run_server(args))
        else:
            if not args.url:
                parser.error("client mode needs a URL")
            asyncio.run(run_client(args))
    except ConnectionClosed as error:
        emit("error", error=repr(error), code=error.rcvd.code if error.rcvd else None)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
