// Data helpers shared by the storage tests (no node:test import, so child
// processes can use them): deterministic entries and snapshots, and a
// normaliser for comparing PersistedState values.
import type { PersistedState } from '../src/storage/storage.ts';
import type { ConfState, Entry, EntryType, HardState, Snapshot } from '../src/raft/types.ts';

const CONF: ConfState = { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

/** Entry helper: deterministic payload derived from index and term. */
export function ent(index: number, term: number, size = 8, type: EntryType = 0): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return { index, term, type, data };
}

/** Consecutive entries [lo, hi] in one term. */
export function ents(lo: number, hi: number, term: number, size = 8): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(ent(i, term, size));
  return out;
}

/** A snapshot at index/term with `size` bytes of patterned data. */
export function snap(index: number, term: number, size = 16): Snapshot {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 13 + index) & 0xff;
  return { metadata: { index, term, confState: CONF }, data };
}

interface Plain {
  hardState: HardState;
  snapshot: { index: number; term: number; confState: ConfState; data: string } | undefined;
  entries: { index: number; term: number; type: number; data: string }[];
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Normalise a PersistedState for deep comparison (Buffer vs Uint8Array, object shapes). */
export function plain(s: PersistedState): Plain {
  return {
    hardState: { term: s.hardState.term, vote: s.hardState.vote, commit: s.hardState.commit },
    snapshot: s.snapshot === undefined ? undefined : {
      index: s.snapshot.metadata.index,
      term: s.snapshot.metadata.term,
      confState: {
        voters: [...s.snapshot.metadata.confState.voters],
        learners: [...s.snapshot.metadata.confState.learners],
        votersOutgoing: [...s.snapshot.metadata.confState.votersOutgoing],
        learnersNext: [...s.snapshot.metadata.confState.learnersNext],
        autoLeave: s.snapshot.metadata.confState.autoLeave,
      },
      data: hex(s.snapshot.data),
    },
    entries: s.entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: hex(e.data) })),
  };
}
