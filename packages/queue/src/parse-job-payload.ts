import { jobCatalog, type JobDefinition, type JobKind } from '@agentry/schema';
import { unreadableOf } from './unreadable-job-data';

/** One zod issue reduced to what an operator needs; safe to store and log (no input values). */
export interface PayloadIssue {
  path: string;
  code: string;
  message: string;
}

export type ParsedJobPayload =
  | { ok: true; kind: JobKind; payload: unknown }
  | { ok: false; kind: JobKind | undefined; reason: string; issues: PayloadIssue[] };

const maxIssues = 20;

// `jobKindFor` scans the catalog; the worker looks a kind up on every delivery.
const kindsByQueueAndName = new Map<string, Map<string, JobKind>>();
for (const kind of Object.keys(jobCatalog) as JobKind[]) {
  const { queue, name } = jobCatalog[kind];
  let names = kindsByQueueAndName.get(queue);
  if (!names) kindsByQueueAndName.set(queue, (names = new Map()));
  names.set(name, kind);
}
const maxReasonChars = 1_000;

/** Turn zod issues into {@link PayloadIssue}s (at most 20 are kept). */
export function toPayloadIssues(
  issues: readonly { path: readonly PropertyKey[]; code: string; message: string }[],
): PayloadIssue[] {
  return issues.slice(0, maxIssues).map((i) => ({
    path: i.path.map((p) => String(p)).join('.'),
    code: i.code,
    message: i.message,
  }));
}

/** `intent.text: Invalid input: expected string; runId: Invalid UUID`, bounded in length. */
export function formatIssues(issues: readonly PayloadIssue[]): string {
  const text = issues
    .map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`))
    .join('; ');
  return text.length > maxReasonChars ? `${text.slice(0, maxReasonChars)}…` : text;
}

/** Parse a payload against a known kind's schema. Never throws, whatever `data` is. */
export function parsePayloadOf(kind: JobKind, data: unknown): ParsedJobPayload {
  const definition = jobCatalog[kind] as JobDefinition;
  const result = definition.payload.safeParse(data);
  if (result.success) return { ok: true, kind, payload: result.data };
  const issues = toPayloadIssues(result.error.issues);
  return { ok: false, kind, issues, reason: `invalid payload: ${formatIssues(issues)}` };
}

/**
 * Find the catalog kind of a BullMQ job (queue + name) and parse its data with the kind's schema.
 * An unknown name is an invalid job, not an exception. Never throws.
 */
export function parseJobPayload(queue: string, name: string, data: unknown): ParsedJobPayload {
  const kind = kindsByQueueAndName.get(queue)?.get(name);
  if (kind === undefined) {
    const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
    return {
      ok: false,
      kind: undefined,
      issues: [
        { path: '', code: 'unknown_job', message: `unknown job name "${shown}" on queue ${queue}` },
      ],
      reason: `unknown job name "${shown}" on queue ${queue}`,
    };
  }
  const unreadable = unreadableOf(data);
  if (unreadable) {
    // A hash written by hand (see CapturingWorker.createJob): the raw text is in the data kept.
    const reason = `job data is not JSON: ${unreadable.error}`;
    return {
      ok: false,
      kind,
      reason,
      issues: [{ path: '', code: 'invalid_json', message: reason }],
    };
  }
  return parsePayloadOf(kind, data);
}
