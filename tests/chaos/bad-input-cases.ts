import { expect } from 'vitest';
import { stableUuid } from '@agentry/schema';

/**
 * The inputs of the bad-input scenario, as data: what is sent and what a user must be told.
 * `tests/chaos/bad-input.chaos.test.ts` drives them against the real fleet.
 */

// ---------------------------------------------------------------------------------------------
// HTTP API: POST /v1/runs
// ---------------------------------------------------------------------------------------------

export type Body = { json: unknown } | { raw: string | Uint8Array; contentType?: string };

export interface RefusedSubmission {
  name: string;
  body: Body;
  status: 400 | 413;
  /** Issue paths (joined with '.', '' for the body itself) the answer must name. */
  paths?: string[];
  /** An issue code the answer must carry (e.g. `invalid_json`, `unrecognized_keys`). */
  issueCode?: string;
  /** An issue message the answer must carry. */
  issueMessage?: RegExp;
  message: RegExp;
  /** The payload of the kept dead letter (a 413 keeps the refusal, not the body). */
  kept?: unknown;
}

const text = 'deploy build 7 to staging';
const ok = { text, tenantId: 'acme' };
const json = (value: unknown): Body => ({ json: value });

/** Every submission the API must refuse with a 4xx and a machine-readable reason. */
export function refusedSubmissions(): RefusedSubmission[] {
  const unterminated = '{"text": "deploy build 7 to staging", "tenantId": "acme"';
  const protoPollution = '{"text":"x","tenantId":"acme","__proto__":{"isAdmin":true}}';
  const plainText = 'deploy build 7 to staging please';
  const tooMany = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
  const c = (name: string, body: Body, rest: Omit<RefusedSubmission, 'name' | 'body'>) => ({
    name,
    body,
    ...rest,
  });
  // KNOWN GAP: a body that is not valid UTF-8 (bytes 0xff 0xfe inside a string) is accepted with
  // the bytes replaced by U+FFFD, not refused.
  const intentInvalid = /^intent is invalid$/;
  const unstorable = /NUL character or an unpaired surrogate/;
  return [
    // Text Postgres cannot store (jsonb refuses NUL and unpaired surrogates): refused, and kept
    // with those characters replaced by U+FFFD.
    c('a lone surrogate in the text', json({ ...ok, text: 'deploy \ud800 7' }), {
      status: 400,
      paths: ['text'],
      message: intentInvalid,
      issueMessage: unstorable,
      kept: { ...ok, text: 'deploy \ufffd 7' },
    }),
    c('a lone low surrogate in a metadata value', json({ ...ok, metadata: { team: 'x\udc00' } }), {
      status: 400,
      paths: ['metadata.team'],
      message: intentInvalid,
      issueMessage: unstorable,
      kept: { ...ok, metadata: { team: 'x\ufffd' } },
    }),
    c('a NUL in a metadata key', json({ ...ok, metadata: { 'a\u0000b': 1 } }), {
      status: 400,
      paths: ['metadata.a\u0000b'],
      message: intentInvalid,
      kept: { ...ok, metadata: { 'a\ufffdb': 1 } },
    }),
    c('text over 8000 characters', json({ ...ok, text: 'x'.repeat(8_001) }), {
      status: 400,
      paths: ['text'],
      issueCode: 'too_big',
      message: intentInvalid,
      kept: { ...ok, text: 'x'.repeat(8_001) },
    }),
    c(
      'text over 8000 characters, counted in code points (8001 emoji)',
      json({
        ...ok,
        text: '😀'.repeat(8_001),
      }),
      {
        status: 400,
        paths: ['text'],
        issueCode: 'too_big',
        message: intentInvalid,
        kept: { ...ok, text: '😀'.repeat(8_001) },
      },
    ),
    c('body over 64 KiB', json({ ...ok, text: 'x'.repeat(70_000) }), {
      status: 413,
      message: /larger than 65536 bytes/,
    }),
    c(
      'malformed JSON',
      { raw: unterminated },
      {
        status: 400,
        paths: [''],
        issueCode: 'invalid_json',
        message: /not valid JSON/,
        kept: { raw: unterminated },
      },
    ),
    c(
      'prototype pollution (__proto__ key)',
      { raw: protoPollution },
      {
        status: 400,
        issueCode: 'invalid_json',
        message: /not valid JSON/,
        kept: { raw: protoPollution },
      },
    ),
    c('unknown fields', json({ ...ok, priority: 'urgent', callbackUrl: 'http://127.0.0.1/' }), {
      status: 400,
      paths: [''],
      issueCode: 'unrecognized_keys',
      message: intentInvalid,
      kept: { ...ok, priority: 'urgent', callbackUrl: 'http://127.0.0.1/' },
    }),
    c(
      'wrong types',
      json({
        text: 42,
        tenantId: 'acme',
        dryRun: 'yes',
        budgetUsd: '5',
        metadata: { team: { nested: true } },
      }),
      {
        status: 400,
        paths: ['text', 'dryRun', 'budgetUsd', 'metadata.team'],
        message: intentInvalid,
        kept: {
          text: 42,
          tenantId: 'acme',
          dryRun: 'yes',
          budgetUsd: '5',
          metadata: { team: { nested: true } },
        },
      },
    ),
    c('missing fields', json({}), {
      status: 400,
      paths: ['text', 'tenantId'],
      message: intentInvalid,
      kept: {},
    }),
    c('an array body', json([ok]), {
      status: 400,
      paths: [''],
      issueCode: 'invalid_type',
      message: intentInvalid,
      kept: { raw: [ok] },
    }),
    c(
      'a null body',
      { raw: 'null' },
      {
        status: 400,
        paths: [''],
        issueCode: 'invalid_type',
        message: intentInvalid,
        kept: { raw: null },
      },
    ),
    c(
      'text/plain instead of JSON',
      { raw: plainText, contentType: 'text/plain' },
      {
        status: 400,
        paths: [''],
        issueCode: 'invalid_type',
        message: intentInvalid,
        kept: { raw: plainText },
      },
    ),
    c(
      'whitespace-only text (ASCII, NBSP, ideographic space)',
      json({
        ...ok,
        text: ' \t\n\u00a0\u3000 ',
      }),
      {
        status: 400,
        paths: ['text'],
        message: intentInvalid,
        kept: { ...ok, text: ' \t\n\u00a0\u3000 ' },
      },
    ),
    c('tenant id with a Cyrillic homoglyph (\u0430cme)', json({ ...ok, tenantId: '\u0430cme' }), {
      status: 400,
      paths: ['tenantId'],
      message: intentInvalid,
      kept: { ...ok, tenantId: '\u0430cme' },
    }),
    c('tenant id in fullwidth letters', json({ ...ok, tenantId: '\uff41\uff43\uff4d\uff45' }), {
      status: 400,
      paths: ['tenantId'],
      message: intentInvalid,
      kept: { ...ok, tenantId: '\uff41\uff43\uff4d\uff45' },
    }),
    c('tenant id with an RTL override', json({ ...ok, tenantId: 'acme\u202egnp' }), {
      status: 400,
      paths: ['tenantId'],
      message: intentInvalid,
      kept: { ...ok, tenantId: 'acme\u202egnp' },
    }),
    c(
      'idempotency key with emoji and a zero-width space',
      json({
        ...ok,
        idempotencyKey: 'order-\u200b😀',
      }),
      {
        status: 400,
        paths: ['idempotencyKey'],
        message: intentInvalid,
        kept: { ...ok, idempotencyKey: 'order-\u200b😀' },
      },
    ),
    c('33 metadata entries', json({ ...ok, metadata: tooMany }), {
      status: 400,
      paths: ['metadata'],
      message: intentInvalid,
      kept: { ...ok, metadata: tooMany },
    }),
    c('negative budget', json({ ...ok, budgetUsd: -1 }), {
      status: 400,
      paths: ['budgetUsd'],
      message: intentInvalid,
      kept: { ...ok, budgetUsd: -1 },
    }),
  ];
}

