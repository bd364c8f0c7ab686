import { readFile } from 'node:fs/promises';

/**
 * `tsx scripts/soak/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot>`: what the live heap
 * of a process is made of at two instants (snapshots from `pnpm soak --heap-snapshots`, written
 * after a full GC), and which kinds of object grew — the leak, if there is one. Objects are
 * grouped by constructor (strings, arrays, code and the like by their V8 node type).
 */
interface Tally {
  count: number;
  bytes: number;
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

async function summarize(path: string): Promise<{ total: number; groups: Map<string, Tally> }> {
  const snap = JSON.parse(await readFile(path, 'utf8')) as HeapSnapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const groups = new Map<string, Tally>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] ?? 0] ?? '?';
    const size = snap.nodes[i + sizeAt] ?? 0;
    const key =
      type === 'object' || type === 'closure'
        ? `${type}: ${snap.strings[snap.nodes[i + nameAt] ?? 0] ?? '?'}`
        : `(${type})`;
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    g.count += 1;
    g.bytes += size;
    groups.set(key, g);
    total += size;
  }
  return { total, groups };
}

const [beforePath, afterPath] = process.argv.slice(2);
if (beforePath === undefined || afterPath === undefined) {
  console.error('usage: tsx scripts/soak/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot>');
  process.exit(2);
}
const before = await summarize(beforePath);
const after = await summarize(afterPath);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MB`;
console.log(
  `live heap: ${mb(before.total)} → ${mb(after.total)} (${(((after.total - before.total) / before.total) * 100).toFixed(1)} %)`,
);
const rows = [...new Set([...before.groups.keys(), ...after.groups.keys()])].map((key) => {
  const b = before.groups.get(key) ?? { count: 0, bytes: 0 };
  const a = after.groups.get(key) ?? { count: 0, bytes: 0 };
  return { key, count: a.count - b.count, bytes: a.bytes - b.bytes, after: a };
});
rows.sort((x, y) => y.bytes - x.bytes);
console.log('grew most (bytes, objects):');
for (const r of rows.slice(0, 15))
  console.log(
    `  ${r.key.padEnd(48)} ${mb(r.bytes).padStart(10)} ${String(r.count).padStart(8)}  (now ${mb(r.after.bytes)} in ${r.after.count})`,
  );
