/**
 * Debug loggers, one per subsystem. Enable with `DEBUG=strata:*` (or a single
 * namespace such as `DEBUG=strata:raft`). Nothing in `src/` logs any other way.
 */
import createDebug from 'debug';

export const log = {
  raft: createDebug('strata:raft'),
  node: createDebug('strata:node'),
  storage: createDebug('strata:storage'),
  transport: createDebug('strata:transport'),
  mvcc: createDebug('strata:mvcc'),
  lease: createDebug('strata:lease'),
  sim: createDebug('strata:sim'),
  server: createDebug('strata:server'),
  check: createDebug('strata:check'),
};
