import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApi } from './support/test-api';

interface ErrorAnswer {
  error: {
    code: string;
    message: string;
    details?: { issues?: Array<{ path: unknown[]; message: string }>; deadLetterId?: string };
  };
}

/** What a producer sees when it sends a bad submission: 400 with the issues, the body kept. */
describe('POST /v1/runs with bad input', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api?.close();
  });

  const cases: Array<{ name: string; body: string; contentType?: string; kept: unknown }> = [
    {
      name: 'wrong types',
      body: JSON.stringify({ text: 42, tenantId: 'acme', dryRun: 'yes' }),
      kept: { text: 42, tenantId: 'acme', dryRun: 'yes' },
    },
    {
      name: 'an unknown field',
      body: JSON.stringify({ text: 'echo 1 step', tenantId: 'acme', priority: 'high' }),
      kept: { text: 'echo 1 step', tenantId: 'acme', priority: 'high' },
    },
    {
      name: 'empty text',
      body: JSON.stringify({ text: '   ', tenantId: 'acme' }),
      kept: { text: '   ', tenantId: 'acme' },
    },
    {
      name: 'a bad tenant',
      body: JSON.stringify({ text: 'echo 1 step', tenantId: 'Acme Corp!' }),
      kept: { text: 'echo 1 step', tenantId: 'Acme Corp!' },
    },
    // A body that is not a JSON object is kept wrapped as `{ raw }` (the dead letter's payload is an object).
    {
      name: 'a JSON array',
      body: '[{"text":"echo 1 step"}]',
      kept: { raw: [{ text: 'echo 1 step' }] },
    },
    {
      name: 'malformed JSON',
      body: '{"text": "unterminated',
      kept: { raw: '{"text": "unterminated' },
    },
    {
      name: 'a wrong content type',
      body: 'text=echo+1+step&tenantId=acme',
      contentType: 'application/x-www-form-urlencoded',
      kept: { raw: 'text=echo+1+step&tenantId=acme' },
    },
    {
      name: 'plain text',
      body: 'echo 1 step',
      contentType: 'text/plain',
      kept: { raw: 'echo 1 step' },
    },
  ];

  it.each(cases)(
    'answers $name with 400 and the issues, and keeps the body as a dead letter',
    async ({ body, contentType, kept }) => {
      const answer = await api.http<ErrorAnswer>('POST', '/v1/runs', body, {
        'content-type': contentType ?? 'application/json',
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION');
      expect(answer.body.error.message).toBeTruthy();
      expect(answer.body.error.details?.issues?.length).toBeGreaterThan(0);
      expect(answer.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
      expect(answer.text).not.toMatch(/"stack"/);

      const id = answer.body.error.details?.deadLetterId;
      expect(id).toBeDefined();
      const letter = await api.http<{
        sourceQueue: string;
        payload: unknown;
        errorCode: string;
        error: { code: string; details?: { issues?: unknown[] } };
      }>('GET', `/v1/dead-letters/${id}`);
      expect(letter.status).toBe(200);
      expect(letter.body).toMatchObject({ sourceQueue: 'api', errorCode: 'VALIDATION' });
      expect(letter.body.error.details?.issues).toEqual(answer.body.error.details?.issues);
      expect(letter.body.payload).toEqual(kept);
    },
  );

  it('names each bad field in the issues', async () => {
    const answer = await api.http<ErrorAnswer>('POST', '/v1/runs', {
      text: '',
      tenantId: 'Not A Slug',
      extra: 1,
    });
    const issues = answer.body.error.details?.issues ?? [];
    expect(issues.map((i) => i.path.join('.') || i.message).join(' ')).toMatch(/text/);
    expect(issues.some((i) => i.path.join('.') === 'tenantId')).toBe(true);
    expect(JSON.stringify(issues)).toMatch(/extra/);
  });

  it('refuses a body above 64 KiB with a clear JSON 413, and enqueues nothing', async () => {
    const answer = await api.http<ErrorAnswer>('POST', '/v1/runs', {
      text: 'x'.repeat(70_000),
      tenantId: 'acme',
    });
    expect(answer.status).toBe(413);
    expect(answer.headers.get('content-type')).toMatch(/application\/json/);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION' });
    expect(answer.body.error.message).toMatch(/larger than 65536 bytes/);
    expect(await api.rawQueue('agentry.plan').count()).toBe(0);
    // The refusal is kept (not the body): what was sent, how big, and when.
    const id = (answer.body.error.details as { deadLetterId?: string } | undefined)?.deadLetterId;
    expect(id).toEqual(expect.any(String));
    const letter = await api.http<{ payload: unknown; reason: string }>(
      'GET',
      `/v1/dead-letters/${String(id)}`,
    );
    expect(letter.body.reason).toMatch(/larger than 65536 bytes/);
    expect(letter.body.payload).toMatchObject({
      refused: 'body too large',
      contentType: 'application/json',
    });
    expect((letter.body.payload as { contentLength: number }).contentLength).toBeGreaterThan(
      65_536,
    );
  });

  it('answers unknown routes with a JSON 404', async () => {
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['POST', '/v2/runs'],
      ['DELETE', '/v1/runs'],
    ] as const) {
      const answer = await api.http<ErrorAnswer>(method, path);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('answers bad ids and queries with 400 and unknown ids with 404, never with a stack', async () => {
    const answers = await Promise.all([
      api.http<ErrorAnswer>('GET', '/v1/runs/not-a-uuid'),
      api.http<ErrorAnswer>('GET', '/v1/runs?state=bogus'),
      api.http<ErrorAnswer>('GET', '/v1/runs?limit=0'),
      api.http<ErrorAnswer>('GET', '/v1/dead-letters/42'),
      api.http<ErrorAnswer>('POST', '/v1/runs/not-a-uuid/approve', {}),
      api.http<ErrorAnswer>('GET', '/v1/runs/00000000-0000-4000-8000-000000000000'),
      api.http<ErrorAnswer>('GET', '/v1/dead-letters/00000000-0000-4000-8000-000000000000'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400, 404, 404]);
    for (const a of answers) {
      expect(a.body.error.message).toBeTruthy();
      expect(a.text).not.toMatch(/"stack"|\bat .*\.(ts|js):\d+/);
    }
  });
});
