/** A set of revisions (the records a compaction keeps). */
import type { Revision } from './revision.ts';

/** Set of (main, sub) pairs. */
export class RevSet {
  private readonly byMain = new Map<number, number | number[]>();

  add(r: Revision): void {
    const cur = this.byMain.get(r.main);
    if (cur === undefined) this.byMain.set(r.main, r.sub);
    else if (typeof cur === 'number') {
      if (cur !== r.sub) this.byMain.set(r.main, [cur, r.sub]);
    } else if (!cur.includes(r.sub)) cur.push(r.sub);
  }

  has(main: number, sub: number): boolean {
    const cur = this.byMain.get(main);
    if (cur === undefined) return false;
    return typeof cur === 'number' ? cur === sub : cur.includes(sub);
  }
}
