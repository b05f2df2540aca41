// `npm run demo`: a three-member Strata cluster in one process, on LevelDB in
// a temporary directory, told as a short story. Exits 0 on its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../src/server/local-cluster.ts';
import type { StrataNode } from '../src/server/strata-node.ts';
import { humanBytes, renderTable } from './table.ts';

const t0 = performance.now();
const out = (s = ''): void => void process.stdout.write(s + '\n');
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
const step = (n: number, title: string): void => out(`\n[${elapsed()}] ${n}. ${title}`);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const hex = (id: number): string => id.toString(16);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function memberTable(cluster: LocalCluster, via: StrataNode): Promise<string> {
  const members = await via.members.list();
  const running = new Set(cluster.nodes.map((n) => n.id));
  return renderTable(
    ['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'],
    members.map((m) => [hex(m.id), running.has(m.id) ? 'started' : 'stopped', m.name, m.peerURLs.join(','), m.clientURLs.join(','), String(m.isLearner)]),
    ['l', 'l', 'l', 'l', 'l', 'r'],
  );
}

async function statusTable(cluster: LocalCluster): Promise<string> {
  const rows: string[][] = [];
  for (const n of cluster.nodes) {
    const s = await n.status();
    rows.push([
      `mem://${s.name}`,
      hex(s.memberId),
      s.version,
      humanBytes(s.dbSize),
      String(s.leader === s.memberId),
      String(s.isLearner),
      String(s.raftTerm),
      String(s.raftIndex),
      String(s.appliedIndex),
      s.errors.join(', '),
    ]);
  }
  return renderTable(
    ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'],
    rows,
    ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-demo-'));
  out('Strata demo: an etcd-like cluster embedded in one Node.js process');
  out(`three members, LevelDB (fsync on) under ${dir}, tick 100 ms`);
  const acked = new Map<string, string>();
  const cluster = await LocalCluster.start({ size: 3, dataDir: dir, tickMs: 100 });
  const watchCtl = new AbortController();
  try {
    let leader = await cluster.waitForLeader();
    step(1, `cluster up, ${leader.name} elected leader`);
    out(await memberTable(cluster, leader));

    // Watch on a member that is not the leader: the leader is killed later.
    const watcher = cluster.nodes.filter((n) => n !== leader).at(-1) as StrataNode;
    step(2, `a watch on ${watcher.name} prints every change under /demo/`);
    const watching = (async () => {
      for await (const resp of watcher.watch('/demo/', { prefix: true, signal: watchCtl.signal })) {
        for (const e of resp.events) {
          const v = e.type === 'put' ? ` = ${text(e.kv.value)}` : '';
          out(`      [watch@${watcher.name}] ${e.type.toUpperCase()} ${text(e.kv.key)}${v} (rev ${e.kv.modRevision})`);
        }
      }
    })();

    step(3, 'puts through different members, linearizable gets from others');
    const follower = cluster.nodes.find((n) => n !== leader) as StrataNode;
    for (const [name, key, value] of [
      ['node-1', '/demo/greeting', 'hello'],
      ['node-2', '/demo/color', 'blue'],
      ['node-3', '/demo/color', 'green'],
    ] as const) {
      const r = await cluster.node(name).put(key, value);
      acked.set(key, value);
      out(`    put ${key}=${value} via ${name} -> revision ${r.header.revision}`);
    }
    await sleep(50);
    const g = await follower.get('/demo/color');
    out(`    get /demo/color via ${follower.name} (linearizable) -> ${text(g.kvs[0]?.value ?? new Uint8Array())}, version ${g.kvs[0]?.version}, rev ${g.header.revision}`);
    const t = await leader.txn({
      compare: [{ key: '/demo/color', target: 'value', result: '==', value: 'green' }],
      success: [{ put: { key: '/demo/color', value: 'red' } }],
    });
    acked.set('/demo/color', 'red');
    out(`    txn: if color == green then color = red -> succeeded=${t.succeeded}, rev ${t.header.revision}`);

    step(4, 'a 2-second lease: its key disappears when the lease expires');
    const lease = await follower.lease.grant(2);
    await follower.put('/demo/session', 'alive', { lease: lease.id });
    out(`    granted lease ${hex(lease.id)} (TTL ${lease.ttl}s) and attached /demo/session`);
    const leaseStart = performance.now();
    while ((await leader.get('/demo/session')).count > 0) await sleep(100);
    out(`    /demo/session expired after ${((performance.now() - leaseStart) / 1000).toFixed(1)}s (the leader revoked the lease)`);

    step(5, `kill the leader (${leader.name}) and keep writing`);
    const killed = leader.name;
    const killAt = performance.now();
    await cluster.kill(killed);
    leader = await cluster.waitForLeader();
    out(`    ${leader.name} elected leader after ${Math.round(performance.now() - killAt)} ms`);
    for (let i = 1; i <= 8; i++) {
      const key = `/demo/after-failover/${String(i).padStart(2, '0')}`;
      await cluster.nodes[i % cluster.nodes.length]!.put(key, `v${i}`);
      acked.set(key, `v${i}`);
    }
    out(`    8 more writes acknowledged by the two survivors`);
    out(await memberTable(cluster, leader));

    step(6, `restart ${killed} from its directory: it catches up from the log`);
    await cluster.restart(killed);
    await cluster.waitForLeader();
    await cluster.node(killed).get('/demo/', { prefix: true, countOnly: true });
    out(`    ${killed} is back at revision ${cluster.node(killed).revision}`);

    step(7, 'final check: every acknowledged write is present on every member');
    let missing = 0;
    for (const n of cluster.nodes) {
      for (const [k, v] of acked) {
        const r = await n.get(k);
        if (r.kvs.length !== 1 || text(r.kvs[0]!.value) !== v) missing++;
      }
    }
    const rev = (await leader.get('/demo/')).header.revision;
    for (const n of cluster.nodes) await n.get('/demo/');
    const hashes = await Promise.all(cluster.nodes.map((n) => n.hashKV(rev)));
    const agree = new Set(hashes.map((h) => h.hash)).size === 1;
    out(`    ${acked.size} keys x ${cluster.nodes.length} members checked: ${missing === 0 ? 'all present' : `${missing} MISSING`}`);
    out(`    hashKV at revision ${rev}: ${hashes.map((h) => h.hash.toString(16)).join(' / ')} -> ${agree ? 'members agree' : 'MISMATCH'}`);
    out(await statusTable(cluster));
    watchCtl.abort();
    await watching;
    if (missing > 0 || !agree) throw new Error('final check failed');
    out(`\ndone in ${elapsed()}`);
  } finally {
    watchCtl.abort();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
