/**
 * The largest holders in a V8 heap snapshot (`.heapsnapshot`, as `--heapsnapshot-signal`
 * writes it): self size and count per constructor (objects) or node type (strings, arrays,
 * code...), largest first; given an earlier snapshot too, what grew between the two.
 *
 *   node bench/worker/heap-summary.ts <later.heapsnapshot> [<earlier.heapsnapshot>] [--top 25]
 *
 * Self sizes, not retained sizes: a growing count of one constructor names the leak, and its
 * retainer is then found by name in the code (or in Chrome DevTools' Memory tab).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Holder {
  readonly name: string;
  readonly count: number;
  readonly bytes: number;
}

/** Self size and count per holder name (`type` or `object:Constructor`). */
export function holders(snap: Snapshot): Map<string, { count: number; bytes: number }> {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!] ?? '?';
    const named = type === 'object' || type === 'closure' || type === 'native';
    const name = named ? `${type}:${snap.strings[snap.nodes[i + iName]!] ?? '?'}` : type;
    const h = out.get(name) ?? { count: 0, bytes: 0 };
    h.count++;
    h.bytes += snap.nodes[i + iSize]!;
    out.set(name, h);
  }
  return out;
}

/** Holder name of the node at offset `i` of `snap.nodes` (as {@link holders} names it). */
function holderName(snap: Snapshot, i: number): string {
  const fields = snap.snapshot.meta.node_fields;
  const type = snap.snapshot.meta.node_types[0][snap.nodes[i + fields.indexOf('type')]!] ?? '?';
  const named = type === 'object' || type === 'closure' || type === 'native';
  return named ? `${type}:${snap.strings[snap.nodes[i + fields.indexOf('name')]!] ?? '?'}` : type;
}

/**
 * What holds the nodes named `target`: per retainer (its holder name and the edge's name),
 * how many such references; and one level further up, what holds those retainers.
 */
export function retainers(snap: Snapshot, target: string): Map<string, number> {
  const nf = snap.snapshot.meta.node_fields;
  const ef = snap.snapshot.meta.edge_fields;
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const width = nf.length;
  const ew = ef.length;
  const iEdges = nf.indexOf('edge_count');
  const iEType = ef.indexOf('type');
  const iEName = ef.indexOf('name_or_index');
  const iETo = ef.indexOf('to_node');
  const out = new Map<string, number>();
  let e = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const count = snap.nodes[i + iEdges]!;
    for (let k = 0; k < count; k++, e += ew) {
      const to = snap.edges[e + iETo]!;
      if (holderName(snap, to) !== target) continue;
      const type = edgeTypes[snap.edges[e + iEType]!] ?? '?';
      const nameOrIndex = snap.edges[e + iEName]!;
      const edge = type === 'element' || type === 'hidden' ? `[${type}]` : (snap.strings[nameOrIndex] ?? '?');
      const key = `${holderName(snap, i)} --${edge}-->`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
  }
  return out;
}

function load(path: string): Snapshot {
  return JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, retainers: { type: 'string' } },
  });
  const top = Number(values.top);
  const [laterPath, earlierPath] = positionals;
  if (laterPath === undefined) throw new Error('usage: heap-summary.ts <later> [<earlier>] [--top N]');
  const laterSnap = load(laterPath);
  if (values.retainers !== undefined) {
    const rows = [...retainers(laterSnap, values.retainers)].sort((a, b) => b[1] - a[1]);
    console.log(`what holds ${values.retainers} in ${laterPath}:`);
    for (const [name, n] of rows.slice(0, top)) console.log(`${String(n).padStart(8)}  ${name}`);
    process.exit(0);
  }
  const later = holders(laterSnap);
  const earlier =
    earlierPath === undefined
      ? new Map<string, { count: number; bytes: number }>()
      : holders(load(earlierPath));
  const MiB = 1024 * 1024;
  const total = [...later.values()].reduce((s, h) => s + h.bytes, 0);
  console.log(
    `${laterPath}: ${(total / MiB).toFixed(1)} MiB in ${[...later.values()].reduce((s, h) => s + h.count, 0)} nodes`,
  );
  const rows = [...later].map(([name, h]) => {
    const e = earlier.get(name) ?? { count: 0, bytes: 0 };
    return { name, ...h, dBytes: h.bytes - e.bytes, dCount: h.count - e.count };
  });
  const print = (title: string, sorted: typeof rows) => {
    console.log(`\n${title}`);
    console.log(`     MiB      count     Δ MiB     Δ count  holder`);
    for (const r of sorted.slice(0, top))
      console.log(
        `${(r.bytes / MiB).toFixed(2).padStart(8)} ${String(r.count).padStart(10)} ${(r.dBytes / MiB).toFixed(2).padStart(9)} ${String(r.dCount).padStart(11)}  ${r.name.slice(0, 80)}`,
      );
  };
  print(
    'largest by self size',
    [...rows].sort((a, b) => b.bytes - a.bytes),
  );
  if (earlierPath !== undefined)
    print(
      `grew most since ${earlierPath}`,
      [...rows].sort((a, b) => b.dBytes - a.dBytes),
    );
}
