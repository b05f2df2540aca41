// Child process for the LevelStorage crash tests (issue #4,
// test/storage-level.test.ts and test/storage-snapfile.test.ts): opens
// LevelStorage in argv[2], then appends forever with argv[3] saves in flight
// (group commit), every tenth save also installing a compaction snapshot of
// argv[4] bytes (default 3000) 20 entries behind the head, and, when argv[5]
// is "barrier", every 25th save installing a snapshot beyond the head (as a
// leader's snapshot would) with entries after it. Prints "snap <index>" when
// it issues a snapshot save and "ack <lastIndex>" after each save resolves.
// The parent SIGKILLs it at a random moment and checks what survived.
import { LevelStorage } from '../src/storage/level.ts';
import type { SaveRequest } from '../src/storage/storage.ts';
import { ents, snap } from './storage-helpers.ts';

const dir = process.argv[2] as string;
const inFlight = Number(process.argv[3] ?? 8);
const snapSize = Number(process.argv[4] ?? 3000);
const barriers = process.argv[5] === 'barrier';
const s = await LevelStorage.open(dir, { snapshotChunkSize: 64 * 1024 });
const st = await s.load();
const first = (st.entries.at(-1)?.index ?? st.snapshot?.metadata.index ?? 0) + 1;
const term = st.hardState.term + 1;
let next = first;
let n = 0;
process.stdout.write(`start ${first - 1}\n`);
const worker = async (): Promise<void> => {
  for (;;) {
    n++;
    const size = 1 + (n % 7);
    let lo = next;
    const req: { -readonly [K in keyof SaveRequest]: SaveRequest[K] } = {};
    if (barriers && n % 25 === 0) {
      // A snapshot beyond the head: drops the whole log; entries follow it.
      req.snapshot = snap(lo + 5, term, snapSize);
      lo += 6;
      process.stdout.write(`snap ${lo - 1}\n`);
    } else if (n % 10 === 0 && lo - 20 >= first) {
      // Snapshot only where this run wrote the entry, so its term is known.
      req.snapshot = snap(lo - 20, term, snapSize);
      process.stdout.write(`snap ${lo - 20}\n`);
    }
    const last = lo + size - 1;
    next = last + 1;
    req.entries = ents(lo, last, term, 200);
    req.hardState = { term, vote: 1, commit: last };
    if (req.snapshot !== undefined && n % 20 === 0) {
      // The snapshot on its own (a compaction snapshot then takes the
      // background path), the entries in a separate save issued right after.
      const rest = { entries: req.entries, hardState: req.hardState };
      delete req.entries;
      delete req.hardState;
      await Promise.all([s.save(req), s.save(rest)]);
    } else {
      await s.save(req);
    }
    process.stdout.write(`ack ${last}\n`);
  }
};
await Promise.all(Array.from({ length: inFlight }, worker));
