// Child process for test/storage-level.test.ts (issue #4 crash test): opens
// LevelStorage in argv[2], then appends forever with several saves in flight
// (group commit), every tenth save also installing a snapshot 20 entries
// behind the head, and prints "ack <lastIndex>" after each save resolves.
// The parent SIGKILLs it at a random moment and checks what survived.
import { LevelStorage } from '../src/storage/level.ts';
import type { SaveRequest } from '../src/storage/storage.ts';
import { ents, snap } from './storage-helpers.ts';

const dir = process.argv[2] as string;
const inFlight = Number(process.argv[3] ?? 8);
const s = await LevelStorage.open(dir);
const st = await s.load();
const first = (st.entries.at(-1)?.index ?? st.snapshot?.metadata.index ?? 0) + 1;
const term = st.hardState.term + 1;
let next = first;
let n = 0;
process.stdout.write(`start ${first - 1}\n`);
const worker = async (): Promise<void> => {
  for (;;) {
    const size = 1 + (n++ % 7);
    const lo = next;
    const last = lo + size - 1;
    next = last + 1;
    const req: { -readonly [K in keyof SaveRequest]: SaveRequest[K] } = {
      entries: ents(lo, last, term, 200),
      hardState: { term, vote: 1, commit: last },
    };
    // Snapshot only where this run wrote the entry, so its term is known.
    if (n % 10 === 0 && lo - 20 >= first) req.snapshot = snap(lo - 20, term, 3000);
    await s.save(req);
    process.stdout.write(`ack ${last}\n`);
  }
};
await Promise.all(Array.from({ length: inFlight }, worker));
