import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/** True when something answers PING with PONG at host:port within the timeout. */
export function redisAnswers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/**
 * For `agentry dev` only: when nothing answers on the local Redis port and `redis-server` is
 * installed, run one as a child process (in memory, loopback only, `noeviction` as BullMQ needs)
 * for the life of the command. Returns a stop function, or undefined when Redis already ran.
 */
export async function ensureLocalRedis(url: string): Promise<(() => void) | undefined> {
  const { hostname, port: portText } = new URL(url);
  const port = Number(portText || 6379);
  if (await redisAnswers(hostname, port)) return undefined;
  if (hostname !== '127.0.0.1' && hostname !== 'localhost') {
    throw new Error(`Redis at ${hostname}:${port} does not answer`);
  }
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', resolve);
    });
  } catch {
    throw new Error(
      `no Redis answers on 127.0.0.1:${port} and redis-server is not installed: install Redis (apt-get install redis-server, brew install redis) or set AGENTRY_REDIS_URL`,
    );
  }
  for (let i = 0; i < 50; i += 1) {
    if (await redisAnswers(hostname, port)) return () => child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`started redis-server on port ${port}, but it did not answer`);
}
