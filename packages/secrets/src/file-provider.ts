import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { AppError, isAppError, toAppError, toError } from '@agentry/schema';
import type { SecretProvider } from './secret-provider';
import type { SecretRef } from './secret-ref';
import { selectKey } from './select-key';

/** Options of {@link fileProvider}. */
export interface FileProviderOptions {
  /**
   * Only files inside this directory may be read (after resolving `..` and symbolic links).
   * @default no restriction
   */
  root?: string;
}

/**
 * `file:///path[#key]`: a secret file, such as a Kubernetes secret volume. Contract of `get`: the
 * file is read afresh at each call (the kubelet updates mounted secrets in place), as UTF-8 with
 * trailing newlines removed, then `#key` is selected from its JSON. A missing file rejects with
 * `NOT_FOUND`, a refused one (permissions, or outside `root`) with `POLICY_DENIED`, another I/O
 * fault with `UNAVAILABLE`. No rotation.
 */
export function fileProvider(options: FileProviderOptions = {}): SecretProvider {
  const root = options.root === undefined ? undefined : resolve(options.root);
  return {
    scheme: 'file',
    async get(ref, signal) {
      const path = resolve(ref.id);
      try {
        if (root !== undefined) {
          assertInside(ref, root, path);
          // Hazard: a symbolic link inside root may point outside it; compare the real paths.
          assertInside(ref, await realpath(root), await realpath(path));
        }
        const text = await readFile(path, { encoding: 'utf8', signal });
        return { value: selectKey(ref, text.replace(/[\r\n]+$/, '')) };
      } catch (caught) {
        throw fileError(ref, caught, signal);
      }
    },
  };
}

function assertInside(ref: SecretRef, root: string, path: string): void {
  const rel = relative(root, path);
  // Hazard: `..data` (the kubelet's own directory) starts with '..' but is inside root.
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new AppError('POLICY_DENIED', `${ref.raw}: the file is outside the secrets directory`, {
      details: { scheme: 'file', root },
    });
  }
}

function fileError(ref: SecretRef, caught: unknown, signal: AbortSignal | undefined): AppError {
  if (signal?.aborted === true) return toAppError(signal.reason);
  if (isAppError(caught)) return caught;
  const error = toError(caught);
  const code = (error as NodeJS.ErrnoException).code;
  const details = { scheme: 'file', errno: code };
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new AppError('NOT_FOUND', `${ref.raw}: no such file`, { cause: error, details });
    case 'EACCES':
    case 'EPERM':
      return new AppError('POLICY_DENIED', `${ref.raw}: permission denied`, {
        cause: error,
        details,
      });
    case 'EISDIR':
      return new AppError('VALIDATION', `${ref.raw}: is a directory`, { cause: error, details });
    default:
      return new AppError(
        'UNAVAILABLE',
        `${ref.raw}: could not read the file (${code ?? 'error'})`,
        {
          cause: error,
          details,
        },
      );
  }
}
