import type { Options } from 'tsup';

/** Apps bundle their workspace packages; third-party packages stay in node_modules. */
export const appBuild: Options = {
  entry: ['src/main.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
  clean: true,
  sourcemap: true,
  noExternal: [/^@agentry\//],
  skipNodeModulesBundle: true,
};
