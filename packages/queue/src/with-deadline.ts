import { AppError } from '@agentry/schema';

/**
 * Run `fn` and reject with `AppError('UNAVAILABLE')` if it has not settled within `ms`.
 * The work itself is not cancelled (a Redis command cannot be); its late result is ignored.
 */
export async function withDeadline<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AppError('UNAVAILABLE', `${what}: no answer from Redis within ${ms} ms`)),
      ms,
    );
  });
  const work = fn();
  work.catch(() => undefined); // settled late, after the deadline won: nobody is listening any more
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
