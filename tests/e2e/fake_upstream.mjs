// A small fake Chatwoot for end-to-end tests (issue 16): it forwards REST and the cable to a
// real parley-server and lets a test rewrite answers and push cable events of its own, so the
// app meets shapes parley-server never sends. Taken from malformed.test.mjs, which keeps its
// own copy.
import http from 'node:http';
import net from 'node:net';

/** Server → client WebSocket frames (unmasked) as they arrive, after the HTTP 101 head. */
export class FrameReader {
  constructor(onHead, onFrame) {
    this.buf = Buffer.alloc(0);
    this.headDone = false;
    this.onHead = onHead;
    this.onFrame = onFrame;
  }

  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (!this.headDone) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.onHead(this.buf.subarray(0, end + 4));
      this.buf = this.buf.subarray(end + 4);
      this.headDone = true;
    }
    for (;;) {
      if (this.buf.length < 2) return;
      const masked = (this.buf[1] & 0x80) !== 0;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      const frame = this.buf.subarray(0, off + len);
      const text = (this.buf[0] & 0x0f) === 1 && !masked ? this.buf.subarray(off, off + len).toString('utf8') : null;
      this.buf = this.buf.subarray(off + len);
      this.onFrame(frame, text);
    }
  }
}

export function textFrame(text) {
  const payload = Buffer.from(text, 'utf8');
  let head;
  if (payload.length < 126) {
    head = Buffer.from([0x81, payload.length]);
  } else if (payload.length < 65_536) {
    head = Buffer.alloc(4);
    head[0] = 0x81;
    head[1] = 126;
    head.writeUInt16BE(payload.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x81;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([head, payload]);
}

/** A fake Chatwoot: a forwarding proxy to `target` (a real parley-server) whose JSON answers
 * `rewriter(url)` may change, and that can push cable broadcasts of its own to the live
 * subscriptions. */
export class FakeUpstream {
  constructor() {
    /** The real server (a URL) and the conversation to malform, set once they exist. */
    this.target = null;
    this.conversationId = null;
    this.subscriptions = new Set();
    this.sockets = new Set();
  }

  async start() {
    this.server = http.createServer((req, res) => this.forward(req, res));
    this.server.on('upgrade', (req, socket, head) => this.bridge(req, socket, head));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve) ?? resolve());
  }

  /** How to change the JSON answer of `url` (a function of the body and a time), or null to
   * pass it through; set by the test. */
  rewriter() {
    return null;
  }

  forward(req, res) {
    const url = new URL(req.url, this.target);
    const up = http.request(url, { method: req.method, headers: req.headers }, (upRes) => {
      const rewrite = req.method === 'GET' && upRes.statusCode === 200 ? this.rewriter(url) : null;
      if (!rewrite) {
        res.writeHead(upRes.statusCode, upRes.headers);
        upRes.pipe(res);
        return;
      }
      const chunks = [];
      upRes.on('data', (chunk) => chunks.push(chunk));
      upRes.on('end', () => {
        const now = Math.floor(Date.now() / 1000) + 60;
        const body = JSON.stringify(rewrite(JSON.parse(Buffer.concat(chunks).toString('utf8')), now));
        const out = { ...upRes.headers, 'content-length': String(Buffer.byteLength(body)) };
        delete out['transfer-encoding'];
        res.writeHead(200, out);
        res.end(body);
      });
    });
    up.on('error', (e) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `fake upstream: ${e.message}` }));
    });
    req.pipe(up);
  }

  /** The cable, byte for byte both ways; frames from the real server are read to learn each
   * connection's confirmed subscription. */
  bridge(req, socket, head) {
    const up = net.connect(Number(this.target.port), this.target.hostname, () => {
      let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(`${lines}\r\n`);
      if (head.length) up.write(head);
      socket.pipe(up);
    });
    const reader = new FrameReader(
      (httpHead) => socket.write(httpHead),
      (frame, text) => {
        socket.write(frame);
        const parsed = text && JSON.parse(text);
        if (parsed?.type === 'confirm_subscription') this.subscriptions.add({ socket, identifier: parsed.identifier });
      },
    );
    up.on('data', (chunk) => reader.push(chunk));
    const close = () => {
      up.destroy();
      socket.destroy();
      for (const s of this.subscriptions) if (s.socket === socket) this.subscriptions.delete(s);
    };
    up.on('error', close);
    up.on('close', close);
    socket.on('error', close);
    socket.on('close', close);
  }

  /** A broadcast of our own to every live subscription; how many got it. */
  push(event, data) {
    let sent = 0;
    for (const { socket, identifier } of this.subscriptions) {
      if (socket.destroyed) continue;
      socket.write(textFrame(JSON.stringify({ identifier, message: { event, data } })));
      sent += 1;
    }
    return sent;
  }
}
