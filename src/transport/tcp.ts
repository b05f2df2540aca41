/**
 * {@link Transport} over TCP, optionally with mutual TLS (as etcd's
 * `--peer-trusted-ca-file`, `--peer-cert-file`, `--peer-key-file`: both
 * sides present certificates signed by the trusted CA, anything else is
 * refused during the handshake).
 *
 * Each member listens for inbound connections, which it only reads, and
 * dials one outbound connection per peer, which it only writes (see
 * tcp-peer.ts). Frames are length-prefixed codec records (frame.ts) carrying
 * the protocol of wire.ts: a hello naming the sender, then messages and
 * snapshot chunks. A peer that sends anything malformed has its connection
 * closed; the process carries on.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Message, NodeId } from '../raft/types.ts';
import type { Random } from '../util/rng.ts';
import { decode } from '../codec/index.ts';
import { strataError } from '../errors.ts';
import { log } from '../util/log.ts';
import { formatAddress, parseAddress } from './address.ts';
import { FrameDecoder } from './frame.ts';
import { PeerSender } from './tcp-peer.ts';
import type { PeerEnv, TcpStats, TlsMaterial } from './tcp-peer.ts';
import type { MessageHandler, Transport } from './transport.ts';
import { FrameKind, SnapshotAssembler, parseFrame } from './wire.ts';

/** Options of {@link TcpTransport.listen}. */
export interface TcpTransportOptions {
  /** This member's id (positive integer). */
  readonly id: NodeId;
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port to listen on; 0 (default) picks a free one — see {@link TcpTransport.address}. */
  readonly port?: number;
  /** Known peers: id → `host:port`. More can be added with `addPeer`. */
  readonly peers?: Readonly<Record<NodeId, string>>;
  /** Mutual TLS material; plain TCP when absent. */
  readonly tls?: TlsMaterial;
  /** Give up a dial after this long. Default 1000 ms. */
  readonly dialTimeoutMs?: number;
  /** Largest frame payload sent or accepted. Default 32 MiB. */
  readonly maxFrameBytes?: number;
  /**
   * Snapshot data is sent in chunks of this size. Default 1 MiB (or half of
   * `maxFrameBytes` when that is smaller); must stay 64 KiB below `maxFrameBytes`.
   */
  readonly snapshotChunkBytes?: number;
  /** Largest snapshot accepted from a peer. Default 2 GiB. */
  readonly maxSnapshotBytes?: number;
  /** Messages queued per peer before the oldest is dropped. Default 4096. */
  readonly maxQueue?: number;
  /** First redial delay (doubled per failure, jittered to 50–100 %). Default 50 ms. */
  readonly backoffMinMs?: number;
  /** Largest redial delay. Default 2000 ms. */
  readonly backoffMaxMs?: number;
  /** Randomness for backoff jitter. Default: `Math.random`. */
  readonly rng?: Random;
}

const MiB = 1024 * 1024;
const CHUNK_SLACK = 64 * 1024;
const HELLO_TIMEOUT_MS = 10_000;

const defaultRandom: Random = {
  next: () => Math.random(),
  int: (n: number) => Math.floor(Math.random() * n),
};

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!(Number.isFinite(x) && x > 0)) throw strataError('ErrInvalidArgument', `${name} must be positive, got ${x}`);
  return x;
}

/** A Raft transport over TCP or mutual TLS. Create with {@link TcpTransport.listen}. */
export class TcpTransport implements Transport {
  /** Counters since creation. */
  readonly stats: TcpStats = {
    messagesSent: 0,
    messagesReceived: 0,
    messagesDropped: 0,
    bytesSent: 0,
    bytesReceived: 0,
    snapshotsSent: 0,
    snapshotsReceived: 0,
    dials: 0,
    dialFailures: 0,
    connectionsAccepted: 0,
    malformed: 0,
  };

