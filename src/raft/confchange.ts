/**
 * Membership transitions, as etcd-io/raft's `confchange` package. A change is
 * computed on copies of the configuration and progress map, checked against
 * the invariants, and only then handed back, so a refused change alters
 * nothing. Three forms:
 * - simple: at most one voter added or removed (any number of learners);
 * - enter joint: C_old becomes the outgoing half, the changes make C_new;
 * - leave joint: drop the outgoing half, turning staged learners into learners.
 */
import { decode, encode } from '../codec/index.ts';
import { strataError } from '../errors.ts';
import type { Progress } from './progress.ts';
import type { ProgressTracker, TrackerConfig } from './progress-tracker.ts';
import { cloneConfig, emptyConfig, isJoint } from './progress-tracker.ts';
import type { ConfChange, ConfChangeSingle, ConfState, NodeId } from './types.ts';
import { ConfChangeTransition, ConfChangeType } from './types.ts';

/** Encoded empty ConfChange: leave the joint configuration. */
export const LEAVE_JOINT_DATA: Uint8Array = encode({ transition: 0, changes: [] });

/** Decode a ConfChange entry's data, or undefined if it is malformed (shape, transition, change types, ids). */
export function decodeConfChange(data: Uint8Array): ConfChange | undefined {
  try {
    const cc = decode<ConfChange>(data);
    if (cc === null || typeof cc !== 'object' || !Array.isArray(cc.changes)) return undefined;
    if (cc.transition !== 0 && cc.transition !== 1 && cc.transition !== 2) return undefined;
    for (const c of cc.changes) {
      if (c === null || typeof c !== 'object' || (c.type !== 0 && c.type !== 1 && c.type !== 2)) return undefined;
      if (!Number.isSafeInteger(c.nodeId) || c.nodeId < 0) return undefined;
    }
    return cc;
  } catch {
    return undefined;
  }
}

/** A configuration and its progress map, the result of a change. */
export interface ConfigAndProgress {
  config: TrackerConfig;
  progress: Map<NodeId, Progress>;
}

/** True if `cc` asks to leave a joint configuration (no changes). */
export function isLeaveJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0;
}

/**
 * Whether `cc` enters a joint configuration, and if so whether it is left
 * automatically: joint unless it is Auto with at most one change.
 */
export function enterJointMode(cc: ConfChange): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1) {
    return { joint: true, autoLeave: cc.transition !== ConfChangeTransition.JointExplicit };
  }
  return { joint: false, autoLeave: false };
}

const invalid = (msg: string): Error => strataError('ErrInvalidArgument', `conf change: ${msg}`);

/** Computes configuration transitions against a tracker's current state. */
export class Changer {
  private readonly tracker: Pick<ProgressTracker, 'config' | 'progress' | 'newProgress'>;
  private readonly lastIndex: number;

  constructor(tracker: Pick<ProgressTracker, 'config' | 'progress' | 'newProgress'>, lastIndex: number) {
    this.tracker = tracker;
    this.lastIndex = lastIndex;
  }

  /** Apply `cc` in whichever form it asks for. */
  change(cc: ConfChange): ConfigAndProgress {
    if (isLeaveJoint(cc)) return this.leaveJoint();
    const m = enterJointMode(cc);
    if (m.joint) return this.enterJoint(m.autoLeave, cc.changes);
    return this.simple(cc.changes);
  }

  /** Enter joint consensus: current voters become the outgoing half. */
  enterJoint(autoLeave: boolean, ccs: readonly ConfChangeSingle[]): ConfigAndProgress {
    const { config, progress } = this.checkAndCopy();
    if (isJoint(config)) throw invalid('config is already joint');
    if (config.voters.incoming.size === 0) throw invalid("can't make a zero-voter config joint");
    config.voters.outgoing = new Set(config.voters.incoming);
    this.apply(config, progress, ccs);
    config.autoLeave = autoLeave;
    return checkAndReturn(config, progress);
  }

  /** Leave joint consensus: drop the outgoing half and promote staged learners. */
  leaveJoint(): ConfigAndProgress {
    const { config, progress } = this.checkAndCopy();
    if (!isJoint(config)) throw invalid("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      progress.get(id)!.isLearner = true;
    }
    config.learnersNext.clear();
    for (const id of config.voters.outgoing) {
      if (!config.voters.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
    }
    config.voters.outgoing = new Set();
    config.autoLeave = false;
    return checkAndReturn(config, progress);
  }

  /** A change touching at most one voter, outside joint consensus. */
  simple(ccs: readonly ConfChangeSingle[]): ConfigAndProgress {
    const { config, progress } = this.checkAndCopy();
    if (isJoint(config)) throw invalid("can't apply simple config change in joint config");
    this.apply(config, progress, ccs);
    const before = this.tracker.config.voters.incoming;
    const after = config.voters.incoming;
    let diff = 0;
    for (const id of before) if (!after.has(id)) diff++;
    for (const id of after) if (!before.has(id)) diff++;
    if (diff > 1) throw invalid('more than one voter changed without entering joint config');
    return checkAndReturn(config, progress);
  }

  private apply(cfg: TrackerConfig, prs: Map<NodeId, Progress>, ccs: readonly ConfChangeSingle[]): void {
    for (const cc of ccs) {
      if (cc.nodeId === 0) continue; // a change the application chose to neutralise
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          remove(cfg, prs, cc.nodeId);
          break;
        default:
          throw invalid(`unknown change type ${String(cc.type)}`);
      }
    }
    if (cfg.voters.incoming.size === 0) throw invalid('removed all voters');
  }

