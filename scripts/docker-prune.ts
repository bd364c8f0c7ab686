// Lays out what an app's image holds (the Dockerfile's build stage runs it; tests/deploy runs it
// too, so the contents it tests are the ones the image gets):
//
//   node --import tsx scripts/docker-prune.ts <app-dir> <out-dir> [--dist <dir>]
//
// <out-dir>/dist          the app's bundle, without source maps (they embed the source)
// <out-dir>/node_modules  only the packages the bundle leaves external (the app's tsup.config.ts)
//                         and their dependencies, copied out of the workspace install as a plain
//                         tree; absent when nothing is external
//
// The embedded database (PGlite) is left out on purpose: images always run with DATABASE_URL.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** External in every bundle (tsup.base.ts), needed only without DATABASE_URL or never. */
const notInImages = new Set(['@electric-sql/pglite', 'kysely-pglite-dialect', 'pg-native']);

/** Peers for type checking only (valibot's typescript): never loaded at run time. */
const typesOnly = (name: string) => name === 'typescript' || name.startsWith('@types/');

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** A package copied into the tree: where it came from, and the node_modules dirs it sees. */
interface Placed {
  real: string;
  /** Nearest first, as Node searches them from inside the package. */
  lookup: string[];
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Where Node finds package `name` from inside `fromDir` (its real path), or undefined. */
function findPackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The string entries of the `external` option of `<appDir>/tsup.config.ts`. */
async function externalsOf(appDir: string): Promise<string[]> {
  const loaded = (await import(pathToFileURL(join(appDir, 'tsup.config.ts')).href)) as {
    default: unknown;
  };
  const configs = Array.isArray(loaded.default) ? loaded.default : [loaded.default];
  return configs.flatMap((c: { external?: unknown[] }) =>
    (c.external ?? []).filter((e): e is string => typeof e === 'string'),
  );
}

function copyDist(from: string, to: string): void {
  if (!existsSync(join(from, 'main.js')))
    throw new Error(`${from}/main.js is missing: build first`);
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from)) {
    if (!file.endsWith('.map')) cpSync(join(from, file), join(to, file), { recursive: true });
  }
}

/**
 * Copy `roots` and everything they depend on into `<outDir>/node_modules` as a plain tree:
 * each package as high as it can go, nested under its dependent only when another version of it
 * is already visible from there. Returns `name@version` of every package copied.
 */
function copyClosure(roots: Map<string, string>, outDir: string): string[] {
  const top = join(outDir, 'node_modules');
  const at = new Map<string, string>(); // tree path → real path of the package there
  const queue: Placed[] = [];
  const copied: string[] = [];

  const place = (name: string, real: string, dir: string, lookup: string[]) => {
    const target = join(dir, name);
    at.set(target, real);
    cpSync(real, target, {
      recursive: true,
      dereference: true,
      // A hoisted install may nest dependencies inside; the tree gets its own.
      filter: (src) => relative(real, src).split(sep)[0] !== 'node_modules',
    });
    const manifest = readManifest(real);
    copied.push(`${manifest.name}@${manifest.version}`);
    queue.push({ real, lookup: [join(target, 'node_modules'), ...lookup] });
  };

  for (const [name, real] of roots) place(name, real, top, [top]);
  for (let next = queue.shift(); next; next = queue.shift()) {
    const { real, lookup } = next;
    const manifest = readManifest(real);
    // Optional peers are followed when the workspace installed them (bull-board's bullmq, bullmq's
    // ioredis): the external code may load them.
    const optional = new Set([
      ...Object.keys(manifest.optionalDependencies ?? {}), // e.g. binaries of other platforms
      ...Object.entries(manifest.peerDependenciesMeta ?? {})
        .filter(([name, meta]) => meta.optional === true && !typesOnly(name))
        .map(([name]) => name),
    ]);
    const wanted = [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}).filter((p) => !typesOnly(p)),
      ...optional,
    ];
    for (const dep of new Set(wanted)) {
      const depReal = findPackage(dep, real);
      if (depReal === undefined) {
        if (optional.has(dep)) continue;
        throw new Error(`${manifest.name} depends on ${dep}, which is not installed`);
      }
      const seen = lookup.find((dir) => at.has(join(dir, dep)));
      if (seen !== undefined && at.get(join(seen, dep)) === depReal) continue;
      // Nothing of that name visible yet: hoist it. Another version visible: nest it here.
      const dir = seen === undefined ? top : (lookup[0] as string);
      place(dep, depReal, dir, lookup.slice(lookup.indexOf(dir)));
    }
  }
  return copied.sort();
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { dist: { type: 'string' } },
    allowPositionals: true,
  });
  const [appArg, outArg] = positionals;
  if (appArg === undefined || outArg === undefined || positionals.length > 2) {
    throw new Error('usage: docker-prune.ts <app-dir> <out-dir> [--dist <dir>]');
  }
  const appDir = resolve(appArg);
  const outDir = resolve(outArg);
  rmSync(outDir, { recursive: true, force: true });
  copyDist(resolve(values.dist ?? join(appDir, 'dist')), join(outDir, 'dist'));

  const roots = new Map<string, string>();
  for (const name of await externalsOf(appDir)) {
    if (notInImages.has(name)) continue;
    const real = findPackage(name, appDir);
    if (real === undefined) throw new Error(`${name} is external but not installed for ${appDir}`);
    roots.set(name, real);
  }
  const copied = copyClosure(roots, outDir);
  console.log(
    copied.length === 0
      ? `${outDir}: dist only (nothing external)`
      : `${outDir}: dist and ${copied.length} packages:\n  ${copied.join('\n  ')}`,
  );
}

await main(process.argv.slice(2));
