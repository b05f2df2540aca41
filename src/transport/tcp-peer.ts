/**
 * The outbound half of the TCP transport: one connection per peer, used only
 * to send. Messages wait in a bounded queue (the oldest is dropped when it is
 * full — Raft tolerates loss, and a stale queue is worth less than a fresh
 * one). The connection is dialled on demand and redialled after a failure
 * with exponential backoff and jitter. Snapshots are written as a sequence
 * of chunk frames, one chunk at a time and only when no ordinary message is
 * waiting, so heartbeats keep flowing while a large snapshot streams.
 */
import net from 'node:net';
import tls from 'node:tls';
import { MessageType } from '../raft/types.ts';
import type { Message, NodeId } from '../raft/types.ts';
import type { Random } from '../util/rng.ts';
import { log } from '../util/log.ts';
import { parseAddress } from './address.ts';
import { encodeFrame, FRAME_HEADER_BYTES } from './frame.ts';
import { chunkFramePrefix, helloValue, msgValue, snapshotHeader } from './wire.ts';

/** PEM material for mutual TLS (contents, not paths). */
export interface TlsMaterial {
  /** Trusted CA certificate(s): peers must present a certificate signed by one of them. */
  readonly ca: string | Buffer | ReadonlyArray<string | Buffer>;
  /** This member's certificate (used both as server and as client). */
  readonly cert: string | Buffer;
  /** This member's private key. */
  readonly key: string | Buffer;
}

/** What a {@link PeerSender} needs from its transport. */
export interface PeerEnv {
  readonly selfId: NodeId;
  readonly tls: TlsMaterial | undefined;
  readonly dialTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly snapshotChunkBytes: number;
  readonly maxQueue: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly rng: Random;
  readonly stats: TcpStats;
  unreachable(peer: NodeId): void;
  snapshotStatus(peer: NodeId, ok: boolean): void;
}

/** Counters of a TCP transport. */
export interface TcpStats {
  messagesSent: number;
  messagesReceived: number;
  /** Messages dropped by a full queue, an unknown or removed peer, or an oversized encoding. */
  messagesDropped: number;
  bytesSent: number;
  bytesReceived: number;
  snapshotsSent: number;
  snapshotsReceived: number;
  dials: number;
  dialFailures: number;
  connectionsAccepted: number;
  /** Inbound connections closed for a protocol violation. */
  malformed: number;
}

interface OutgoingSnapshot {
  readonly message: Message;
  readonly stream: number;
  offset: number;
  /** Set once the outcome has been reported, so it is reported exactly once. */
  reported: boolean;
}

let nextStream = 1;

/** Sends to one peer. */
export class PeerSender {
  private queue: Array<Message | undefined> = [];
  private head = 0;
  private snapshots: OutgoingSnapshot[] = [];
  private active: OutgoingSnapshot | undefined;
  /** Snapshots whose last chunk is written but not yet confirmed by the socket. */
  private finishing = new Set<OutgoingSnapshot>();
  private socket: net.Socket | undefined;
  private connected = false;
  private writable = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoff: number;
  /** No dial before this time (performance.now() ms). */
  private nextDialAt = 0;
  private closed = false;

  constructor(
    readonly peer: NodeId,
    private addr: string,
    private readonly env: PeerEnv,
  ) {
    this.backoff = env.backoffMinMs;
  }

  /** The peer's address. */
  get address(): string {
    return this.addr;
  }

  /** Messages waiting (not counting snapshots). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** True while a connection is established. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Queue a message; call {@link kick} afterwards to start sending (one flush for a batch). */
  enqueue(message: Message): void {
    if (this.closed) return;
    if (message.type === MessageType.MsgSnap && message.snapshot !== undefined) {
      this.snapshots.push({ message, stream: nextStream++, offset: 0, reported: false });
      // Raft has at most one snapshot in flight per follower; a newer one supersedes older ones.
      while (this.snapshots.length > 1) this.fail(this.snapshots.shift() as OutgoingSnapshot);
    } else {
      this.queue.push(message);
      if (this.queue.length - this.head > this.env.maxQueue) {
        const dropped = this.queue[this.head];
        this.queue[this.head++] = undefined;
        this.env.stats.messagesDropped++;
        log.transport('%d: queue to %d full, dropped oldest (type %d)', this.env.selfId, this.peer, dropped?.type);
      }
      this.compact();
    }
  }

  /** Send what is queued: write now when connected, otherwise dial unless a redial is already scheduled. */
  kick(): void {
    if (this.closed) return;
    if (this.connected) this.flush();
    else if (this.socket === undefined && this.retryTimer === undefined) {
      const wait = this.nextDialAt - performance.now();
      if (wait > 0) this.scheduleDial(wait);
      else this.dial();
    }
  }

