/**
 * The deterministic simulator (public API): {@link Simulation}, fault
 * profiles, workloads, invariants, shrinking and the determinism self-check.
 */
export { Simulation, MESSAGE_NAMES } from './simulation.ts';
export type { FaultsOption, Invariant, NodeView, RunOptions, SimResult, SimStats, SimView, SimulationOptions } from './options.ts';
export { ALL_FAULTS, NO_FAULTS, FAULT_FAMILIES, describeProfile, drawProfile, profileOf } from './profile.ts';
export type { FaultFamily, FaultProfile } from './profile.ts';
export { describeAction } from './faults.ts';
export type { FaultAction } from './faults.ts';
export { SafetyChecker, bytesEqual } from './invariants.ts';
export type { CheckedNode, Violation } from './invariants.ts';
export { proposeWorkload, workloadFromSpec } from './workload.ts';
export type { Workload, WorkloadContext, WorkloadOp } from './workload.ts';
export { DigestStateMachine } from './state-machine.ts';
export { shrinkRun } from './shrink.ts';
export type { ShrinkOptions, ShrunkRun } from './shrink.ts';
export { checkDeterminism } from './determinism.ts';
export type { DeterminismReport } from './determinism.ts';
export { Trace } from './trace.ts';
export type { TraceEvent, TraceFields, TraceOptions } from './trace.ts';
export { TraceHasher } from './hash.ts';
export { NodeClock } from './node-clock.ts';
export { NodeHost } from './host.ts';
