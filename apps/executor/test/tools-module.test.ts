import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadToolsModule, planningToolsFor } from '../src';

const fixture = resolve(import.meta.dirname, 'fixtures/acme-tools.mjs');

describe('AGENTRY_TOOLS_MODULE', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentry-tools-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const moduleWith = async (name: string, source: string) => {
    const path = join(dir, name);
    await writeFile(path, source);
    return path;
  };

  it("loads the application's tools, and planning sees them beside the built-ins", async () => {
    const tools = await loadToolsModule(fixture);
    expect(tools.map((t) => t.name)).toEqual(['acme.note']);

    const planning = await planningToolsFor(fixture);
    expect([...planning.names]).toEqual(expect.arrayContaining(['acme.note', 'echo', 'wait']));
    expect(planning.profile('acme.note')).toMatchObject({ risk: 'medium', estimatedMs: 5 });
    const shown = planning.catalog.find((t) => t.name === 'acme.note');
    expect(shown?.description).toBe('Write a note in the ACME notebook.');
    expect(shown?.inputSchema).toMatchObject({ properties: { text: { type: 'string' } } });

    const builtinsOnly = await planningToolsFor(undefined);
    expect(builtinsOnly.names.has('acme.note')).toBe(false);
  });

  it('takes a default export as well', async () => {
    const path = await moduleWith(
      'default.mjs',
      `const schema = { safeParse: (v) => ({ success: true, data: v }) };
       export default [{ name: 'acme.ping', description: 'Ping.', input: schema, output: schema,
         risk: 'low', run: async () => ({}) }];`,
    );
    expect((await loadToolsModule(path)).map((t) => t.name)).toEqual(['acme.ping']);
  });

  it('stops the start with a message naming the module and each problem', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['no-array.mjs', 'export const tools = { name: "x" };', /export `tools`.*as an array/],
      [
        'bad-tool.mjs',
        'export const tools = [{ name: "acme.half", description: "Half a tool.", risk: "extreme" }];',
        /tools\[0\] \(acme\.half\): `input` is not a zod schema; .*`risk` is not low, medium, high or critical; .*`run` is not a function/,
      ],
      ['not-object.mjs', 'export const tools = [42];', /tools\[0\]: not an object/],
      ['throws.mjs', 'throw new Error("no config here");', /cannot be loaded: no config here/],
    ];
    for (const [name, source, message] of cases) {
      const path = await moduleWith(name, source);
      await expect(loadToolsModule(path), name).rejects.toThrow(message);
      await expect(loadToolsModule(path), name).rejects.toThrow(`AGENTRY_TOOLS_MODULE ${path}`);
    }
    await expect(loadToolsModule(join(dir, 'missing.mjs'))).rejects.toThrow(/cannot be loaded/);
  });

  it('refuses a tool that takes a built-in name or has a malformed one', async () => {
    const tool = (name: string) =>
      `const schema = { safeParse: (v) => ({ success: true, data: v }) };
       export const tools = [{ name: '${name}', description: 'A tool.', input: schema,
         output: schema, risk: 'low', run: async () => ({}) }];`;
    await expect(loadToolsModule(await moduleWith('echo.mjs', tool('echo')))).rejects.toThrow(
      /duplicate tool name "echo"/,
    );
    await expect(loadToolsModule(await moduleWith('caps.mjs', tool('Acme Note')))).rejects.toThrow(
      /invalid tool name "Acme Note"/,
    );
  });
});
