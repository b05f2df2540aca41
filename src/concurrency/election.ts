/**
 * Election (R8.3): leader election under a prefix. Candidates create
 * `pfx/<lease hex>` with their value; the leader is the key with the smallest
 * create revision. Campaigning waits (like a Mutex) for older candidates to
 * go; the leader can change its value (proclaim) or step down (resign), and
 * anyone can observe the succession of leaders.
 */
import { strataError } from '../errors.ts';
import type { KeyValue } from '../mvcc/types.ts';
import type { GetResponse, ResponseHeader } from '../server/types.ts';
import type { KVClient } from './client.ts';
import { rangeAt } from './mutex.ts';
import type { Session } from './session.ts';
import { str, waitDeletes, waitEvent } from './wait.ts';

/** One leader announcement seen by {@link Election.observe}. */
export interface LeaderObservation {
  /** The leader's key (its value is the proclaimed value). */
  readonly kv: KeyValue;
  /** The revision at which this value was seen. */
  readonly revision: number;
}

/** A leader election on a prefix, campaigned through a {@link Session}. */
export class Election {
  private readonly pfx: string;
  private leaderKey = '';
  private leaderRev = -1;
  private leading = false;
  private hdr: ResponseHeader | undefined;

  /**
   * @param session the session whose lease the candidate key is attached to
   * @param prefix the election's name; keys live under `prefix/`
   */
  constructor(
    readonly session: Session,
    prefix: string,
  ) {
    this.pfx = `${prefix}/`;
  }

  /** An observer-only view of an election (leader(), observe()) without a session. */
  static observer(client: KVClient, prefix: string): ElectionObserver {
    return new ElectionObserver(client, `${prefix}/`);
  }

  /**
   * Become leader with `value`: resolves once elected, i.e. once every older
   * candidate is gone. If this session is already a candidate with another
   * value, the value is proclaimed. ErrSessionExpired if this session's key
   * vanished while waiting; ErrAborted when `signal` fires (the candidacy is
   * then withdrawn).
   */
  async campaign(value: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const s = this.session;
    const client = s.client;
    const key = `${this.pfx}${s.lease.toString(16)}`;
    const resp = await client.txn(
      {
        compare: [{ key, target: 'createRevision', result: '==', value: 0 }],
        success: [{ put: { key, value, lease: s.lease } }],
        failure: [{ range: { key } }],
      },
      options.signal !== undefined ? { signal: options.signal } : {},
    );
    this.leaderKey = key;
    this.leaderRev = resp.header.revision;
    this.leading = true;
    if (!resp.succeeded) {
      const kv = rangeAt(resp, 0).kvs[0];
      if (kv !== undefined) {
        this.leaderRev = kv.createRevision;
        if (str(kv.value) !== value) await this.proclaim(value, options);
      }
    }
    try {
      await waitDeletes(client, this.pfx, this.leaderRev - 1, { ...options, own: key });
    } catch (err) {
      if (options.signal?.aborted === true) await this.resign().catch(() => undefined);
      else this.leading = false;
      throw err;
    }
    this.hdr = resp.header;
  }

