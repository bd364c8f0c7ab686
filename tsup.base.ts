import type { Options } from 'tsup';

const alwaysExternal = ['@electric-sql/pglite', 'kysely-pglite-dialect', 'pg-native'];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Apps bundle their workspace packages and third-party code into one file, so `dist/main.js`
 * runs from an image holding only it and the few packages left external: PGlite (it ships wasm
 * and data files, and is loaded only in embedded mode) and whatever `external` adds.
 */
export function appBuild(external: readonly string[] = []): Options {
  const keep = [...alwaysExternal, ...external];
  return {
    entry: ['src/main.ts'],
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    outDir: 'dist',
    clean: true,
    sourcemap: true,
    // tsup's noExternal wins over external, so bundle "everything but" with one pattern.
    noExternal: [new RegExp(`^(?!(${keep.map(escape).join('|')})(/|$))`)],
    external: keep,
    // Bundled CommonJS dependencies still call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __agentryRequire } from 'node:module'; const require = __agentryRequire(import.meta.url);",
    },
  };
}
