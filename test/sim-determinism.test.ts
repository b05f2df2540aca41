// Issue #8: determinism — same seed ⇒ same trace hash (every event hashed), different seeds
// differ; the self-check mode compares two runs event by event; traces are JSON lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../src/sim/simulation.ts';
import { checkDeterminism } from '../src/sim/determinism.ts';
import { proposeWorkload } from '../src/sim/workload.ts';
import { baseSeed } from './sim-harness.ts';

test('issue #8: the same seed twice gives the same traceHash and stats; different seeds differ', async (t) => {
  t.diagnostic(`seed=${baseSeed}`);
  const run = async (seed: number) => new Simulation({ seed, nodes: 5, faults: 'all', workload: proposeWorkload({ clients: 2, idleShare: 0.3 }) }).run({ ticks: 120 });
  const a = await run(baseSeed);
  const b = await run(baseSeed);
  assert.equal(a.traceHash, b.traceHash);
  assert.deepEqual(a.stats, b.stats);
  assert.deepEqual(a.schedule, b.schedule);
  const c = await run(baseSeed + 1);
  assert.notEqual(a.traceHash, c.traceHash);
  assert.ok(a.stats.messagesDelivered > 100);
});

test('issue #8: determinism self-check agrees event by event (swarm profile, crashes, membership)', async (t) => {
  for (const seed of [baseSeed + 2, baseSeed + 3]) {
    const r = await checkDeterminism({ seed, nodes: 3, membership: true }, { ticks: 100 });
    t.diagnostic(`seed=${seed} events=${r.events} hash=${r.traceHash}`);
    assert.ok(r.ok, `diverged at event ${r.divergence?.index}: ${JSON.stringify(r.divergence)}`);
    assert.ok(r.events > 100);
  }
});

test('issue #8: the trace is written as JSON lines with tick, node and event', async () => {
  const lines: string[] = [];
  const r = await new Simulation({ seed: baseSeed, nodes: 3, faults: 'none', trace: { sink: (l) => lines.push(l) } }).run({ ticks: 40 });
  assert.ok(r.ok);
  assert.ok(lines.length > 50);
  const evs = lines.map((l) => JSON.parse(l) as { t: number; tick: number; n: number; ev: string });
  assert.equal(evs[0]!.ev, 'start');
  assert.ok(evs.some((e) => e.ev === 'recv') && evs.some((e) => e.ev === 'role') && evs.some((e) => e.ev === 'apply'));
  for (let i = 1; i < evs.length; i++) assert.ok(evs[i]!.t >= evs[i - 1]!.t, 'time never goes backwards');
});