export interface OddText {
  name: string;
  text: string;
  metadata?: Record<string, string>;
}

/** Valid if unusual Unicode: accepted, and stored exactly as sent. */
export function oddTexts(): OddText[] {
  return [
    { name: 'emoji: ZWJ family, flags, skin tones', text: 'ship it 👩‍👩‍👧‍👦 🇺🇦 🏳️‍🌈 👍🏽' },
    { name: 'RTL override inside the text', text: 'open invoice \u202eexe.fdp and summarise it' },
    { name: 'Arabic and Hebrew with an RTL mark', text: 'قل مرحبا \u200f שלום world' },
    { name: 'combining characters (Zalgo)', text: 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇ says hi' },
    { name: 'a 4000-code-point grapheme cluster', text: `e${'\u0301'.repeat(3_999)}` },
    { name: 'NFD, not normalised to NFC', text: 'cafe\u0301 vs café' },
    { name: 'zero-width joiner, non-joiner, BOM inside', text: 'a\u200db\u200cc\ufeffd' },
    { name: 'astral CJK and math letters', text: '𠜎𠜱𠝹 𝕳𝖊𝖑𝖑𝖔 𝟘𝟙' },
    { name: '8000 emoji: exactly the limit in code points', text: '😀'.repeat(8_000) },
    {
      name: 'emoji and RTL in metadata values',
      text: 'tag this run',
      metadata: { label: '🚀 launch \u202ecod', owner: 'Zoë' },
    },
  ];
}

/** NUL in the text: refused (jsonb cannot hold it). */
export const nulText = 'before\u0000after';

// ---------------------------------------------------------------------------------------------
// Raw BullMQ jobs, as a producer in another language adds them
// ---------------------------------------------------------------------------------------------

export interface RawJob {
  name: string;
  queue: 'agentry.plan' | 'agentry.step';
  jobName: string;
  jobId: string;
  data: unknown;
  /** The dead letter's reason must match. */
  reason: RegExp;
  /** The dead letter's error code. @default 'VALIDATION' */
  errorCode?: string;
  /** The dead letter's payload (a non-object is kept as `{ raw }`). */
  kept: unknown;
  /** Written over the job hash's `data` field after the add: text that is not JSON at all. */
  hashData?: string;
}

export function rawJobs(): RawJob[] {
  const runId = stableUuid('bad-input:no-such-run');
  const plan = (name: string, jobId: string, data: unknown, reason: RegExp, kept?: unknown) => ({
    name,
    queue: 'agentry.plan' as const,
    jobName: 'plan',
    jobId,
    data,
    reason,
    kept: kept ?? data,
  });
  const step = (name: string, jobId: string, data: unknown, reason: RegExp, kept?: unknown) => ({
    name,
    queue: 'agentry.step' as const,
    jobName: 'step',
    jobId,
    data,
    reason,
    kept: kept ?? data,
  });
  const notJson = (raw: string) => ({
    'agentry.unreadableJobData': { raw, truncated: false, error: expect.any(String) as string },
  });
  return [
    // A producer writing the job hash itself with data that is not JSON: BullMQ's own fetch
    // throws on it (it used to cycle active → stalled → wait for ever).
    {
      ...plan('plan: a hash whose data is not JSON', 'bi-plan-hash', {}, /^job data is not JSON/),
      hashData: '{"intent": {"text": "deploy',
      kept: notJson('{"intent": {"text": "deploy'),
    },
    {
      ...step('step: a hash whose data is not JSON', 'bi-step-hash', {}, /^job data is not JSON/),
      hashData: 'runId=1;stepId=a',
      kept: notJson('runId=1;stepId=a'),
    },
    // A poison payload jsonb would refuse must still be captured, or it is redelivered for ever.
    plan(
      'plan: a lone surrogate in the intent',
      'bi-plan-surrogate',
      { intent: { text: 'deploy \ud800 7', tenantId: 'acme' } },
      /NUL character or an unpaired surrogate/,
      { intent: { text: 'deploy \ufffd 7', tenantId: 'acme' } },
    ),
    step('step: data that is a lone surrogate', 'bi-step-surrogate', '\ud800', /expected object/, {
      raw: '\ufffd',
    }),
    plan(
      'plan: a string that is not JSON',
      'bi-plan-string',
      '{intent: deploy 7 <to> staging',
      /expected object, received string/,
      { raw: '{intent: deploy 7 <to> staging' },
    ),
    plan('plan: null', 'bi-plan-null', null, /expected object, received null/, { raw: null }),
    plan('plan: an array', 'bi-plan-array', [1, 2, 3], /expected object, received array/, {
      raw: [1, 2, 3],
    }),
    plan(
      'plan: unknown fields',
      'bi-plan-unknown-fields',
      { intent: { text, tenantId: 'acme', priority: 'high' }, replyTo: 'http://127.0.0.1/' },
      /intent: Unrecognized key: "priority".*Unrecognized key: "replyTo"/,
    ),
    plan(
      'plan: wrong types',
      'bi-plan-wrong-types',
      { intent: { text: 42, tenantId: ['acme'], dryRun: 'yes', budgetUsd: '5' } },
      /intent\.text: .*expected string.*intent\.tenantId: .*intent\.dryRun: .*intent\.budgetUsd: /,
    ),
    plan(
      'plan: intent missing, run id not a UUID',
      'bi-plan-missing',
      { runId: 'run-42' },
      /intent: .*expected object, received undefined.*runId: Invalid UUID/,
    ),
    plan(
      'plan: text over 8000 characters',
      'bi-plan-too-long',
      { intent: { text: 'y'.repeat(8_001), tenantId: 'acme' } },
      /intent\.text: intent text is longer than 8000 characters/,
    ),
    plan(
      'plan: tenant id with a homoglyph',
      'bi-plan-homoglyph',
      { intent: { text, tenantId: '\u0430cme' } },
      /intent\.tenantId: tenant id: /,
    ),
    {
      ...plan(
        'plan: unknown job name',
        'bi-plan-unknown-name',
        { intent: { text, tenantId: 'acme' } },
        /unknown job name "plan-v2" on queue agentry\.plan/,
      ),
      jobName: 'plan-v2',
    },
    step('step: a string', 'bi-step-string', 'run 42 step 1', /expected object, received string/, {
      raw: 'run 42 step 1',
    }),
    step(
      'step: wrong types',
      'bi-step-wrong-types',
      { runId: 'run-42', stepId: 'Step One', correlationId: 7 },
      /runId: Invalid UUID; stepId: step id: .*correlationId: .*expected string, received number/,
    ),
    step(
      'step: unknown fields',
      'bi-step-unknown-fields',
      { runId, stepId: 's1', correlationId: 'c-1', command: 'curl http://169.254.169.254/' },
      /Unrecognized key: "command"/,
    ),
    {
      ...step(
        'step: unknown job name',
        'bi-step-unknown-name',
        { runId, stepId: 's1', correlationId: 'c-1' },
        /unknown job name "exec" on queue agentry\.step/,
      ),
      jobName: 'exec',
    },
    {
      ...step(
        'compensate: unknown fields',
        'bi-compensate-unknown-fields',
        { runId, correlationId: 'c-1', reason: 'undo', force: true },
        /Unrecognized key: "force"/,
      ),
      jobName: 'compensate',
    },
    // Well-formed, but naming a run this fleet never had: kept, not silently completed.
    {
      ...step(
        'step: a run that does not exist',
        'bi-step-no-such-run',
        { runId, stepId: 's1', correlationId: 'c-1' },
        /^run [0-9a-f-]{36} does not exist$/,
      ),
      errorCode: 'NOT_FOUND',
    },
    {
      ...step(
        'compensate: a run that does not exist',
        'bi-compensate-no-such-run',
        { runId, correlationId: 'c-1', reason: 'undo' },
        /^run [0-9a-f-]{36} does not exist$/,
      ),
      jobName: 'compensate',
      errorCode: 'NOT_FOUND',
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// SSRF from plan steps
// ---------------------------------------------------------------------------------------------

export interface SsrfCase {
  name: string;
  /** The intent: a built-in template (`check URL`, `notify URL`) or one of {@link templates}. */
  text: string;
  /** The step that calls out, and its tool. */
  stepId: string;
  tool: 'http.request' | 'webhook.notify';
  code: 'POLICY_DENIED';
  /** The run's error message names the address class. */
  reason: RegExp;
}

export interface SentinelPorts {
  port: number;
  port6: number | undefined;
}

/**
 * Direct targets: refused by the guard before any connection, with no allowlist set. `urlPassword`
 * goes into the userinfo of one URL (the test then checks that no log line holds it).
 */
export function ssrfCases(
  s: SentinelPorts,
  loopbackNames: readonly string[],
  urlPassword: string,
): SsrfCase[] {
  const p = s.port;
  // Built, not written out: a literal URL with a password is what secret scanners look for.
  const withCredentials = new URL(`http://127.0.0.1:${p}/`);
  withCredentials.username = 'admin';
  withCredentials.password = urlPassword;
  const check = (name: string, url: string, reason: RegExp): SsrfCase => ({
    name,
    text: `check ${url}`,
    stepId: 'request',
    tool: 'http.request',
    code: 'POLICY_DENIED',
    reason,
  });
  const notify = (name: string, url: string, reason: RegExp): SsrfCase => ({
    name,
    text: `notify ${url}`,
    stepId: 'notify',
    tool: 'webhook.notify',
    code: 'POLICY_DENIED',
    reason,
  });
  const raw = (name: string, url: string, reason: RegExp): SsrfCase => ({
    ...check(name, url, reason),
    text: `raw request ${url}`,
    stepId: 'fetch',
  });
  const loopback4 = /loopback address 127\.0\.0\.1$/;
  return [
    check('loopback 127.0.0.1 (the sentinel)', `http://127.0.0.1:${p}/`, loopback4),
    check('localhost', `http://localhost:${p}/`, /^localhost resolves to loopback address/),
    check('LOCALHOST, upper case', `http://LOCALHOST:${p}/`, /^localhost resolves to loopback/),
    check('localhost. (trailing dot)', `http://localhost.:${p}/`, /^localhost resolves to loop/),
    ...(s.port6 === undefined
      ? []
      : [check('IPv6 loopback [::1]', `http://[::1]:${s.port6}/`, /loopback address ::1$/)]),
    check('0.0.0.0', `http://0.0.0.0:${p}/`, /unspecified address 0\.0\.0\.0$/),
    check('0 (short for 0.0.0.0)', `http://0:${p}/`, /unspecified address 0\.0\.0\.0$/),
    check('IPv6 unspecified [::]', `http://[::]:${p}/`, /unspecified address ::$/),
    check('10.0.0.1', 'http://10.0.0.1/', /private address 10\.0\.0\.1$/),
    check('192.168.0.1', 'http://192.168.0.1/', /private address 192\.168\.0\.1$/),
    check('172.16.0.1', 'http://172.16.0.1/', /private address 172\.16\.0\.1$/),
    check('CGNAT 100.64.0.1', 'http://100.64.0.1/', /shared address 100\.64\.0\.1$/),
    check(
      'cloud metadata 169.254.169.254',
      'http://169.254.169.254/latest/meta-data/',
      /link-local address 169\.254\.169\.254$/,
    ),
    check('IPv6 link-local [fe80::1]', `http://[fe80::1]:${p}/`, /link-local address fe80::1$/),
    check('IPv6 ULA [fd00::1]', `http://[fd00::1]:${p}/`, /private address fd00::1$/),
    check('decimal 2130706433', `http://2130706433:${p}/`, loopback4),
    check('octal 0177.0.0.1', `http://0177.0.0.1:${p}/`, loopback4),
    check('hex 0x7f000001', `http://0x7f000001:${p}/`, loopback4),
    check('short 127.1', `http://127.1:${p}/`, loopback4),
    check('percent-encoded %31%32%37.0.0.1', `http://%31%32%37.0.0.1:${p}/`, loopback4),
    check(
      'IPv4-mapped IPv6 [::ffff:127.0.0.1]',
      `http://[::ffff:127.0.0.1]:${p}/`,
      /loopback address ::ffff:7f00:1 \(IPv4-mapped 127\.0\.0\.1\)$/,
    ),
    check(
      'IPv4-mapped metadata [::ffff:169.254.169.254]',
      'http://[::ffff:169.254.169.254]/',
      /link-local address .*\(IPv4-mapped 169\.254\.169\.254\)$/,
    ),
    check(
      'NAT64 loopback [64:ff9b::7f00:1]',
      `http://[64:ff9b::7f00:1]:${p}/`,
      /loopback address .*\(NAT64 127\.0\.0\.1\)$/,
    ),
    ...loopbackNames.map((name) =>
      check(`/etc/hosts name ${name}`, `http://${name}:${p}/`, /resolves to loopback address/),
    ),
    raw('scheme file:', 'file:///etc/passwd', /scheme file: is not allowed/),
    raw('scheme gopher:', `gopher://127.0.0.1:${p}/_stats`, /scheme gopher: is not allowed/),
    raw('credentials in the URL', withCredentials.href, /credentials in URLs are not allowed/),
    {
      ...raw('POST to 192.168.0.1', 'http://192.168.0.1/admin', /private address 192\.168\./),
      text: 'post json to http://192.168.0.1/admin',
      stepId: 'post',
    },
    notify('webhook to the sentinel', `http://127.0.0.1:${p}/hook`, loopback4),
    notify(
      'webhook to the metadata address',
      'http://169.254.169.254/latest/meta-data/',
      /link-local address 169\.254\.169\.254$/,
    ),
    notify('webhook to localhost', `http://localhost:${p}/hook`, /^localhost resolves to loop/),
  ];
}

/** The templates file of the scenario (`AGENTRY_PLANNER_TEMPLATES_FILE`). */
export const templates = {
  templates: [
    {
      id: 'bad-unknown-tool',
      description: 'names a tool no executor has',
      pattern: '^use the teleporter$',
      summary: 'Teleport',
      steps: [
        { id: 'prepare', tool: 'echo', input: { message: 'prepare' } },
        { id: 'jump', tool: 'teleport.now', input: {}, dependsOn: ['prepare'] },
      ],
    },
    {
      id: 'bad-cycle',
      description: 'three steps in a cycle',
      pattern: '^go around in circles$',
      summary: 'Circle',
      steps: [
        { id: 'a', tool: 'echo', input: { message: 'a' }, dependsOn: ['c'] },
        { id: 'b', tool: 'echo', input: { message: 'b' }, dependsOn: ['a'] },
        { id: 'c', tool: 'echo', input: { message: 'c' }, dependsOn: ['b'] },
      ],
    },
    {
      id: 'bad-self-dependency',
      description: 'a step that waits for itself',
      pattern: '^chase my tail$',
      summary: 'Tail',
      steps: [{ id: 'tail', tool: 'echo', input: { message: 'x' }, dependsOn: ['tail'] }],
    },
    {
      id: 'bad-missing-dependency',
      description: 'a step that waits for a step that is not there',
      pattern: '^wait for a ghost$',
      summary: 'Ghost',
      steps: [{ id: 'a', tool: 'echo', input: { message: 'x' }, dependsOn: ['ghost'] }],
    },
    {
      id: 'raw-request',
      description: 'GET any URL, scheme included',
      pattern: '^raw request (?<url>\\S+)$',
      summary: 'Request {{url}}',
      steps: [{ id: 'fetch', tool: 'http.request', input: { url: '{{url}}' } }],
    },
    {
      id: 'post-json',
      description: 'POST JSON to a URL',
      pattern: '^post json to (?<url>\\S+)$',
      summary: 'POST to {{url}}',
      steps: [
        {
          id: 'post',
          tool: 'http.request',
          input: { url: '{{url}}', method: 'POST', body: { hello: 'world' } },
        },
      ],
    },
  ],
};

export interface BadPlan {
  name: string;
  text: string;
  code: 'UNKNOWN_TOOL' | 'PLAN_INVALID';
  message: RegExp;
}

/** Template plans the planner must refuse: the run fails and the plan job is dead-lettered. */
export const badTemplatePlans: BadPlan[] = [
  {
    name: 'unknown tool',
    text: 'use the teleporter',
    code: 'UNKNOWN_TOOL',
    message: /^plan names unknown tools: teleport\.now$/,
  },
  {
    name: 'a cycle of three steps',
    text: 'go around in circles',
    code: 'PLAN_INVALID',
    message: /^plan steps form a cycle$/,
  },
  {
    name: 'a step depending on itself',
    text: 'chase my tail',
    code: 'PLAN_INVALID',
    message: /step "tail" depends on itself/,
  },
  {
    name: 'a dependency on a missing step',
    text: 'wait for a ghost',
    code: 'PLAN_INVALID',
    message: /step "a" depends on missing step "ghost"/,
  },
];
