/**
 * Transports: the {@link Transport} interface, the deterministic in-memory
 * network for tests and simulation, and the TCP/TLS transport for real
 * clusters.
 */
export type { Transport, MessageHandler } from './transport.ts';
export { MemoryNetwork, MemoryTransport } from './memory.ts';
export type { NetworkFaults, InFlight, NetworkStats, MemoryNetworkOptions } from './memory.ts';
export { TcpTransport } from './tcp.ts';
export type { TcpTransportOptions } from './tcp.ts';
export type { TcpStats, TlsMaterial } from './tcp-peer.ts';
export { parseAddress, formatAddress } from './address.ts';
export type { HostPort } from './address.ts';
export { encodeFrame, FrameDecoder, FRAME_HEADER_BYTES } from './frame.ts';
export { loadTlsFiles } from './tls-files.ts';
export type { TlsFiles } from './tls-files.ts';
