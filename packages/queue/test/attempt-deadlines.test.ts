import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAttemptDeadlines, type Expiring } from '../src/attempt-deadlines';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const item = (fired: string[], name: string): Expiring => ({
  deadline: 0,
  onDeadline: () => void fired.push(name),
});

describe('createAttemptDeadlines', () => {
  it('fires each tracked item once at its deadline, never early, with one timer', () => {
    const deadlines = createAttemptDeadlines(() => Date.now());
    const fired: string[] = [];
    deadlines.track(item(fired, 'a'), 1_000);
    vi.advanceTimersByTime(300);
    deadlines.track(item(fired, 'b'), 1_000);
    deadlines.track(item(fired, 'short'), 100);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['short']);
    vi.advanceTimersByTime(599);
    expect(fired).toEqual(['short']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['short', 'a']);
    vi.advanceTimersByTime(300);
    expect(fired).toEqual(['short', 'a', 'b']);
    expect(deadlines.size()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual(['short', 'a', 'b']);
  });

  it('never fires an untracked item, and keeps the later ones on time', () => {
    const deadlines = createAttemptDeadlines(() => Date.now());
    const fired: string[] = [];
    const first = item(fired, 'first');
    deadlines.track(first, 500);
    vi.advanceTimersByTime(100);
    deadlines.track(item(fired, 'second'), 500);
    deadlines.untrack(first, 500);
    deadlines.untrack(first, 500); // twice is harmless
    expect(deadlines.size()).toBe(1);
    vi.advanceTimersByTime(499);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['second']);
  });

  it('stops for good on close', () => {
    const deadlines = createAttemptDeadlines(() => Date.now());
    const fired: string[] = [];
    deadlines.track(item(fired, 'a'), 50);
    deadlines.close();
    deadlines.close();
    vi.advanceTimersByTime(1_000);
    expect(fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
