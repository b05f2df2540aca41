/**
 * The replicated engine: {@link StrataNode} (one member of an etcd-like
 * cluster), {@link LocalCluster} (a whole cluster in one process) and the
 * KV simulation. See docs/server.md.
 */
export { StrataNode } from './strata-node.ts';
export type { AlarmsApi } from './strata-node.ts';
export { MembersApi, MAX_LEARNERS } from './members-api.ts';
export { strictReconfigCheck } from './reconfig.ts';
export type { StrataNodeOptions } from './options.ts';
export { DEFAULT_QUOTA_BYTES, STRATA_VERSION } from './options.ts';
export { LocalCluster } from './local-cluster.ts';
export type { LocalClusterOptions } from './local-cluster.ts';
export { LeaseApi } from './lease-api.ts';
export { KeepAlive } from './keep-alive.ts';
export { memberIdOf, clusterIdOf, parseInitialCluster, formatMemberId, DEFAULT_CLUSTER_TOKEN } from './members.ts';
export type { Member, MemberSpec, InitialCluster } from './members.ts';
export type { AlarmType, Alarm, Command } from './commands.ts';
export { StrataStateMachine } from './apply.ts';
export { ImmediateClock } from './immediate-clock.ts';
export { runKvSimulation } from './kv-simulation.ts';
export type { KvSimulationOptions, KvSimulationResult } from './kv-simulation.ts';
export type {
  ResponseHeader,
  CallOptions,
  GetOptions,
  TxnCallOptions,
  CompactCallOptions,
  PutResponse,
  GetResponse,
  DeleteResponse,
  TxnCallResponse,
  CompactResponse,
  HashKVResponse,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveResponse,
  LeaseListResponse,
  MemberStatus,
  AlarmMember,
} from './types.ts';
