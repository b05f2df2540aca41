/**
 * Carrying out fault actions (the decision log's entries) on a simulated
 * cluster: network partitions and cuts, crashes and restarts, pauses, and
 * membership changes proposed through the current leader.
 */
import { ConfChangeTransition, ConfChangeType } from '../raft/types.ts';
import type { NodeId } from '../raft/types.ts';
import type { MemoryNetwork } from '../transport/memory.ts';
import type { FaultAction } from './faults.ts';
import type { NodeHost } from './host.ts';
import type { SimStats } from './options.ts';

/** What {@link applyAction} acts on (the {@link Simulation}). */
export interface ActionTarget {
  readonly network: MemoryNetwork;
  readonly hosts: Map<NodeId, NodeHost>;
  readonly stats: SimStats;
  leader(): NodeHost | undefined;
  addHost(id: NodeId, peers: readonly NodeId[]): NodeHost;
  bootHost(h: NodeHost): void;
}

/** Carry out `a`. Actions that no longer apply (restart of a live member, …) do nothing. */
export function applyAction(t: ActionTarget, a: FaultAction): void {
  switch (a.kind) {
    case 'partition':
      t.stats.partitions++;
      t.network.partition(a.a, a.b);
      break;
    case 'cut':
      t.network.cutOneWay(a.from, a.to);
      break;
    case 'heal':
      t.network.heal();
      break;
    case 'crash': {
      const h = t.hosts.get(a.node);
      if (h === undefined || !h.alive) break;
      t.stats.crashes++;
      if (h.paused) releaseInbound(t, h.id);
      h.crash();
      break;
    }
    case 'restart': {
      const h = t.hosts.get(a.node);
      if (h === undefined || h.alive) break;
      t.stats.restarts++;
      t.bootHost(h);
      break;
    }
    case 'pause': {
      const h = t.hosts.get(a.node);
      if (h === undefined || !h.alive || h.paused) break;
      t.stats.pauses++;
      h.clock?.pause();
      for (const x of t.hosts.keys()) if (x !== h.id) t.network.hold(x, h.id);
      break;
    }
    case 'resume': {
      const h = t.hosts.get(a.node);
      if (h === undefined || !h.paused) break;
      releaseInbound(t, h.id);
      h.clock?.resume();
      break;
    }
    case 'add':
    case 'promote':
    case 'remove':
      membershipAction(t, a.kind, a.node);
      break;
    case 'replace':
      replaceAction(t, a.node, a.out);
      break;
  }
}

function releaseInbound(t: ActionTarget, id: NodeId): void {
  for (const x of t.hosts.keys()) if (x !== id) t.network.release(x, id);
}

function counted(t: ActionTarget, p: Promise<unknown>, then?: () => void): void {
  p.then(
    () => {
      t.stats.membershipChanges++;
      then?.();
    },
    () => undefined,
  );
}

function membershipAction(t: ActionTarget, kind: 'add' | 'promote' | 'remove', id: NodeId): void {
  const lead = t.leader()?.node;
  if (lead === undefined) return;
  if (kind === 'add') {
    if (t.hosts.has(id)) return;
    const h = t.addHost(id, []);
    counted(t, lead.addMember(id, { learner: true }));
    t.bootHost(h);
  } else if (kind === 'promote') {
    counted(t, lead.promoteMember(id));
  } else {
    counted(t, lead.removeMember(id), () => {
      const h = t.hosts.get(id);
      if (h !== undefined) h.removed = true;
    });
  }
}

function replaceAction(t: ActionTarget, learner: NodeId, out: NodeId): void {
  const lead = t.leader()?.node;
  if (lead === undefined) return;
  counted(
    t,
    lead.changeMembership(
      [
        { type: ConfChangeType.AddNode, nodeId: learner },
        { type: ConfChangeType.RemoveNode, nodeId: out },
      ],
      { transition: ConfChangeTransition.JointImplicit },
    ),
  );
}
