/**
 * Load mutual-TLS material from PEM files, as etcd's
 * `--peer-trusted-ca-file`, `--peer-cert-file` and `--peer-key-file` do.
 */
import { readFile } from 'node:fs/promises';
import type { TlsMaterial } from './tcp-peer.ts';

/** Paths of the PEM files for {@link loadTlsFiles}. */
export interface TlsFiles {
  /** CA certificate(s) that peers' certificates must be signed by. */
  readonly trustedCaFile: string;
  /** This member's certificate. */
  readonly certFile: string;
  /** This member's private key. */
  readonly keyFile: string;
}

/** Read the three PEM files; rejects with the file system error when one is missing. */
export async function loadTlsFiles(files: TlsFiles): Promise<TlsMaterial> {
  const [ca, cert, key] = await Promise.all([
    readFile(files.trustedCaFile, 'utf8'),
    readFile(files.certFile, 'utf8'),
    readFile(files.keyFile, 'utf8'),
  ]);
  return { ca, cert, key };
}
