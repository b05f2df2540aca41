// Runs the Transport compliance suite (test/transport-compliance.ts) against
// both built-in implementations (ARCHITECTURE.md "The four public interfaces").
import { transportCompliance } from './transport-compliance.ts';
import { MemoryNetwork } from '../src/transport/memory.ts';
import { TcpTransport } from '../src/transport/tcp.ts';
import { SeededRandom } from '../src/util/rng.ts';
import { RealClock } from '../src/util/clock.ts';

transportCompliance('MemoryTransport (autoDeliver, serialize)', async (n) => {
  const net = new MemoryNetwork({ rng: new SeededRandom(7), clock: new RealClock(), autoDeliver: true, serialize: true, faults: { minDelay: 0, maxDelay: 2 } });
  const transports = Array.from({ length: n }, (_, i) => net.transport(i + 1));
  return {
    transports,
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
      net.close();
    },
  };
});

transportCompliance('TcpTransport', async (n) => {
  const transports = await Promise.all(
    Array.from({ length: n }, (_, i) => TcpTransport.listen({ id: i + 1, snapshotChunkBytes: 256 * 1024, backoffMinMs: 10 })),
  );
  for (const t of transports) for (const u of transports) if (t !== u) t.addPeer(u.id, u.address());
  return {
    transports,
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
    },
  };
});
