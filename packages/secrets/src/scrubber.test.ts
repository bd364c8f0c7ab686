import { AppError, isAppError } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { createScrubber } from './scrubber';

const canary = 'canary-0000-not-a-secret';

describe('createScrubber', () => {
  it('replaces every known value and ignores values too short to be told from words', () => {
    const scrubber = createScrubber();
    scrubber.add(canary);
    scrubber.add('short');
    expect(scrubber.scrub(`token=${canary}; again ${canary}; short`)).toBe(
      'token=[secret]; again [secret]; short',
    );
  });

  it('leaves text alone when nothing is known', () => {
    expect(createScrubber().scrub(`token=${canary}`)).toBe(`token=${canary}`);
  });

  it('replaces the longest value first, and values with RegExp characters literally', () => {
    const scrubber = createScrubber();
    scrubber.add('canary-0000');
    scrubber.add(canary);
    scrubber.add('fake.*+?(0000)[x]');
    expect(scrubber.scrub(`a ${canary} b canary-0000 c fake.*+?(0000)[x] d fakeXX`)).toBe(
      'a [secret] b [secret] c [secret] d fakeXX',
    );
  });

  it('replaces the JSON-escaped form of a value', () => {
    const scrubber = createScrubber();
    const value = 'canary"0000\\not-a-secret\n';
    scrubber.add(value);
    const logged = JSON.stringify({ password: value });
    expect(logged).not.toContain(value);
    expect(scrubber.scrub(logged)).toBe('{"password":"[secret]"}');
  });

  it('replaces the URL-encoded form of a value (a password inside a connection string)', () => {
    const scrubber = createScrubber();
    const password = 'canary p@ss/0000:not-a-secret';
    scrubber.add(password);
    const url = `postgres://agentry:${encodeURIComponent(password)}@db:5432/agentry`;
    // secretlint-disable-next-line -- a deliberately fake credential, to test redaction
    expect(scrubber.scrub(url)).toBe('postgres://agentry:[secret]@db:5432/agentry');
  });

  it('picks up values added after a first scrub', () => {
    const scrubber = createScrubber();
    scrubber.add(canary);
    expect(scrubber.scrub(canary)).toBe('[secret]');
    scrubber.add('canary-1111-not-a-secret');
    expect(scrubber.scrub(`${canary} canary-1111-not-a-secret`)).toBe('[secret] [secret]');
  });
});

describe('scrubDeep', () => {
  const scrubber = createScrubber();
  scrubber.add(canary);

  it('copies strings, arrays and plain objects (keys too) without touching the input', () => {
    const when = new Date(0);
    const input = { url: `x:${canary}`, list: [canary, 1, null, { [canary]: true }], when };
    const output = scrubber.scrubDeep(input);
    expect(output).toEqual({
      url: 'x:[secret]',
      list: ['[secret]', 1, null, { '[secret]': true }],
      when,
    });
    expect(output.when).toBe(when);
    expect(input.url).toBe(`x:${canary}`);
  });

  it('scrubs message, stack and the whole cause chain of an Error, keeping its name', () => {
    const root = new TypeError(`socket closed by ${canary}`);
    const middle = new AppError('UNAVAILABLE', `backend said ${canary}`, {
      cause: root,
      details: { status: 503, echo: canary },
      retryable: false,
    });
    const top = new Error(`could not load: ${canary}`, { cause: middle });
    Object.assign(top, { statusCode: 502, body: canary });

    const copy = scrubber.scrubDeep(top);
    expect(copy).not.toBe(top);
    expect(copy.name).toBe('Error');
    expect(copy.message).toBe('could not load: [secret]');
    expect(copy.stack).toContain('could not load: [secret]');
    expect(copy.stack).not.toContain(canary);
    expect(copy).toMatchObject({ statusCode: 502, body: '[secret]' });

    const cause = copy.cause as AppError;
    expect(isAppError(cause)).toBe(true);
    expect(cause).toBeInstanceOf(AppError);
    expect(cause.code).toBe('UNAVAILABLE');
    expect(cause.retryable).toBe(false);
    expect(cause.details).toEqual({ status: 503, echo: '[secret]' });
    expect(cause.message).toBe('backend said [secret]');
    expect(cause.stack).not.toContain(canary);

    const rootCopy = cause.cause as Error;
    expect(rootCopy.name).toBe('TypeError');
    expect(rootCopy.message).toBe('socket closed by [secret]');
    expect(JSON.stringify(rootCopy.stack)).not.toContain(canary);

    expect(top.message).toContain(canary); // the original is untouched
  });

  it('scrubs the errors of an AggregateError and survives a cause cycle', () => {
    const looped = new Error(`loop ${canary}`);
    (looped as { cause?: unknown }).cause = looped;
    const aggregate = new AggregateError([looped, new Error(canary)], `all failed: ${canary}`);
    const copy = scrubber.scrubDeep(aggregate) as AggregateError;
    expect(copy.message).toBe('all failed: [secret]');
    expect(copy.errors.map((e: Error) => e.message)).toEqual(['loop [secret]', '[secret]']);
    const first = copy.errors[0] as Error;
    expect(first.cause).toBe(first);
  });

  it('returns numbers, booleans, null and undefined as they are', () => {
    expect(scrubber.scrubDeep(42)).toBe(42);
    expect(scrubber.scrubDeep(null)).toBeNull();
    expect(scrubber.scrubDeep(undefined)).toBeUndefined();
    expect(scrubber.scrubDeep(true)).toBe(true);
  });
});
