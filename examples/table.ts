// ASCII tables in the style of `etcdctl -w table`.

/** Render rows under a header, boxed like etcdctl's table writer. */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, align: ReadonlyArray<'l' | 'r' | 'c'> = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const pad = (s: string, w: number, a: 'l' | 'r' | 'c'): string => {
    if (a === 'r') return s.padStart(w);
    if (a === 'c') {
      const left = Math.floor((w - s.length) / 2);
      return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
    }
    return s.padEnd(w);
  };
  const fmt = (cells: readonly string[], head: boolean): string =>
    '| ' + cells.map((c, i) => pad(c, widths[i] ?? 0, head ? 'c' : (align[i] ?? 'l'))).join(' | ') + ' |';
  return [line, fmt(header, true), line, ...rows.map((r) => fmt(r, false)), line].join('\n');
}

/** Bytes as etcdctl prints them (e.g. "20 kB"). */
export function humanBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${Math.round(n / 1000)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}
