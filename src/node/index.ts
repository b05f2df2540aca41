/**
 * The node layer: {@link RaftNode} (the Ready-loop driver around the Raft
 * core) and the {@link StateMachine} contract it applies to.
 */
export { RaftNode } from './raft-node.ts';
export type { NodeObserver, NodeStatus, ProposeResult, RaftNodeEvents, RaftNodeOptions, ReconfigView, WaitOptions } from './options.ts';
export type { StateMachine } from './state-machine.ts';
export { TypedEmitter } from './events.ts';
export type { EventMap, Listener } from './events.ts';
export { ENVELOPE_HEADER, payloadOf, readId } from './envelope.ts';
export type { ProposalId } from './envelope.ts';
