/**
 * `renderHistory`: a self-contained HTML page (inline CSS and SVG, no scripts
 * or external resources) showing a checked history, in the spirit of
 * Porcupine's visualisation. One section per partition, failing ones first:
 * a lane per client, each operation a bar from its call to its return on a
 * time axis that gives every event its own column. For a linearizable
 * partition each operation carries its linearization point and position; for
 * a failing one the longest linearizable prefix is numbered, the operation
 * that could not be fitted is red, the candidates that could have come next
 * are outlined, and a red line marks where no linearization exists.
 */
import { writeFileSync } from 'node:fs';
import type { CheckResult, Counterexample, Model, Operation, PartitionResult } from './types.ts';

/** Options of {@link renderHistory}. */
export interface RenderOptions {
  /** Page title. Default: "Linearizability check". */
  title?: string;
  /** If given, the page is also written to this file. */
  path?: string;
}

const COL = 14; // px per event column
const LANE = 26; // px per client lane
const LEFT = 70; // px for lane labels
const TOP = 24; // px for the axis

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

function describer<S, I, O>(model: Model<S, I, O>): (op: Operation<I, O>) => string {
  return (op) =>
    model.describe !== undefined
      ? model.describe(op.input, op.output)
      : `${show(op.input)} → ${op.output === undefined ? '?' : show(op.output)}`;
}

function stateText<S, I, O>(model: Model<S, I, O>, s: S): string {
  return model.describeState !== undefined ? model.describeState(s) : show(s);
}

/** Where each operation's bar starts and ends (event columns) and its linearization point. */
interface Layout {
  start: Map<number, number>;
  end: Map<number, number>;
  columns: number;
  pending: Set<number>;
}

function layout<I, O>(history: readonly Operation<I, O>[], ops: readonly number[]): Layout {
  // Events sorted as the checker sorts them: by time, calls before returns.
  const events: [number, number, number][] = []; // time, kind (0 call, 1 return), op
  for (const i of ops) {
    const op = history[i] as Operation<I, O>;
    events.push([op.call, 0, i]);
    if (op.return !== Infinity) events.push([op.return, 1, i]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const start = new Map<number, number>();
  const end = new Map<number, number>();
  events.forEach(([, kind, i], col) => (kind === 0 ? start : end).set(i, col));
  const pending = new Set(ops.filter((i) => (history[i] as Operation<I, O>).return === Infinity));
  const columns = events.length + 1;
  for (const i of pending) end.set(i, columns);
  return { start, end, columns, pending };
}

/** Points (in columns) at which the operations of `order` took effect, in order. */
function points(order: readonly number[], lay: Layout): Map<number, number> {
  const at = new Map<number, number>();
  let base = -1;
  let frac = 0;
  for (const i of order) {
    // Every earlier-linearized op was called before this one returned, so the
    // running maximum of call columns stays inside this op's bar.
    const c = lay.start.get(i) as number;
    if (c > base) {
      base = c;
      frac = 0.35;
    } else frac = Math.min(0.95, frac + 0.12);
    at.set(i, base + frac);
  }
  return at;
}

function renderPartition<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  index: number,
  part: PartitionResult,
  cx: Counterexample<S> | undefined,
): string {
  const describe = describer(model);
  const lay = layout(history, part.operations);
  const clients = [...new Set(part.operations.map((i) => (history[i] as Operation<I, O>).clientId))].sort((a, b) => a - b);
  const lane = new Map(clients.map((c, k) => [c, k]));
  const order = part.linearization;
  const position = new Map(order.map((op, k) => [op, k + 1]));
  const at = points(order, lay);
  const candidates = new Map((cx?.candidates ?? []).map((c) => [c.op, c.legal]));
  const width = LEFT + lay.columns * COL + 40;
  const height = TOP + clients.length * LANE + 30;

  // States after each step of the (partial) linearization, for tooltips.
  const after = new Map<number, string>();
  let state = model.init();
  for (const i of order) {
    const op = history[i] as Operation<I, O>;
    state = model.step(state, op.input, op.output)[1];
    after.set(i, stateText(model, state));
  }

  const svg: string[] = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`);
  clients.forEach((c, k) => {
    const y = TOP + k * LANE;
    svg.push(`<text class="lane" x="4" y="${y + 17}">client ${esc(String(c))}</text>`);
    svg.push(`<line class="grid" x1="${LEFT}" x2="${width - 10}" y1="${y + LANE}" y2="${y + LANE}"/>`);
  });
  for (const i of part.operations) {
    const op = history[i] as Operation<I, O>;
    const x1 = LEFT + (lay.start.get(i) as number) * COL;
    const x2 = LEFT + (lay.end.get(i) as number) * COL + COL * 0.8;
    const y = TOP + (lane.get(op.clientId) as number) * LANE + 3;
    const text = describe(op);
    const pos = position.get(i);
    let cls = pos !== undefined ? 'op lin' : 'op';
    if (cx !== undefined && cx.stuck === i) cls += ' stuck';
    else if (candidates.has(i)) cls += candidates.get(i) === true ? ' cand' : ' bad';
    if (lay.pending.has(i)) cls += ' pending';
    const tip = [
      `#${i} client ${op.clientId}: ${text}`,
      `call ${op.call}, return ${op.return === Infinity ? 'pending' : op.return}`,
      pos !== undefined ? `linearized ${pos} of ${order.length}; state after: ${after.get(i) ?? ''}` : 'not linearized',
    ].join('\n');
    svg.push(`<g class="${cls}" data-op="${i}"><title>${esc(tip)}</title>`);
    svg.push(`<rect x="${x1}" y="${y}" width="${Math.max(4, x2 - x1)}" height="${LANE - 6}" rx="3"/>`);
    const label = pos !== undefined ? `${pos}. ${text}` : text;
    const room = Math.max(1, Math.floor((x2 - x1 - 6) / 6.2));
    svg.push(`<text x="${x1 + 3}" y="${y + 14}">${esc(label.length > room ? label.slice(0, room - 1) + '…' : label)}</text>`);
    const p = at.get(i);
    if (p !== undefined) {
      const px = LEFT + p * COL;
      svg.push(`<line class="point" x1="${px}" x2="${px}" y1="${y - 2}" y2="${y + LANE - 4}"/>`);
    }
    svg.push('</g>');
  }
  if (cx !== undefined) {
    const x = LEFT + ((lay.end.get(cx.stuck) as number) + 0.9) * COL;
    svg.push(`<line class="fail" x1="${x}" x2="${x}" y1="${TOP - 14}" y2="${height - 20}"/>`);
    svg.push(`<text class="failtext" x="${x + 4}" y="${TOP - 6}">no linearization gets past here</text>`);
  }
  svg.push('</svg>');

  const rows = part.operations.map((i) => {
    const op = history[i] as Operation<I, O>;
    const pos = position.get(i);
    const mark =
      cx?.stuck === i ? 'stuck' : candidates.has(i) ? (candidates.get(i) === true ? 'candidate (legal)' : 'candidate (illegal)') : '';
    return `<tr data-op="${i}"><td>${i}</td><td>${esc(String(op.clientId))}</td><td>${esc(String(op.call))}</td><td>${
      op.return === Infinity ? 'pending' : esc(String(op.return))
    }</td><td>${esc(describe(op))}</td><td>${pos ?? ''}</td><td>${esc(pos !== undefined ? (after.get(i) ?? '') : '')}</td><td>${mark}</td></tr>`;
  });

  const verdict = part.result === 'linearizable' ? 'linearizable' : part.result === 'not-linearizable' ? 'NOT linearizable' : 'unknown';
  const note =
    cx !== undefined
      ? `<p>Longest linearizable prefix: ${cx.prefix.length} of ${part.operations.length} operations; state after it: <code>${esc(
          stateText(model, cx.state),
        )}</code>. Operation #${cx.stuck} (<code>${esc(describe(history[cx.stuck] as Operation<I, O>))}</code>) must take effect before it returns, and no order of the ${
          cx.candidates.length
        } candidate(s) allows it.</p>`
      : part.result === 'linearizable'
        ? `<p>Numbers give the linearization order; the tick in each bar is a point where the operation can take effect.</p>`
        : `<p>The search stopped before deciding this partition; numbered operations form the longest linearizable prefix found.</p>`;
  return `<section class="${part.result}"><h2>Partition ${index}: ${verdict} (${part.operations.length} operations, ${clients.length} clients)</h2>${note}<div class="scroll">${svg.join(
    '',
  )}</div><details><summary>Operations</summary><table><tr><th>#</th><th>client</th><th>call</th><th>return</th><th>operation</th><th>order</th><th>state after</th><th></th></tr>${rows.join(
    '',
  )}</table></details></section>`;
}

