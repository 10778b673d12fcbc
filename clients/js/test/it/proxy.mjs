// A TCP proxy in front of the server for one client, so that a test can cut the network the way
// real networks fail: `offline(ms)` black-holes the connections it carries (bytes are read and
// dropped in both directions, and the server's close does not reach the client either: only the
// client's heartbeat watchdog can notice)
// and refuses new connections (accepted, then reset) for `ms`. Black-holed connections stay dead
// after the window, as a half-dead NAT entry does; only new connections go through again.
//
// With `duplicate` on, every DUP_EVERY-th data message from the server is delivered twice, as
// an overlap between replay and live would (docs/protocol.md section 12, "Delivering"): the
// application must still see it once.
import net from "node:net";

const DUP_EVERY = 5;

export class Proxy {
  #target;
  #server;
  #pairs = new Set();
  #refuseUntil = 0;
  #duplicate;
  duplicated = 0;
  accepted = 0;
  refused = 0;

  /** @param {{host: string, port: number}} target @param {boolean} duplicate */
  constructor(target, duplicate = false) {
    this.#target = target;
    this.#duplicate = duplicate;
  }

  /** Listens on 127.0.0.1, an ephemeral port; resolves with the port. */
  listen() {
    this.#server = net.createServer((down) => this.#accept(down));
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, "127.0.0.1", () => resolve(this.#server.address().port));
    });
  }

  offline(ms) {
    this.#refuseUntil = Date.now() + ms;
    for (const pair of this.#pairs) pair.dead = true;
  }

  close() {
    for (const pair of this.#pairs) {
      pair.down.destroy();
      pair.up.destroy();
    }
    this.#server?.close();
  }

  #accept(down) {
    down.on("error", () => {});
    if (Date.now() < this.#refuseUntil) {
      this.refused++;
      down.resetAndDestroy();
      return;
    }
    this.accepted++;
    const up = net.connect(this.#target.port, this.#target.host);
    up.on("error", () => {});
    up.setNoDelay(true);
    down.setNoDelay(true);
    const pair = { down, up, dead: false };
    this.#pairs.add(pair);
    const frames = this.#duplicate ? new FrameDuplicator(() => ++this.duplicated) : null;
    down.on("data", (b) => { if (!pair.dead) up.write(b); });
    up.on("data", (b) => {
      if (pair.dead) return;
      down.write(frames ? frames.feed(b) : b);
    });
    const end = () => {
      this.#pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on("close", end);
    // A black hole passes no close either: the client's side stays open until the client gives up on it.
    up.on("close", () => { if (!pair.dead) end(); });
  }
}

/**
 * Splits the server-to-client byte stream into WebSocket frames (after the HTTP upgrade answer) and
 * repeats every DUP_EVERY-th unfragmented, uncompressed text frame that carries a position.
 */
class FrameDuplicator {
  #buf = Buffer.alloc(0);
  #upgraded = false;
  #count = 0;
  #onDuplicate;

  constructor(onDuplicate) {
    this.#onDuplicate = onDuplicate;
  }

  /** Returns the bytes to forward now: whole frames only (a partial frame waits for the rest). */
  feed(chunk) {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out = [];
    if (!this.#upgraded) {
      const end = this.#buf.indexOf("\r\n\r\n");
      if (end < 0) return Buffer.alloc(0);
      out.push(this.#buf.subarray(0, end + 4));
      this.#buf = this.#buf.subarray(end + 4);
      this.#upgraded = true;
    }
    for (;;) {
      const frame = this.#nextFrame();
      if (!frame) break;
      out.push(frame.bytes);
      if (frame.duplicable && ++this.#count % DUP_EVERY === 0) {
        out.push(frame.bytes);
        this.#onDuplicate();
      }
    }
    return Buffer.concat(out);
  }

  #nextFrame() {
    const b = this.#buf;
    if (b.length < 2) return null;
    let len = b[1] & 0x7f;
    let header = 2;
    if (len === 126) {
      if (b.length < 4) return null;
      len = b.readUInt16BE(2);
      header = 4;
    } else if (len === 127) {
      if (b.length < 10) return null;
      len = Number(b.readBigUInt64BE(2));
      header = 10;
    }
    if (b[1] & 0x80) header += 4; // a server never masks; counted anyway
    if (b.length < header + len) return null;
    const bytes = b.subarray(0, header + len);
    this.#buf = b.subarray(header + len);
    const fin = (b[0] & 0x80) !== 0;
    const rsv1 = (b[0] & 0x40) !== 0;
    const text = (b[0] & 0x0f) === 1;
    const duplicable = fin && !rsv1 && text && bytes.subarray(header).includes('"pos":"');
    return { bytes, duplicable };
  }
}