  private handler: MessageHandler | undefined;
  private readonly unreachableHandlers: Array<(peer: NodeId) => void> = [];
  private readonly snapshotHandlers: Array<(peer: NodeId, ok: boolean) => void> = [];
  private readonly senders = new Map<NodeId, PeerSender>();
  private readonly inbound = new Set<net.Socket>();
  private readonly env: PeerEnv;
  private readonly maxFrameBytes: number;
  private readonly maxSnapshotBytes: number;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly id: NodeId,
    private readonly server: net.Server,
    options: TcpTransportOptions,
  ) {
    this.maxFrameBytes = positive('maxFrameBytes', options.maxFrameBytes, 32 * MiB);
    this.maxSnapshotBytes = positive('maxSnapshotBytes', options.maxSnapshotBytes, 2048 * MiB);
    const chunk = positive('snapshotChunkBytes', options.snapshotChunkBytes, Math.min(MiB, Math.floor(this.maxFrameBytes / 2)));
    if (chunk + CHUNK_SLACK > this.maxFrameBytes) {
      throw strataError('ErrInvalidArgument', `snapshotChunkBytes ${chunk} must be at least ${CHUNK_SLACK} below maxFrameBytes ${this.maxFrameBytes}`);
    }
    const backoffMinMs = positive('backoffMinMs', options.backoffMinMs, 50);
    this.env = {
      selfId: id,
      tls: options.tls,
      dialTimeoutMs: positive('dialTimeoutMs', options.dialTimeoutMs, 1000),
      maxFrameBytes: this.maxFrameBytes,
      snapshotChunkBytes: chunk,
      maxQueue: positive('maxQueue', options.maxQueue, 4096),
      backoffMinMs,
      backoffMaxMs: Math.max(backoffMinMs, positive('backoffMaxMs', options.backoffMaxMs, 2000)),
      rng: options.rng ?? defaultRandom,
      stats: this.stats,
      // Handlers always run on a later microtask, never inside send().
      unreachable: (peer) => queueMicrotask(() => this.emitUnreachable(peer)),
      snapshotStatus: (peer, ok) => queueMicrotask(() => this.emitSnapshotStatus(peer, ok)),
    };
    for (const [k, address] of Object.entries(options.peers ?? {})) this.addPeer(Number(k), address);
  }

  /**
   * Start listening and return the transport. Rejects with the listen error
   * (e.g. `EADDRINUSE`), or `ErrInvalidArgument` for bad options.
   */
  static async listen(options: TcpTransportOptions): Promise<TcpTransport> {
    if (!Number.isSafeInteger(options.id) || options.id <= 0) {
      throw strataError('ErrInvalidArgument', `id must be a positive integer, got ${options.id}`);
    }
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    const material = options.tls;
    const server = material
      ? tls.createServer({
          ca: material.ca as string | Buffer | Array<string | Buffer>,
          cert: material.cert,
          key: material.key,
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
        })
      : net.createServer();
    const t = new TcpTransport(options.id, server, options);
    server.on(material ? 'secureConnection' : 'connection', (sock: net.Socket) => t.accept(sock));
    server.on('tlsClientError', (err: Error, sock: net.Socket) => {
      log.transport('%d: rejected TLS client %s: %s', t.id, sock.remoteAddress, err.message);
    });
    server.on('error', (err) => log.transport('%d: server error: %s', t.id, err.message));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    log.transport('%d: listening on %s%s', t.id, t.address(), material ? ' (mutual TLS)' : '');
    return t;
  }

  /** The bound `host:port` (with the actual port when 0 was asked for). */
  address(): string {
    const a = this.server.address() as AddressInfo | null;
    if (a === null) throw strataError('ErrStopped', 'transport is closed');
    return formatAddress(a.address, a.port);
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    let touched: PeerSender | Set<PeerSender> | undefined;
    for (const m of messages) {
      const sender = this.senders.get(m.to);
      if (sender === undefined) {
        this.stats.messagesDropped++;
        if (m.to !== this.id) {
          log.transport('%d: no address for peer %d, message dropped', this.id, m.to);
          this.env.unreachable(m.to);
        }
        continue;
      }
      sender.enqueue(m);
      // Most batches go to one peer: avoid a Set for them.
      if (touched === undefined) touched = sender;
      else if (touched instanceof Set) touched.add(sender);
      else if (touched !== sender) touched = new Set([touched, sender]);
    }
    if (touched instanceof Set) for (const s of touched) s.kick();
    else touched?.kick();
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onUnreachable(handler: (peer: NodeId) => void): void {
    this.unreachableHandlers.push(handler);
  }

  onSnapshotStatus(handler: (peer: NodeId, ok: boolean) => void): void {
    this.snapshotHandlers.push(handler);
  }

  /** Learn or update a peer's address (`host:port`); throws `ErrInvalidArgument` when malformed. */
  addPeer(id: NodeId, address: string): void {
    parseAddress(address);
    if (this.closed || id === this.id) return;
    const s = this.senders.get(id);
    if (s !== undefined) s.setAddress(address);
    else this.senders.set(id, new PeerSender(id, address, this.env));
  }

  removePeer(id: NodeId): void {
    const s = this.senders.get(id);
    if (s === undefined) return;
    this.senders.delete(id);
    s.close(false);
  }

  /** Known peers and their addresses. */
  peers(): ReadonlyMap<NodeId, string> {
    return new Map([...this.senders].map(([id, s]) => [id, s.address]));
  }

  /** Messages waiting to be written to `peer` (0 for unknown peers). */
  queued(peer: NodeId): number {
    return this.senders.get(peer)?.queued ?? 0;
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const s of this.senders.values()) s.close(true);
    this.senders.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const sock of this.inbound) sock.destroy();
    this.inbound.clear();
    this.closing = done.then(() => log.transport('%d: closed', this.id));
    return this.closing;
  }

  private emitUnreachable(peer: NodeId): void {
    if (this.closed) return;
    for (const h of this.unreachableHandlers) {
      try {
        h(peer);
      } catch (err) {
        log.transport('%d: unreachable handler threw: %s', this.id, (err as Error).message);
      }
    }
  }

  private emitSnapshotStatus(peer: NodeId, ok: boolean): void {
    if (this.closed) return;
    for (const h of this.snapshotHandlers) {
      try {
        h(peer, ok);
      } catch (err) {
        log.transport('%d: snapshot status handler threw: %s', this.id, (err as Error).message);
      }
    }
  }

  /** Read frames from one inbound connection. */
  private accept(sock: net.Socket): void {
    if (this.closed) {
      sock.destroy();
      return;
    }
    this.stats.connectionsAccepted++;
    this.inbound.add(sock);
    sock.setNoDelay(true);
    const remote = `${sock.remoteAddress}:${sock.remotePort}`;
    const decoder = new FrameDecoder(this.maxFrameBytes);
    const assembler = new SnapshotAssembler(this.maxSnapshotBytes);
    let peer: NodeId | undefined;
    // A connection that never introduces itself is dropped.
    sock.setTimeout(HELLO_TIMEOUT_MS, () => {
      log.transport('%d: no hello from %s within %d ms, closing', this.id, remote, HELLO_TIMEOUT_MS);
      sock.destroy();
    });
    sock.on('error', (err) => log.transport('%d: inbound %s error: %s', this.id, remote, err.message));
    sock.on('close', () => this.inbound.delete(sock));
    sock.on('data', (chunk: Buffer) => {
      if (sock.destroyed) return;
      this.stats.bytesReceived += chunk.length;
      try {
        for (const payload of decoder.push(chunk)) {
          const frame = parseFrame(decode<unknown>(payload));
          if (peer === undefined) {
            if (frame.kind !== FrameKind.Hello) throw strataError('ErrCorrupt', 'first frame is not a hello');
            if (frame.to !== this.id && frame.to !== 0) {
              throw strataError('ErrCorrupt', `hello meant for member ${frame.to}, this is ${this.id}`);
            }
            peer = frame.from;
            sock.setTimeout(0);
            log.transport('%d: inbound connection from %d (%s)', this.id, peer, remote);
            continue;
          }
          if (frame.kind === FrameKind.Hello) throw strataError('ErrCorrupt', 'second hello');
          const message = frame.kind === FrameKind.Msg ? frame.message : assembler.push(frame);
          if (message === undefined) continue;
          if (message.from !== peer) throw strataError('ErrCorrupt', `message from ${message.from} on ${peer}'s connection`);
          if (frame.kind === FrameKind.SnapChunk) this.stats.snapshotsReceived++;
          this.deliver(message);
          if (sock.destroyed) return;
        }
      } catch (err) {
        this.stats.malformed++;
        log.transport('%d: closing connection from %s (member %s): %s', this.id, remote, peer ?? '?', (err as Error).message);
        sock.destroy();
      }
    });
  }

  private deliver(message: Message): void {
    this.stats.messagesReceived++;
    if (message.to !== this.id) {
      log.transport('%d: dropped message addressed to %d', this.id, message.to);
      return;
    }
    const h = this.handler;
    if (h === undefined || this.closed) return;
    try {
      h(message);
    } catch (err) {
      // A handler bug must not be mistaken for a malformed frame.
      log.transport('%d: message handler threw: %s', this.id, (err as Error).message);
    }
  }
}
