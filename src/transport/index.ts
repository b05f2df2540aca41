/**
 * Transports: the {@link Transport} interface, the deterministic in-memory
 * network for tests and simulation, and the TCP/TLS transport for real
 * clusters.
 */
export type { Transport, MessageHandler } from './transport.ts';
export { MemoryNetwork, MemoryTransport } from './memory.ts';
export type { NetworkFaults, InFlight, NetworkStats, MemoryNetworkOptions } from './memory.ts';
