import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationStatus, schemaFingerprint } from '@agentry/db';
import { createTestDatabase, type TestDatabase } from '@agentry/db/testing';
import { cliShellCommand } from '../../apps/cli/test/support/cli-bundle';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'scripts/rollback-drill.sh');
const databaseUrl =
  process.env.AGENTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The real agentry CLI (its bundle), as the drill's --cli (quicker than `pnpm -s agentry`). */
let cli = '';

interface DrillLine {
  at: string;
  release: string | null;
  namespace: string | null;
  helmRevision: number | null;
  migration: string | null;
  migrationAfter: string | null;
  fingerprint: { before: string | null; after: string | null };
  steps: Array<{ name: string; ok: boolean; ms: number; detail: string }>;
  ok: boolean;
}

/** Fake `helm` and `kubectl` on PATH: a release at revision 3 whose state lives in files. */
const fakeHelm = String.raw`#!/usr/bin/env bash
set -euo pipefail
state="$FAKE_K8S"
echo "helm $*" >>"$state/calls"
annotate() { printf '%s' "$1" >"$state/annotation"; }
new_revision() {
  jq --arg d "$1" 'map(.status = "superseded") + [{revision: (length + 1), status: "deployed", chart: "agentry-0.1.0", description: $d}]' "$state/history" >"$state/h" && mv "$state/h" "$state/history"
}
case "$1" in
  history) cat "$state/history" ;;
  show) printf 'apiVersion: v2\nname: agentry\nversion: %s\n' "$(printenv FAKE_CHART_VERSION || echo 0.1.0)" ;;
  upgrade)
    for a in "$@"; do [[ $a == podAnnotations.agentry\\.dev/drill=* ]] && annotate "$(cut -d= -f2- <<<"$a")"; done
    new_revision 'Upgrade complete' ;;
  rollback)
    printenv FAKE_ROLLBACK_KEEPS >/dev/null || annotate ''
    new_revision "Rollback to $3" ;;
  *) echo "fake helm: $1?" >&2; exit 2 ;;
esac
`;
const fakeKubectl = String.raw`#!/usr/bin/env bash
set -euo pipefail
echo "kubectl $*" >>"$FAKE_K8S/calls"
a=$(cat "$FAKE_K8S/annotation")
printf 'agentry-planner=%s\nagentry-executor=%s\nagentry-api=%s\n' "$a" "$a" "$a"
`;