  private makeVoter(cfg: TrackerConfig, prs: Map<NodeId, Progress>, id: NodeId): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, false);
      return;
    }
    pr.isLearner = false;
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    cfg.voters.incoming.add(id);
  }

  private makeLearner(cfg: TrackerConfig, prs: Map<NodeId, Progress>, id: NodeId): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, true);
      return;
    }
    if (pr.isLearner) return;
    // Remove it as a voter in the incoming config but keep its progress.
    remove(cfg, prs, id);
    prs.set(id, pr);
    // Still a voter in the outgoing config: it becomes a learner only when the joint config is left.
    if (cfg.voters.outgoing.has(id)) {
      cfg.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      cfg.learners.add(id);
    }
  }

  private initProgress(cfg: TrackerConfig, prs: Map<NodeId, Progress>, id: NodeId, isLearner: boolean): void {
    if (isLearner) cfg.learners.add(id);
    else cfg.voters.incoming.add(id);
    // Probe from the last index; the new member most likely needs a snapshot.
    const pr = this.tracker.newProgress(0, Math.max(this.lastIndex, 1), isLearner);
    // Active from the start so check-quorum does not count it against the leader before it spoke.
    pr.recentActive = true;
    prs.set(id, pr);
  }

  private checkAndCopy(): ConfigAndProgress {
    const config = cloneConfig(this.tracker.config);
    const progress = new Map<NodeId, Progress>();
    for (const [id, pr] of this.tracker.progress) progress.set(id, pr.clone());
    checkInvariants(config, progress);
    return { config, progress };
  }
}

function remove(cfg: TrackerConfig, prs: Map<NodeId, Progress>, id: NodeId): void {
  if (!prs.has(id)) return;
  cfg.voters.incoming.delete(id);
  cfg.learners.delete(id);
  cfg.learnersNext.delete(id);
  // Still a voter in the outgoing config: keep its progress.
  if (!cfg.voters.outgoing.has(id)) prs.delete(id);
}

function checkAndReturn(config: TrackerConfig, progress: Map<NodeId, Progress>): ConfigAndProgress {
  checkInvariants(config, progress);
  return { config, progress };
}

/** Throws ErrInvalidArgument if the configuration and progress map are inconsistent. */
export function checkInvariants(cfg: TrackerConfig, prs: ReadonlyMap<NodeId, Progress>): void {
  for (const set of [cfg.voters.incoming, cfg.voters.outgoing, cfg.learners, cfg.learnersNext]) {
    for (const id of set) if (!prs.has(id)) throw invalid(`no progress for ${id}`);
  }
  for (const id of cfg.learnersNext) {
    if (!cfg.voters.outgoing.has(id)) throw invalid(`${id} is in learnersNext but not an outgoing voter`);
    if (prs.get(id)!.isLearner) throw invalid(`${id} is in learnersNext but already a learner`);
  }
  for (const id of cfg.learners) {
    if (cfg.voters.outgoing.has(id)) throw invalid(`${id} is a learner and an outgoing voter`);
    if (cfg.voters.incoming.has(id)) throw invalid(`${id} is a learner and an incoming voter`);
    if (!prs.get(id)!.isLearner) throw invalid(`${id} is in learners but not marked learner`);
  }
  if (!isJoint(cfg)) {
    if (cfg.learnersNext.size > 0) throw invalid('learnersNext set outside a joint config');
    if (cfg.autoLeave) throw invalid('autoLeave set outside a joint config');
  }
}

/**
 * Rebuild the configuration described by `cs` from an empty tracker, by
 * replaying it as changes: the outgoing voters one by one, then entering the
 * joint config with the incoming side (or, when not joint, the voters and
 * learners one by one).
 */
export function restoreConfig(
  tracker: Pick<ProgressTracker, 'newProgress'>,
  lastIndex: number,
  cs: ConfState,
): ConfigAndProgress {
  let cur: ConfigAndProgress = { config: emptyConfig(), progress: new Map() };
  const step = (f: (c: Changer) => ConfigAndProgress): void => {
    cur = f(new Changer({ config: cur.config, progress: cur.progress, newProgress: tracker.newProgress.bind(tracker) }, lastIndex));
  };
  const add = (type: ConfChangeType, nodeId: NodeId): ConfChangeSingle => ({ type, nodeId });
  if (cs.votersOutgoing.length === 0) {
    for (const id of cs.voters) step((c) => c.simple([add(ConfChangeType.AddNode, id)]));
    for (const id of cs.learners) step((c) => c.simple([add(ConfChangeType.AddLearnerNode, id)]));
  } else {
    for (const id of cs.votersOutgoing) step((c) => c.simple([add(ConfChangeType.AddNode, id)]));
    const incoming: ConfChangeSingle[] = [];
    for (const id of cs.votersOutgoing) incoming.push(add(ConfChangeType.RemoveNode, id));
    for (const id of cs.voters) incoming.push(add(ConfChangeType.AddNode, id));
    for (const id of cs.learners) incoming.push(add(ConfChangeType.AddLearnerNode, id));
    for (const id of cs.learnersNext) incoming.push(add(ConfChangeType.AddLearnerNode, id));
    step((c) => c.enterJoint(cs.autoLeave, incoming));
  }
  return cur;
}
