import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileProvider } from './file-provider';
import { parseSecretRef } from './secret-ref';

const canary = 'canary-0000-not-a-secret';
const ref = (path: string, key?: string) =>
  parseSecretRef(`file://${path}${key === undefined ? '' : `#${key}`}`);

describe('fileProvider', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentry-secrets-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the file with its trailing newline removed', async () => {
    await writeFile(join(dir, 'token'), `${canary}\n`);
    const provider = fileProvider();
    expect(provider.scheme).toBe('file');
    await expect(provider.get(ref(join(dir, 'token')))).resolves.toEqual({ value: canary });
  });

  it('selects #key from a JSON file', async () => {
    await writeFile(join(dir, 'db.json'), `${JSON.stringify({ password: canary, port: 5432 })}\n`);
    const provider = fileProvider();
    await expect(provider.get(ref(join(dir, 'db.json'), 'password'))).resolves.toEqual({
      value: canary,
    });
    await expect(provider.get(ref(join(dir, 'db.json'), 'user'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('reads the file afresh at each get (the kubelet updates it in place)', async () => {
    const path = join(dir, 'token');
    await writeFile(path, canary);
    const provider = fileProvider();
    await expect(provider.get(ref(path))).resolves.toEqual({ value: canary });
    await writeFile(path, 'canary-1111-not-a-secret\r\n');
    await expect(provider.get(ref(path))).resolves.toEqual({ value: 'canary-1111-not-a-secret' });
  });

  it('rejects a missing file with NOT_FOUND and a directory with VALIDATION', async () => {
    const provider = fileProvider();
    await expect(provider.get(ref(join(dir, 'nope')))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(join(dir, 'nope')),
    });
    await expect(provider.get(ref(dir))).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it.skipIf(process.getuid?.() === 0)('rejects an unreadable file with POLICY_DENIED', async () => {
    const path = join(dir, 'locked');
    await writeFile(path, canary);
    await chmod(path, 0o000);
    await expect(fileProvider().get(ref(path))).rejects.toMatchObject({ code: 'POLICY_DENIED' });
  });

  it('rejects at once when the signal is aborted', async () => {
    await writeFile(join(dir, 'token'), canary);
    const controller = new AbortController();
    controller.abort();
    await expect(
      fileProvider().get(ref(join(dir, 'token')), controller.signal),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  describe('with a root', () => {
    it('reads inside it, through the kubelet layout of ..data symbolic links', async () => {
      const secrets = join(dir, 'secrets');
      await mkdir(join(secrets, '..2024_01_01_00_00_00.000000001'), { recursive: true });
      await writeFile(join(secrets, '..2024_01_01_00_00_00.000000001', 'token'), canary);
      await symlink('..2024_01_01_00_00_00.000000001', join(secrets, '..data'));
      await symlink(join('..data', 'token'), join(secrets, 'token'));
      const provider = fileProvider({ root: secrets });
      await expect(provider.get(ref(join(secrets, 'token')))).resolves.toEqual({ value: canary });
      await expect(provider.get(ref(join(secrets, '..data', 'token')))).resolves.toEqual({
        value: canary,
      });
    });

    it('refuses a path that escapes it with .. before touching the file', async () => {
      await mkdir(join(dir, 'secrets'));
      await writeFile(join(dir, 'outside'), canary);
      const provider = fileProvider({ root: join(dir, 'secrets') });
      const escape = `${join(dir, 'secrets')}/../outside`;
      await expect(provider.get(ref(escape))).rejects.toMatchObject({ code: 'POLICY_DENIED' });
      await expect(provider.get(ref('/etc/hostname'))).rejects.toMatchObject({
        code: 'POLICY_DENIED',
      });
    });

    it('refuses a symbolic link inside it that points outside', async () => {
      await mkdir(join(dir, 'secrets'));
      await writeFile(join(dir, 'outside'), canary);
      await symlink(join(dir, 'outside'), join(dir, 'secrets', 'link'));
      const provider = fileProvider({ root: join(dir, 'secrets') });
      const error = await provider.get(ref(join(dir, 'secrets', 'link'))).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'POLICY_DENIED' });
      expect(JSON.stringify(error)).not.toContain(canary);
    });
  });
});