  /** Change the peer's address: the current connection is dropped and the next send dials the new one. */
  setAddress(address: string): void {
    if (address === this.addr) return;
    this.addr = address;
    this.socket?.destroy();
    this.backoff = this.env.backoffMinMs;
    this.nextDialAt = 0;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Stop: drop everything queued (snapshots are reported as failed unless `silent`). */
  close(silent: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.queue = [];
    this.head = 0;
    const pending = [...this.snapshots, ...this.finishing, ...(this.active ? [this.active] : [])];
    this.snapshots = [];
    this.active = undefined;
    this.finishing.clear();
    for (const s of pending) {
      if (silent) s.reported = true;
      else this.fail(s);
    }
    this.socket?.destroy();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private fail(s: OutgoingSnapshot): void {
    if (s.reported) return;
    s.reported = true;
    this.env.snapshotStatus(this.peer, false);
  }

  private dial(): void {
    const env = this.env;
    let target;
    try {
      target = parseAddress(this.addr);
    } catch (err) {
      log.transport('%d: bad address for %d: %s', env.selfId, this.peer, (err as Error).message);
      this.onDialFailed();
      return;
    }
    env.stats.dials++;
    const { host, port } = target;
    const sock: net.Socket = env.tls
      ? tls.connect({
          host,
          port,
          ca: env.tls.ca as string | Buffer | Array<string | Buffer>,
          cert: env.tls.cert,
          key: env.tls.key,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          ...(net.isIP(host) === 0 ? { servername: host } : {}),
        })
      : net.connect({ host, port });
    this.socket = sock;
    this.writable = true;
    let established = false;
    let connectedAt = 0;
    const dialTimer = setTimeout(() => {
      sock.destroy(new Error(`dial timeout after ${env.dialTimeoutMs} ms`));
    }, env.dialTimeoutMs);
    sock.once(env.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(dialTimer);
      if (this.socket !== sock || this.closed) return;
      established = true;
      connectedAt = performance.now();
      this.connected = true;
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 5000);
      log.transport('%d: connected to %d at %s', env.selfId, this.peer, this.addr);
      sock.write(encodeFrame(helloValue(env.selfId, this.peer)));
      this.flush();
    });
    sock.on('drain', () => {
      this.writable = true;
      this.flush();
    });
    // The peer never writes on this connection; discard anything it sends.
    sock.on('data', () => {});
    sock.on('error', (err) => {
      log.transport('%d: connection to %d (%s) failed: %s', env.selfId, this.peer, this.addr, err.message);
    });
    sock.on('close', () => {
      clearTimeout(dialTimer);
      if (this.socket !== sock) return;
      this.socket = undefined;
      this.connected = false;
      // Anything not confirmed written is lost with the connection.
      if (this.active !== undefined) this.fail(this.active);
      this.active = undefined;
      for (const s of this.finishing) this.fail(s);
      this.finishing.clear();
      if (this.closed) return;
      if (!established) env.stats.dialFailures++;
      // Back off afresh only after a connection that lasted: a peer that
      // accepts and then drops us (e.g. refusing our TLS certificate after
      // the handshake) must not be redialled at the minimum delay forever.
      else if (performance.now() - connectedAt >= env.backoffMaxMs) {
        this.backoff = env.backoffMinMs;
        this.nextDialAt = 0;
      }
      env.unreachable(this.peer);
      this.onDialFailed();
    });
  }

  /**
   * After a failed dial or a lost connection: the next dial may happen only
   * after the backoff delay. It is scheduled now when something is waiting;
   * otherwise the next send schedules it (see {@link kick}).
   */
  private onDialFailed(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delay = this.backoff * (0.5 + this.env.rng.next() / 2);
    this.backoff = Math.min(this.env.backoffMaxMs, this.backoff * 2);
    this.nextDialAt = performance.now() + delay;
    if (this.queued > 0 || this.snapshots.length > 0) this.scheduleDial(delay);
  }

  private scheduleDial(delay: number): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && this.socket === undefined) this.dial();
    }, delay);
    this.retryTimer.unref?.();
  }

  /** Write queued messages, then snapshot chunks, until the socket pushes back. */
  private flush(): void {
    const sock = this.socket;
    if (sock === undefined || !this.connected || !this.writable) return;
    const env = this.env;
    sock.cork();
    try {
      while (this.writable) {
        if (this.head < this.queue.length) {
          const m = this.queue[this.head] as Message;
          this.queue[this.head++] = undefined;
          const frame = encodeFrame(msgValue(m));
          if (frame.length - FRAME_HEADER_BYTES > env.maxFrameBytes) {
            env.stats.messagesDropped++;
            log.transport('%d: message to %d of %d bytes exceeds maxFrameBytes, dropped', env.selfId, this.peer, frame.length);
            continue;
          }
          env.stats.messagesSent++;
          env.stats.bytesSent += frame.length;
          this.writable = sock.write(frame);
          continue;
        }
        if (this.active === undefined) this.active = this.snapshots.shift();
        const s = this.active;
        if (s === undefined) break;
        this.writable = this.writeChunk(sock, s);
      }
    } finally {
      sock.uncork();
      this.compact();
    }
  }

  private writeChunk(sock: net.Socket, s: OutgoingSnapshot): boolean {
    const env = this.env;
    const snap = s.message.snapshot;
    const data = snap === undefined ? new Uint8Array(0) : snap.data;
    const start = s.offset;
    const end = Math.min(data.length, start + env.snapshotChunkBytes);
    const header = start === 0 ? snapshotHeader(s.message) : null;
    // The chunk's bytes go to the socket straight from the snapshot, uncopied.
    const prefix = chunkFramePrefix(s.stream, data.length, start, end - start, header);
    sock.write(prefix);
    const bytes = data.subarray(start, end);
    s.offset = end;
    env.stats.bytesSent += prefix.length + bytes.length;
    if (end < data.length) return sock.write(bytes);
    // Last chunk: the outcome is known once the socket has taken it.
    this.active = undefined;
    this.finishing.add(s);
    env.stats.snapshotsSent++;
    return sock.write(bytes, (err) => {
      if (!this.finishing.delete(s) || s.reported) return;
      if (err) {
        this.fail(s);
        return;
      }
      s.reported = true;
      env.snapshotStatus(this.peer, true);
    });
  }
}
