import { describe, expect, it } from 'vitest';
import { createLogger, type CreateLoggerOptions } from './create-logger';
import { withContext } from './log-context';
import { newCorrelationId } from './new-correlation-id';
import { redactPaths } from './redact-paths';

function capture(options: Partial<CreateLoggerOptions> = {}) {
  const chunks: string[] = [];
  const log = createLogger({
    component: 'executor',
    pretty: false,
    destination: { write: (msg: string) => void chunks.push(msg) },
    ...options,
  });
  const lines = () =>
    chunks
      .join('')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, raw: () => chunks.join('') };
}

describe('createLogger', () => {
  it('writes one JSON line per call with component, ISO time and a level label', () => {
    const { log, lines } = capture({ base: { version: '1.2.3', component: 'ignored' } });
    log.info({ step: 3 }, 'hello');
    const [line] = lines();
    expect(line).toMatchObject({
      level: 'info',
      component: 'executor',
      version: '1.2.3',
      step: 3,
      msg: 'hello',
    });
    expect(new Date(line?.time as string).toISOString()).toBe(line?.time);
    expect(line?.pid).toBe(process.pid);
  });

  it("defaults to level 'info' and honours a given level", () => {
    const quiet = capture();
    quiet.log.debug('hidden');
    expect(quiet.lines()).toHaveLength(0);
    const verbose = capture({ level: 'debug' });
    verbose.log.debug('shown');
    expect(verbose.lines()).toHaveLength(1);
  });

  it('binds only the defined context fields', () => {
    const { log, lines } = capture();
    const child = withContext(log, {
      correlationId: 'c-1',
      runId: 'r-1',
      stepId: undefined,
      attempt: 2,
      queue: 'agentry.step',
    });
    child.info('step started');
    const [line] = lines();
    expect(line).toMatchObject({
      component: 'executor',
      correlationId: 'c-1',
      runId: 'r-1',
      attempt: 2,
      queue: 'agentry.step',
    });
    expect(line).not.toHaveProperty('stepId');
    expect(line).not.toHaveProperty('tenantId');
  });

  it.each([
    ['password', { password: 'S3CRET' }],
    ['*.password', { user: { password: 'S3CRET' } }],
    ['token', { token: 'S3CRET' }],
    ['*.token', { github: { token: 'S3CRET' } }],
    ['apiKey', { apiKey: 'S3CRET' }],
    ['*.apiKey', { provider: { apiKey: 'S3CRET' } }],
    ['secret', { secret: 'S3CRET' }],
    ['*.secret', { webhook: { secret: 'S3CRET' } }],
    ['authorization', { authorization: 'Bearer S3CRET' }],
    ['*.authorization', { req: { authorization: 'Bearer S3CRET' } }],
    ['headers.authorization', { headers: { authorization: 'Bearer S3CRET' } }],
    ['headers.cookie', { headers: { cookie: 'sid=S3CRET' } }],
    ['*.headers.authorization', { req: { headers: { authorization: 'Bearer S3CRET' } } }],
    // secretlint-disable-next-line -- a deliberately fake credential, to test redaction
    ['databaseUrl', { databaseUrl: 'postgres://u:S3CRET@db/x' }],
    // secretlint-disable-next-line -- a deliberately fake credential, to test redaction
    ['*.databaseUrl', { config: { databaseUrl: 'postgres://u:S3CRET@db/x' } }],
    ['redisUrl', { redisUrl: 'redis://:S3CRET@redis:6379' }],
  ])('redacts %s', (path, fields) => {
    expect(redactPaths).toContain(path);
    const { log, raw } = capture();
    log.info(fields, 'configured');
    expect(raw()).not.toContain('S3CRET');
    expect(raw()).toContain('[redacted]');
  });

  it('redacts fields bound on a child logger too', () => {
    const { log, raw } = capture();
    log.child({ token: 'S3CRET' }).info('hi');
    expect(raw()).not.toContain('S3CRET');
  });

  it('keeps non-secret siblings of a redacted field', () => {
    const { log, lines } = capture();
    log.info(
      { headers: { authorization: 'Bearer S3CRET', 'content-type': 'application/json' } },
      'req',
    );
    expect(lines()[0]?.headers).toEqual({
      authorization: '[redacted]',
      'content-type': 'application/json',
    });
  });

  it('passes every line through scrub: a known value leaves no trace in message, field or stack', () => {
    const canary = 'canary-4242-not-a-secret';
    const { log, raw } = capture({ scrub: (line) => line.split(canary).join('[secret]') });
    const error = new Error(`connect failed for user:${canary}@db`);
    log.error({ err: error, url: `postgres://u:${canary}@h/db` }, `login with ${canary} refused`);
    expect(raw()).not.toContain(canary);
    expect(raw()).toContain('[secret]');
  });

  it('writes human-readable lines synchronously when pretty', () => {
    const { log, raw } = capture({ pretty: true });
    log.info({ password: 'S3CRET' }, 'pretty hello');
    expect(raw()).toContain('pretty hello');
    expect(raw()).toContain('INFO');
    expect(raw()).not.toContain('S3CRET');
    expect(() => JSON.parse(raw())).toThrow();
  });
});

describe('newCorrelationId', () => {
  it('is unique and fits the job payload format', () => {
    const a = newCorrelationId();
    expect(a).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(newCorrelationId()).not.toBe(a);
  });
});
