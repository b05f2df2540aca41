// Child process of test/server-crash.test.ts (issue #4 process-kill crash
// test): runs a 3-member LocalCluster on LevelStorage (fsync) in argv[2] and
// writes unique keys from several concurrent clients through random members,
// printing "ack <key> <value>" once each write is acknowledged. The parent
// SIGKILLs this process at a random moment.
import { LocalCluster } from '../src/server/local-cluster.ts';
import { SeededRandom } from '../src/util/rng.ts';

const dir = process.argv[2] as string;
const seed = Number(process.argv[3] ?? 1);
const rng = new SeededRandom(seed);
const cluster = await LocalCluster.start({ size: 3, dataDir: dir, tickMs: 20, fsync: true });
process.stdout.write('ready\n');
let seq = 0;
const client = async (c: number): Promise<void> => {
  for (;;) {
    const nodes = cluster.nodes;
    const node = nodes[rng.int(nodes.length)];
    if (node === undefined) return;
    const i = seq++;
    const key = `/crash/${c}/${i}`;
    const value = `v${i}`;
    try {
      await node.put(key, value);
      process.stdout.write(`ack ${key} ${value}\n`);
    } catch {
      // Not acknowledged: may or may not be applied (R10.5); not checked.
    }
  }
};
await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(client));
