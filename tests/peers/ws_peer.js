// npm `ws` as the peer of weir's WebSocket interop tests (tests/ws_interop_node.rs).
//
// node ws_peer.js server --port 0 [--deflate JSON]
//     An echo server on 127.0.0.1. Prints `listening on 127.0.0.1:P`, then one JSON line per
//     event: `open` (the Sec-WebSocket-Extensions answer it sent), `echo` for each message
//     (echoed with the same type), `ping`, `close` (the code and reason it received).
// node ws_peer.js client URL --script JSON [--deflate JSON]
//     Connects, prints `open` (the extensions the server answered), then runs the script's
//     steps in order: {"send": "text"|"binary", "data": ...} (binary data in hex),
//     {"send": ..., "repeat": UNIT, "times": N}, {"send": ..., "fragments": [...]} (one message
//     in those frames), each followed by a `message` event for its echo; {"ping": HEX}, followed
//     by `pong`; {"close": CODE, "reason": TEXT}, followed by `close` and the end.
//
// --deflate takes ws's `perMessageDeflate` options as JSON (`{}` for the defaults); without it
// the peer neither offers nor accepts compression. `read` and `written` in the events are the
// TCP socket's byte counts so far: the tests tell from them that compression happened.
// The module comes from NODE_PATH (target/ws-peers/node/node_modules, which
// scripts/ws-peers.sh installs).
'use strict';

const WebSocket = require('ws');

function emit(event) {
    process.stdout.write(JSON.stringify(event) + '\n');
}

function adler32(buffer) {
    let a = 1;
    let b = 0;
    for (const byte of buffer) {
        a = (a + byte) % 65521;
        b = (b + a) % 65521;
    }
    return ((b << 16) | a) >>> 0;
}

function described(data, isBinary, socket) {
    return {
        text: !isBinary,
        size: data.length,
        adler: adler32(data),
        read: socket._socket ? socket._socket.bytesRead : null,
    };
}

function option(args, name) {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
}

function deflateOption(args) {
    const json = option(args, '--deflate');
    return json === undefined ? false : JSON.parse(json);
}

function server(args) {
    let extensions = null;
    const wss = new WebSocket.Server({
        host: '127.0.0.1',
        port: Number(option(args, '--port') || 0),
        perMessageDeflate: deflateOption(args),
    });
    wss.on('headers', (headers) => {
        const line = headers.find((h) => h.toLowerCase().startsWith('sec-websocket-extensions:'));
        extensions = line ? line.slice(line.indexOf(':') + 1).trim() : null;
    });
    wss.on('listening', () => {
        process.stdout.write(`listening on 127.0.0.1:${wss.address().port}\n`);
    });
    wss.on('connection', (ws) => {
        emit({ event: 'open', extensions });
        ws.on('message', (data, isBinary) => {
            const seen = described(data, isBinary, ws);
            ws.send(data, { binary: isBinary }, () => {
                emit({ event: 'echo', ...seen, written: ws._socket ? ws._socket.bytesWritten : null });
            });
        });
        ws.on('ping', (data) => emit({ event: 'ping', data: data.toString('hex') }));
        ws.on('close', (code, reason) => emit({ event: 'close', code, reason: reason.toString() }));
        ws.on('error', (error) => emit({ event: 'error', message: String(error) }));
    });
}

function payload(step) {
    const binary = step.send === 'binary';
    const decode = (s) => (binary ? Buffer.from(s, 'hex') : Buffer.from(s, 'utf8'));
    if (step.fragments) {
        return { binary, parts: step.fragments.map(decode) };
    }
    if (step.repeat !== undefined) {
        return { binary, parts: [Buffer.from(step.repeat.repeat(step.times), 'utf8')] };
    }
    return { binary, parts: [decode(step.data)] };
}

function client(args) {
    const url = args[0];
    const script = JSON.parse(option(args, '--script') || '[]');
    const ws = new WebSocket(url, { perMessageDeflate: deflateOption(args) });
    let extensions = null;
    const inbox = [];
    let waiting = null;
    ws.on('upgrade', (response) => {
        extensions = response.headers['sec-websocket-extensions'] || null;
    });
    ws.on('message', (data, isBinary) => {
        inbox.push(described(data, isBinary, ws));
        if (waiting) {
            const wake = waiting;
            waiting = null;
            wake();
        }
    });
    ws.on('error', (error) => {
        emit({ event: 'error', message: String(error) });
        process.exit(1);
    });
    const nextMessage = () =>
        new Promise((resolve) => {
            if (inbox.length > 0) {
                resolve(inbox.shift());
            } else {
                waiting = () => resolve(inbox.shift());
            }
        });
    ws.on('open', async () => {
        emit({ event: 'open', extensions });
        for (const step of script) {
            if (step.send) {
                const { binary, parts } = payload(step);
                parts.forEach((part, i) => {
                    ws.send(part, { binary, fin: i === parts.length - 1 });
                });
                emit({ event: 'message', ...(await nextMessage()), written: ws._socket.bytesWritten });
            } else if (step.ping !== undefined) {
                const pong = new Promise((resolve) => ws.once('pong', resolve));
                ws.ping(Buffer.from(step.ping, 'hex'));
                emit({ event: 'pong', data: (await pong).toString('hex') });
            } else if (step.close !== undefined) {
                ws.on('close', (code, reason) => {
                    emit({ event: 'close', code, reason: reason.toString() });
                    process.exit(0);
                });
                ws.close(step.close, step.reason || '');
            }
        }
    });
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'server') {
    server(rest);
} else if (mode === 'client') {
    client(rest);
} else {
    process.stderr.write('usage: ws_peer.js server --port P | client URL --script JSON\n');
    process.exit(2);
}