/** `scripts/rollback-drill.sh` against the real Postgres, in a schema of its own. */
describe('scripts/rollback-drill.sh', () => {
  let database: TestDatabase;
  let dir: string;
  let latest: string;

  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        'bash',
        [script, ...args],
        {
          cwd: root,
          timeout: 120_000,
          env: {
            PATH: process.env.PATH ?? '',
            DATABASE_URL: databaseUrl,
            AGENTRY_DB_SCHEMA: database.schema,
            AGENTRY_ENV: 'test',
            ...env,
          },
        },
        (error, _stdout, stderr) => {
          resolve({ code: error ? Number(error.code ?? -1) : 0, stderr });
        },
      );
    });
  const lines = async (log: string): Promise<DrillLine[]> =>
    (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DrillLine);

  beforeAll(async () => {
    cli = await cliShellCommand();
    database = await createTestDatabase({ prefix: 't_drill' });
    dir = await mkdtemp(join(tmpdir(), 'agentry-drill-'));
    latest = (await migrationStatus(database.db)).at(-1)?.name ?? '';
  });
  afterAll(async () => {
    await database?.close();
  });

  it('--skip-helm: down one migration and up again, same migration and fingerprint; logs ok', async () => {
    const log = join(dir, 'drills.jsonl');
    const before = await schemaFingerprint(database.db);
    const { code, stderr } = await run(['--skip-helm', '--cli', cli, '--log', log]);
    expect(stderr).toMatch(/rollback-drill: passed; logged to /);
    expect(code).toBe(0);
    const [line, ...more] = await lines(log);
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      release: null,
      namespace: null,
      helmRevision: null,
      migration: latest,
      migrationAfter: latest,
      fingerprint: { before, after: before },
      ok: true,
    });
    expect(line?.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(line?.steps.map((s) => [s.name, s.ok])).toEqual([
      ['record-database', true],
      ['migrate-down', true],
      ['migrate-up', true],
      ['verify-schema', true],
    ]);
    expect(line?.steps[1]?.detail).toBe(`rolled back ${latest}`);
    expect(line?.steps.every((s) => Number.isInteger(s.ms) && s.ms >= 0)).toBe(true);
    // The database really is where it was.
    expect(await schemaFingerprint(database.db)).toBe(before);
    expect((await migrationStatus(database.db)).at(-1)?.executedAt).not.toBeNull();
  }, 120_000);

  it('a failing step (migrate down refused) is logged with ok false; exit 1', async () => {
    const log = join(dir, 'failing.jsonl');
    const refuseDown =
      `f() { if [ "$1 $2" = "migrate down" ]; then echo "simulated: down refused" >&2; ` +
      `return 3; fi; ${cli} "$@"; }; f`;
    const { code, stderr } = await run(['--skip-helm', '--cli', refuseDown, '--log', log], {
      AGENTRY_DRILL_LOG: join(dir, 'not-this-one.jsonl'),
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/rollback-drill: FAILED; logged to /);
    const [line] = await lines(log);
    expect(line?.ok).toBe(false);
    expect(line?.steps.find((s) => s.name === 'migrate-down')).toMatchObject({
      ok: false,
      detail: 'exit 3: simulated: down refused',
    });
    // Nothing went down, so nothing needed to go up; the schema is intact.
    expect(line?.steps.find((s) => s.name === 'migrate-up')).toMatchObject({
      ok: true,
      detail: `already at ${latest}`,
    });
    expect(line?.fingerprint.after).toBe(line?.fingerprint.before);
  }, 120_000);

  it('AGENTRY_DRILL_LOG is the default log; bad arguments exit 64 without a line', async () => {
    const log = join(dir, 'env.jsonl');
    const missing = await run(['--namespace', 'staging'], { AGENTRY_DRILL_LOG: log });
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/--release is required \(or --skip-helm\)/);
    await expect(readFile(log, 'utf8')).rejects.toThrow(/ENOENT/);
    const broken = await run(['--skip-helm', '--cli', 'false'], { AGENTRY_DRILL_LOG: log });
    expect(broken.code).toBe(1);
    const [line] = await lines(log);
    expect(line).toMatchObject({ ok: false, migration: null });
    expect(line?.steps.map((s) => s.name)).toEqual(['record-database']);
  }, 120_000);

  describe('with helm and kubectl (fakes on PATH keeping the release state in files)', () => {
    const setUp = async (name: string) => {
      const k8s = await mkdtemp(join(dir, `${name}-`));
      await writeFile(join(k8s, 'helm'), fakeHelm);
      await writeFile(join(k8s, 'kubectl'), fakeKubectl);
      await chmod(join(k8s, 'helm'), 0o755);
      await chmod(join(k8s, 'kubectl'), 0o755);
      await writeFile(join(k8s, 'annotation'), '');
      const history = [1, 2, 3].map((revision) => ({
        revision,
        status: revision === 3 ? 'deployed' : 'superseded',
        chart: 'agentry-0.1.0',
      }));
      await writeFile(join(k8s, 'history'), JSON.stringify(history));
      return {
        log: join(k8s, 'drills.jsonl'),
        env: { FAKE_K8S: k8s, PATH: `${k8s}:${process.env.PATH ?? ''}` },
        calls: async () => (await readFile(join(k8s, 'calls'), 'utf8')).trim().split('\n'),
      };
    };
    const args = (log: string) => [
      '--release',
      'agentry',
      '--namespace',
      'staging',
      '--cli',
      cli,
      '--log',
      log,
    ];

    it('records the revision, applies the annotation, rolls back to it and sees it gone', async () => {
      const k8s = await setUp('ok');
      const { code, stderr } = await run(args(k8s.log), k8s.env);
      expect(stderr).toMatch(/passed/);
      expect(code).toBe(0);
      const [line] = await lines(k8s.log);
      expect(line).toMatchObject({
        release: 'agentry',
        namespace: 'staging',
        helmRevision: 3,
        migration: latest,
        ok: true,
      });
      expect(line?.steps.map((s) => s.name)).toEqual([
        'record-helm',
        'record-database',
        'apply-change',
        'helm-rollback',
        'verify-rollback',
        'migrate-down',
        'migrate-up',
        'verify-schema',
      ]);
      expect(line?.steps[0]?.detail).toBe('revision 3 (agentry-0.1.0)');
      expect(line?.steps[2]?.detail).toMatch(
        /^revision 4: agentry\.dev\/drill=\d{8}T\d{6}Z on 3 Deployments$/,
      );
      expect(line?.steps[3]?.detail).toBe('rolled back to revision 3; now revision 5');
      expect(line?.steps[4]?.detail).toBe('agentry.dev/drill gone from 3 Deployments');
      const calls = await k8s.calls();
      expect(calls).toContainEqual(
        expect.stringMatching(
          /^helm upgrade agentry helm\/agentry --namespace staging --reuse-values --set-string podAnnotations\.agentry\\\.dev\/drill=\d{8}T\d{6}Z --wait --timeout 10m$/,
        ),
      );
      expect(calls).toContain('helm rollback agentry 3 --namespace staging --wait --timeout 10m');
      expect(calls.filter((c) => c.startsWith('kubectl get deployments'))[0]).toContain(
        '-l app.kubernetes.io/instance=agentry',
      );
    }, 120_000);

    it('fails verify-rollback when the annotation survives the rollback', async () => {
      const k8s = await setUp('kept');
      const { code } = await run(args(k8s.log), { ...k8s.env, FAKE_ROLLBACK_KEEPS: '1' });
      expect(code).toBe(1);
      const [line] = await lines(k8s.log);
      expect(line?.ok).toBe(false);
      expect(line?.steps.find((s) => s.name === 'verify-rollback')).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^exit 1: the test change is still there: agentry-planner=/),
      });
      // The database part still ran.
      expect(line?.steps.find((s) => s.name === 'verify-schema')?.ok).toBe(true);
    }, 120_000);

    it('refuses to upgrade with another chart than the release runs, and still rolls back', async () => {
      const k8s = await setUp('chart');
      const { code } = await run(args(k8s.log), { ...k8s.env, FAKE_CHART_VERSION: '0.2.0' });
      expect(code).toBe(1);
      const [line] = await lines(k8s.log);
      expect(line?.steps.find((s) => s.name === 'apply-change')).toMatchObject({
        ok: false,
        detail:
          'exit 1: --chart helm/agentry is agentry-0.2.0 but the release runs agentry-0.1.0: pass the deployed chart',
      });
      expect(await k8s.calls()).not.toContainEqual(expect.stringMatching(/^helm upgrade/));
    }, 120_000);
  });
});