  /**
   * Change the leader's value without an election. ErrElectionNotLeader if
   * this client is not (or no longer) the leader.
   */
  async proclaim(value: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.leading) throw strataError('ErrElectionNotLeader', 'not a leader of this election');
    const s = this.session;
    const resp = await s.client.txn(
      {
        compare: [{ key: this.leaderKey, target: 'createRevision', result: '==', value: this.leaderRev }],
        success: [{ put: { key: this.leaderKey, value, lease: s.lease } }],
      },
      options.signal !== undefined ? { signal: options.signal } : {},
    );
    if (!resp.succeeded) {
      this.leaderKey = '';
      this.leading = false;
      throw strataError('ErrElectionNotLeader', 'leadership was lost');
    }
    this.hdr = resp.header;
  }

  /** Give up leadership (or the candidacy), so the next candidate is elected. A no-op when not leading. */
  async resign(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.leading) return;
    const resp = await this.session.client.txn(
      {
        compare: [{ key: this.leaderKey, target: 'createRevision', result: '==', value: this.leaderRev }],
        success: [{ deleteRange: { key: this.leaderKey } }],
      },
      options.signal !== undefined ? { signal: options.signal } : {},
    );
    this.hdr = resp.header;
    this.leaderKey = '';
    this.leading = false;
  }

  /** The current leader's key-value (first-created key). ErrElectionNoLeader if there is none. */
  leader(options: { signal?: AbortSignal } = {}): Promise<GetResponse> {
    return new ElectionObserver(this.session.client, this.pfx).leader(options);
  }

  /** Each leader value as it changes; see {@link ElectionObserver.observe}. */
  observe(options: { signal?: AbortSignal } = {}): AsyncIterable<LeaderObservation> {
    return new ElectionObserver(this.session.client, this.pfx).observe(options);
  }

  /** This candidate's key (empty when not campaigning). */
  get key(): string {
    return this.leaderKey;
  }

  /** Create revision of this candidate's key (-1 when not campaigning). */
  get rev(): number {
    return this.leaderRev;
  }

  /** Header of the last response that changed this candidacy. */
  get header(): ResponseHeader | undefined {
    return this.hdr;
  }
}

/** Read-only access to an election: who leads, and every change. */
export class ElectionObserver {
  /**
   * @param client the client
   * @param pfx the election's key prefix, ending in `/`
   */
  constructor(
    private readonly client: KVClient,
    private readonly pfx: string,
  ) {}

  /** The current leader's key-value (first-created key). ErrElectionNoLeader if there is none. */
  async leader(options: { signal?: AbortSignal } = {}): Promise<GetResponse> {
    const r = await this.client.get(this.pfx, {
      prefix: true,
      sortTarget: 'createRevision',
      sortOrder: 'ascend',
      limit: 1,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    if (r.kvs.length === 0) throw strataError('ErrElectionNoLeader', `election ${this.pfx} has no leader`);
    return r;
  }

  /**
   * The current leader, then every value it proclaims, then each following
   * leader, as an async iterable (R8.3 Observe). Without a leader it waits
   * for the first candidate. Ends when `signal` fires or the loop is left.
   */
  async *observe(options: { signal?: AbortSignal } = {}): AsyncGenerator<LeaderObservation> {
    const ctl = new AbortController();
    const signal = options.signal !== undefined ? AbortSignal.any([options.signal, ctl.signal]) : ctl.signal;
    try {
      for (;;) {
        if (signal.aborted) return;
        const r = await this.client.get(this.pfx, { prefix: true, sortTarget: 'createRevision', sortOrder: 'ascend', limit: 1, signal });
        let kv = r.kvs[0];
        let revision = r.header.revision;
        if (kv === undefined) {
          const ev = await waitEvent(this.client, this.pfx, { startRevision: r.header.revision + 1, type: 'put', prefix: true, signal });
          if (ev === undefined) return;
          kv = ev.kv;
          revision = ev.kv.modRevision;
        }
        yield { kv, revision };
        const key = str(kv.key);
        let from = kv.modRevision + 1;
        for (;;) {
          const puts: KeyValue[] = [];
          let deleted = false;
          let ended = true;
          for await (const resp of this.client.watch(key, { startRevision: from, signal })) {
            if (resp.canceled === true) throw strataError('ErrCompacted', `observe watch on ${key} cancelled`);
            for (const ev of resp.events) {
              if (ev.type === 'delete') {
                deleted = true;
                break;
              }
              puts.push(ev.kv);
            }
            if (deleted || puts.length > 0) {
              ended = false;
              break;
            }
          }
          for (const p of puts) yield { kv: p, revision: p.modRevision };
          if (deleted) break;
          if (ended) return;
          from = (puts[puts.length - 1]?.modRevision ?? from - 1) + 1;
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    } finally {
      ctl.abort();
    }
  }
}