const CSS = `body{font:13px system-ui,sans-serif;margin:16px;color:#222}h1{font-size:18px}h2{font-size:15px;margin:18px 0 4px}
.scroll{overflow-x:auto;border:1px solid #ddd}svg text{font:11px ui-monospace,monospace}.lane{fill:#555}.grid{stroke:#eee}
.op rect{fill:#e4e4e4;stroke:#aaa}.op.lin rect{fill:#cdebd3;stroke:#4a9a5b}.op.pending rect{stroke-dasharray:4 3;fill-opacity:.6}
.op.stuck rect{fill:#f6c6c6;stroke:#c0392b;stroke-width:2}.op.cand rect{stroke:#e67e22;stroke-width:2}.op.bad rect{stroke:#c0392b;stroke-dasharray:2 2}
.op:hover rect{stroke:#000}.point{stroke:#1f5f2e;stroke-width:2}.fail{stroke:#c0392b;stroke-width:2}.failtext{fill:#c0392b}
section.not-linearizable h2{color:#c0392b}section.linearizable h2{color:#2e7d3e}table{border-collapse:collapse;margin-top:4px}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;font:12px ui-monospace,monospace}code{background:#f4f4f4}`;

/**
 * Render a checked history as a self-contained HTML page. Returns the HTML;
 * also writes it to `options.path` when given. `result` must come from
 * `checkLinearizability(model, history, …)` with the same model and history.
 */
export function renderHistory<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  result: CheckResult<S>,
  options: RenderOptions = {},
): string {
  const title = options.title ?? 'Linearizability check';
  const cxByPartition = new Map((result.counterexample ?? []).map((c) => [c.partition, c]));
  const rank = { 'not-linearizable': 0, unknown: 1, linearizable: 2 } as const;
  const order = result.partitions.map((_, i) => i).sort((a, b) => {
    const pa = result.partitions[a] as PartitionResult;
    const pb = result.partitions[b] as PartitionResult;
    return rank[pa.result] - rank[pb.result] || a - b;
  });
  const sections = order.map((i) => renderPartition(model, history, i, result.partitions[i] as PartitionResult, cxByPartition.get(i)));
  const verdict = result.result === 'linearizable' ? 'linearizable' : result.result === 'not-linearizable' ? 'NOT linearizable' : 'unknown';
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head><body><h1>${esc(
    title,
  )}: ${verdict}</h1><p>${history.length} operations in ${result.partitions.length} partition(s); ${result.steps} search steps. Bars run from call to return (dashed: pending, outcome unknown); green bars are linearized, in the numbered order.</p>${sections.join(
    '\n',
  )}</body></html>\n`;
  if (options.path !== undefined) writeFileSync(options.path, html);
  return html;
}
