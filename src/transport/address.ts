/**
 * Peer addresses as `host:port` strings (`[v6addr]:port` for IPv6), the form
 * etcd's peer URLs take without the scheme.
 */
import { strataError } from '../errors.ts';

/** A parsed address. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parse `host:port` / `[v6]:port`; throws `ErrInvalidArgument` when malformed. */
export function parseAddress(address: string): HostPort {
  const i = address.lastIndexOf(':');
  if (i <= 0) throw strataError('ErrInvalidArgument', `peer address must be host:port, got ${JSON.stringify(address)}`);
  let host = address.slice(0, i);
  const portText = address.slice(i + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || !Number.isInteger(port) || port < 1 || port > 65535 || host.length === 0) {
    throw strataError('ErrInvalidArgument', `peer address must be host:port, got ${JSON.stringify(address)}`);
  }
  return { host, port };
}

/** Format a host and port as an address (bracketing IPv6 hosts). */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
