// Simulator benchmark (issue #8): simulated ticks/s and delivered messages/s per core, for a
// few cluster sizes and fault profiles, plus the RaftNode driver's proposal throughput on an
// in-memory 3-node cluster (MemoryNetwork, MemoryStorage, virtual time) at several concurrencies.
import { printTable, progress, writeResults } from './lib.ts';
import type { Row } from './lib.ts';
import { Simulation } from '../src/sim/simulation.ts';
import type { FaultsOption } from '../src/sim/simulation.ts';
import { RaftNode } from '../src/node/raft-node.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { MemoryNetwork } from '../src/transport/memory.ts';
import { VirtualClock } from '../src/util/clock.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { DigestStateMachine } from '../src/sim/state-machine.ts';

async function simRow(label: string, nodes: number, faults: FaultsOption, seeds: number, ticks: number): Promise<Row> {
  let simTicks = 0;
  let delivered = 0;
  let steps = 0;
  let commits = 0;
  let violations = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let s = 1; s <= seeds; s++) {
    const r = await new Simulation({ seed: s, nodes, faults }).run({ ticks });
    simTicks += r.stats.ticks;
    delivered += r.stats.messagesDelivered;
    steps += r.stats.steps;
    commits += r.stats.proposalsCommitted;
    if (!r.ok) violations++;
    progress(`${label}: seed ${s}/${seeds}`);
  }
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  const cpu = (c.user + c.system) / 1e6;
  return {
    scenario: label,
    nodes,
    seeds,
    'sim ticks': simTicks,
    'ticks/s (cpu)': Math.round(simTicks / cpu),
    'msgs delivered/s (cpu)': Math.round(delivered / cpu),
    'steps/s (cpu)': Math.round(steps / cpu),
    'commits/sim s': Number((commits / ((simTicks * 100) / 1000)).toFixed(1)),
    'wall s': Number(wall.toFixed(2)),
    violations,
  };
}

/** Proposals/s through RaftNode on a 3-node in-memory cluster with `concurrency` clients (virtual time, zero-delay network). */
async function driverRow(concurrency: number, total: number): Promise<Row> {
  const clock = new VirtualClock();
  const rng = new SeededRandom(42);
  const net = new MemoryNetwork({ rng: rng.fork(), clock });
  const ids = [1, 2, 3];
  const nodes = ids.map(
    (id) =>
      new RaftNode({ id, peers: ids, storage: new MemoryStorage(), transport: net.transport(id), stateMachine: new DigestStateMachine(), clock, rng: rng.fork() }),
  );
  for (const n of nodes) await n.start();
  const pump = async (): Promise<void> => {
    for (let i = 0; i < 8; i++) await null;
    while (net.deliverDue(clock.now()) > 0) for (let i = 0; i < 8; i++) await null;
  };
  while (!nodes.some((n) => n.status().role === 'leader')) {
    clock.advance(100);
    await pump();
  }
  const leader = nodes.find((n) => n.status().role === 'leader') as RaftNode;
  const payload = new Uint8Array(64);
  let done = 0;
  let started = 0;
  const lat: number[] = [];
  const t0 = performance.now();
  const client = async (): Promise<void> => {
    while (started < total) {
      started++;
      await leader.propose(payload);
      done++;
    }
  };
  const clients = Array.from({ length: concurrency }, () => client());
  let idle = 0;
  while (done < total && idle < 1000) {
    const before = done;
    await pump();
    if (net.nextDeliveryAt() === undefined) {
      clock.advance(1);
      await pump();
    }
    idle = done === before ? idle + 1 : 0;
  }
  await Promise.race([Promise.all(clients), Promise.resolve()]);
  const sec = (performance.now() - t0) / 1000;
  lat.push(sec);
  for (const n of nodes) await n.stop();
  return { scenario: 'RaftNode propose (3 nodes, memory)', concurrency, proposals: done, 'proposals/s': Math.round(done / sec), 'wall s': Number(sec.toFixed(2)) };
}

export async function main(): Promise<void> {
  const quick = process.env.BENCH_QUICK === '1';
  const rows: Row[] = [];
  await simRow('warm-up', 3, 'all', 3, 200);
  rows.push(await simRow('no faults', 3, 'none', quick ? 3 : 10, 300));
  rows.push(await simRow('no faults', 5, 'none', quick ? 3 : 10, 300));
  rows.push(await simRow('all faults', 5, 'all', quick ? 5 : 20, 300));
  rows.push(await simRow('swarm', 5, 'swarm', quick ? 5 : 30, 300));
  printTable('Simulator throughput (per core: CPU time)', rows);
  const drows: Row[] = [];
  for (const c of [1, 16, 256]) {
    progress(`driver concurrency ${c}`);
    drows.push(await driverRow(c, quick ? 2000 : c === 1 ? 5000 : 30000));
  }
  printTable('RaftNode driver throughput', drows);
  writeResults('sim', [...rows, ...drows]);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
