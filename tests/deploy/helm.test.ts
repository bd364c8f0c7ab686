import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, parseExpr, type Series } from '../ops/promql';
import {
  chartDir,
  find,
  helm,
  ofKind,
  operatorApis,
  renderChart,
  selects,
  type Manifest,
  type RenderOptions,
} from './support-helm';
import {
  containerOf,
  envOf,
  podsOf,
  typed,
  validateManifest,
  type RenderedPod,
} from './support-helm-models';

/** The renders the tests look at: what a user installs, one setting at a time. */
const scenarios = {
  /** `helm install` with no values, on a cluster without KEDA. */
  defaults: {},
  /** examples/production.yaml on a cluster with KEDA and the Prometheus Operator. */
  production: {
    release: 'agentry',
    valuesFiles: ['examples/production.yaml'],
    apiVersions: operatorApis,
  },
  keda: { apiVersions: operatorApis },
  kedaOff: { apiVersions: operatorApis, set: { 'autoscaling.keda.enabled': false } },
  hpa: { apiVersions: operatorApis, set: { 'autoscaling.mode': 'hpa' } },
  none: { set: { 'autoscaling.mode': 'none', 'planner.replicas': 2, 'executor.replicas': 3 } },
  canary: {
    apiVersions: operatorApis,
    set: {
      'canary.enabled': true,
      'canary.image.tag': '0.2.0-rc.1',
      'executor.autoscaling.minReplicas': 9,
    },
  },
} satisfies Record<string, RenderOptions>;
type Scenario = keyof typeof scenarios;

const rendered = {} as Record<Scenario, Manifest[]>;

beforeAll(async () => {
  const renders = await Promise.all(
    Object.entries(scenarios).map(async ([name, options]) => {
      return [name, await renderChart(options)] as const;
    }),
  );
  for (const [name, manifests] of renders) rendered[name as Scenario] = manifests;
});

const each = () => Object.entries(rendered) as [Scenario, Manifest[]][];
const workers = ['planner', 'executor'] as const;

/** The pods of the chart's Deployments. */
function deploymentPods(manifests: Manifest[]): RenderedPod[] {
  return podsOf(manifests).filter((p) => p.owner.kind === 'Deployment');
}

function deployment(manifests: Manifest[], name: string) {
  return typed(find(manifests, 'Deployment', name), 'apps/v1/Deployment');
}

describe('helm lint', () => {
  it('passes --strict with the defaults and with examples/production.yaml', async () => {
    for (const extra of [[], ['-f', `${chartDir}/examples/production.yaml`]]) {
      const { stdout } = await helm(['lint', '--strict', chartDir, ...extra]);
      expect(stdout).toContain('0 chart(s) failed');
    }
  });
});

describe('the rendered chart', () => {
  it('is made of objects that validate against the Kubernetes and CRD schemas', () => {
    const kinds = new Set<string>();
    for (const [, manifests] of each()) {
      for (const m of manifests) {
        validateManifest(m);
        kinds.add(m.kind);
      }
    }
    // Every template is covered by some scenario, so each was validated at least once.
    expect([...kinds].sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'ExternalSecret',
      'HorizontalPodAutoscaler',
      'Ingress',
      'Job',
      'NetworkPolicy',
      'Pod',
      'PodDisruptionBudget',
      'PrometheusRule',
      'ScaledObject',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
  });

  it('never renders a Secret, and secret settings are references to a secrets manager', () => {
    const manifests = rendered.production;
    expect(ofKind(manifests, 'Secret')).toEqual([]);
    const secretish = /^(DATABASE_URL|AGENTRY_API_TOKEN|AGENTRY_BOARD_\w*PASSWORD|\w+_REF)$/;
    let checked = 0;
    for (const pod of podsOf(manifests)) {
      for (const [name, value] of Object.entries(envOf(manifests, containerOf(pod)))) {
        if (!secretish.test(name)) continue;
        expect(value, `${pod.owner.metadata.name} ${name}`).toMatch(/^(aws|vault|file):\/\/\S+$/);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('names images <registry>/<repository>-<app>:<tag>, the cli image for the migration', () => {
    const images = podsOf(rendered.defaults).map((p) => containerOf(p).image);
    expect(new Set(images)).toEqual(
      new Set(
        ['planner', 'executor', 'api', 'cli'].map((app) => `ghcr.io/agentry/agentry-${app}:0.1.0`),
      ),
    );
  });
});

describe('pods', () => {
  it('drain before the kubelet kills them: grace period > drain deadline + preStop sleep', () => {
    for (const [scenario, manifests] of each()) {
      for (const pod of deploymentPods(manifests)) {
        const container = containerOf(pod);
        const deadlineMs = Number(envOf(manifests, container).AGENTRY_SHUTDOWN_DEADLINE_MS);
        const [sleep, seconds] = container.lifecycle?.preStop?.exec?.command ?? [];
        const where = `${scenario}: ${pod.owner.metadata.name}`;
        expect(sleep, where).toBe('sleep');
        expect(deadlineMs, where).toBeGreaterThanOrEqual(100);
        expect(pod.spec.terminationGracePeriodSeconds! * 1000, where).toBeGreaterThan(
          deadlineMs + Number(seconds) * 1000,
        );
      }
    }
    const executor = deployment(rendered.production, 'agentry-executor');
    expect(executor.spec?.template.spec?.terminationGracePeriodSeconds).toBe(70);
  });

  it('probe /healthz (startup, liveness) and /readyz (readiness) on the port the process serves', () => {
    for (const [scenario, manifests] of each()) {
      for (const pod of deploymentPods(manifests)) {
        const container = containerOf(pod);
        const env = envOf(manifests, container);
        const component = pod.labels['app.kubernetes.io/component'];
        const served = component === 'api' ? env.AGENTRY_API_PORT : env.AGENTRY_HEALTH_PORT;
        const where = `${scenario}: ${pod.owner.metadata.name}`;
        expect(served, where).toBe(component === 'api' ? '8080' : '9464');
        const port = (name: unknown) =>
          container.ports?.find((p) => p.name === name)?.containerPort;
        for (const [probe, path] of [
          [container.startupProbe, '/healthz'],
          [container.livenessProbe, '/healthz'],
          [container.readinessProbe, '/readyz'],
        ] as const) {
          expect(probe?.httpGet?.path, where).toBe(path);
          expect(port(probe?.httpGet?.port), where).toBe(Number(served));
        }
        if (component === 'api') expect(env.AGENTRY_API_HOST, where).toBe('0.0.0.0');
      }
    }
  });

  it('run as uid 10001, non-root, read-only root filesystem, no privilege escalation, no capabilities', () => {
    for (const [scenario, manifests] of each()) {
      for (const pod of podsOf(manifests)) {
        const where = `${scenario}: ${pod.owner.kind} ${pod.owner.metadata.name}`;
        const container = containerOf(pod);
        expect(pod.spec.securityContext, where).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(container.securityContext, where).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        const tmp = container.volumeMounts?.find((v) => v.mountPath === '/tmp');
        const volume = pod.spec.volumes?.find((v) => v.name === tmp?.name);
        expect(volume?.emptyDir, where).toBeDefined();
        expect(container.resources?.requests, where).toBeDefined();
        expect(container.resources?.limits, where).toBeDefined();
        // Service links would inject <SERVICE>_PORT variables, e.g. AGENTRY_API_PORT=tcp://…
        expect(pod.spec.enableServiceLinks, where).toBe(false);
      }
    }
  });

  it('get a service account token only when Vault kubernetes auth needs one', async () => {
    const vault = await renderChart({ set: { 'env.AGENTRY_SECRETS_VAULT_AUTH': 'kubernetes' } });
    for (const [manifests, mounted] of [
      [rendered.defaults, false],
      [vault, true],
    ] as const) {
      for (const pod of podsOf(manifests)) {
        expect(pod.spec.automountServiceAccountToken, pod.owner.metadata.name).toBe(mounted);
      }
    }
  });

  it('carry podAnnotations and podLabels everywhere, and roll when their configuration changes', async () => {
    const set = {
      'podAnnotations.agentry\\.io/drill': 'rollback-1',
      'podLabels.team': 'platform',
      'canary.enabled': true,
      'canary.image.tag': '0.2.0',
    };
    const before = await renderChart({ set });
    const pods = podsOf(before);
    expect(pods.map((p) => p.owner.metadata.name).sort()).toEqual([
      'rel-agentry-api',
      'rel-agentry-doctor',
      'rel-agentry-executor',
      'rel-agentry-executor-canary',
      'rel-agentry-migrate',
      'rel-agentry-planner',
      'rel-agentry-planner-canary',
    ]);
    for (const pod of pods) {
      expect(pod.annotations['agentry.io/drill'], pod.owner.metadata.name).toBe('rollback-1');
      expect(pod.labels.team, pod.owner.metadata.name).toBe('platform');
    }

    const after = await renderChart({ set: { ...set, 'executor.env.AGENTRY_LOG_LEVEL': 'debug' } });
    const checksum = (manifests: Manifest[], name: string) =>
      deployment(manifests, name).spec?.template.metadata?.annotations?.['checksum/config'];
    expect(checksum(after, 'rel-agentry-executor')).not.toBe(
      checksum(before, 'rel-agentry-executor'),
    );
    expect(checksum(after, 'rel-agentry-executor-canary')).toBe(
      checksum(after, 'rel-agentry-executor'),
    );
    expect(checksum(after, 'rel-agentry-planner')).toBe(checksum(before, 'rel-agentry-planner'));
  });
});

describe('autoscaling', () => {
  /** What scales each worker: the kinds of the objects whose scaleTargetRef names it. */
  function scalers(manifests: Manifest[]): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const m of [
      ...ofKind(manifests, 'ScaledObject'),
      ...ofKind(manifests, 'HorizontalPodAutoscaler'),
    ]) {
      const target = (m.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name;
      (out[target] ??= []).push(m.kind);
    }
    return out;
  }

  it('gives each worker exactly one autoscaler: KEDA when the cluster has it, else a CPU HPA', () => {
    const expected: Record<Scenario, string | undefined> = {
      defaults: 'HorizontalPodAutoscaler',
      production: 'ScaledObject',
      keda: 'ScaledObject',
      kedaOff: 'HorizontalPodAutoscaler',
      hpa: 'HorizontalPodAutoscaler',
      none: undefined,
      canary: 'ScaledObject',
    };
    for (const [scenario, manifests] of each()) {
      const release = scenario === 'production' ? 'agentry' : 'rel-agentry';
      const kind = expected[scenario];
      expect(scalers(manifests), scenario).toEqual(
        kind === undefined
          ? {}
          : { [`${release}-planner`]: [kind], [`${release}-executor`]: [kind] },
      );
      for (const component of workers) {
        const replicas = deployment(manifests, `${release}-${component}`).spec?.replicas;
        // An autoscaled Deployment leaves replicas to its autoscaler (an upgrade would reset them).
        expect(replicas, `${scenario} ${component}`).toBe(
          kind === undefined ? { planner: 2, executor: 3 }[component] : undefined,
        );
      }
      expect(deployment(manifests, `${release}-api`).spec?.replicas, scenario).toBe(
        scenario === 'production' ? 3 : 2,
      );
    }
    const hpa = typed(
      find(rendered.hpa, 'HorizontalPodAutoscaler', 'rel-agentry-executor'),
      'autoscaling/v2/HorizontalPodAutoscaler',
    );
    expect(hpa.spec?.metrics?.[0]?.resource).toEqual({
      name: 'cpu',
      target: { type: 'Utilization', averageUtilization: 70 },
    });
  });

  it('scales on the queue depth: waiting, prioritized, delayed and active jobs per replica concurrency', () => {
    for (const [component, queue, concurrency] of [
      ['planner', 'agentry.plan', '8'],
      ['executor', 'agentry.step', '16'],
    ] as const) {
      const scaled = typed(
        find(rendered.keda, 'ScaledObject', `rel-agentry-${component}`),
        'keda.sh/v1alpha1/ScaledObject',
      );
      expect(scaled.spec.scaleTargetRef).toMatchObject({
        kind: 'Deployment',
        name: `rel-agentry-${component}`,
      });
      // A worker must stay up to recover stalled jobs.
      expect(scaled.spec.minReplicaCount).toBe(1);
      expect(scaled.spec.maxReplicaCount).toBeGreaterThan(1);
      const [trigger, ...others] = scaled.spec.triggers;
      expect(others).toEqual([]);
      expect(trigger?.type).toBe('prometheus');
      const { query, threshold, serverAddress } = trigger?.metadata ?? {};
      expect(serverAddress).toBe('http://prometheus-operated.monitoring.svc:9090');
      expect(query).toContain(`queue="${queue}"`);
      for (const state of ['waiting', 'prioritized', 'delayed', 'active'])
        expect(query).toContain(state);
      const pod = deploymentPods(rendered.keda).find(
        (p) => p.owner.metadata.name === `rel-agentry-${component}`,
      )!;
      expect(threshold).toBe(concurrency);
      expect(
        envOf(rendered.keda, containerOf(pod))[`AGENTRY_${component.toUpperCase()}_CONCURRENCY`],
      ).toBe(concurrency);
    }
  });

  it("counts each job once however many API replicas export the gauge, and only this release's", () => {
    const scaled = typed(
      find(rendered.keda, 'ScaledObject', 'rel-agentry-executor'),
      'keda.sh/v1alpha1/ScaledObject',
    );
    const query = scaled.spec.triggers[0]?.metadata.query ?? '';
    const counts = {
      waiting: 30,
      prioritized: 5,
      delayed: 10,
      active: 16,
      failed: 400,
      completed: 9000,
      paused: 0,
      'waiting-children': 3,
    };
    const series: Series[] = [];
    const gauge = (labels: Record<string, string>, v: number) =>
      series.push({
        labels: { __name__: 'agentry_queue_jobs', ...labels },
        samples: [{ t: 0, v }],
      });
    for (const instance of ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']) {
      for (const [state, v] of Object.entries(counts)) {
        const labels = {
          job: 'agentry-api',
          namespace: 'agentry',
          service: 'rel-agentry-api',
          instance,
          state,
        };
        gauge({ ...labels, queue: 'agentry.step' }, v);
        gauge({ ...labels, queue: 'agentry.plan' }, 1000);
      }
    }
    // Another release in another namespace, scraped by the same Prometheus.
    gauge(
      {
        job: 'agentry-api',
        namespace: 'staging',
        service: 'rel-agentry-api',
        instance: 'x',
        queue: 'agentry.step',
        state: 'waiting',
      },
      5000,
    );
    const value = evaluate(parseExpr(query), series, 0);
    expect(value).toEqual({ kind: 'vector', samples: [{ labels: {}, v: 30 + 5 + 10 + 16 }] });
  });

  it('keeps production workers at their floor, with a fallback while the query fails', () => {
    const executor = typed(
      find(rendered.production, 'ScaledObject', 'agentry-executor'),
      'keda.sh/v1alpha1/ScaledObject',
    );
    expect(executor.spec.minReplicaCount).toBe(9);
    expect(executor.spec.fallback).toEqual({ failureThreshold: 3, replicas: 12 });
    expect(executor.spec.triggers[0]?.metadata.ignoreNullValues).toBe('false');
  });
});

describe('canary', () => {
  const manifests = () => rendered.canary;

  it('runs the canary tag beside the stable fleet, labelled track=canary, with the same configuration', () => {
    for (const component of workers) {
      const stable = deployment(manifests(), `rel-agentry-${component}`);
      const canary = deployment(manifests(), `rel-agentry-${component}-canary`);
      const [stablePod, canaryPod] = [stable, canary].map((d) => d.spec?.template);
      expect(canary.spec?.replicas).toBe(1);
      expect(canaryPod?.metadata?.labels?.track).toBe('canary');
      expect(stablePod?.metadata?.labels?.track).toBe('stable');
      expect(canaryPod?.spec?.containers[0]?.image).toBe(
        `ghcr.io/agentry/agentry-${component}:0.2.0-rc.1`,
      );
      expect(stablePod?.spec?.containers[0]?.image).toBe(
        `ghcr.io/agentry/agentry-${component}:0.1.0`,
      );
      expect(canaryPod?.spec?.containers[0]?.envFrom).toEqual(
        stablePod?.spec?.containers[0]?.envFrom,
      );
      // Neither Deployment adopts the other's pods.
      expect(selects(stable.spec!.selector.matchLabels!, canaryPod?.metadata?.labels)).toBe(false);
      expect(selects(canary.spec!.selector.matchLabels!, stablePod?.metadata?.labels)).toBe(false);
    }
    expect(ofKind(manifests(), 'Deployment').map((d) => d.metadata.name)).not.toContain(
      'rel-agentry-api-canary',
    );
  });

  it('migrates with the canary’s cli image first: its migrations must be applied before it runs', () => {
    const [job] = ofKind(manifests(), 'Job').filter(
      (j) => j.metadata.name === 'rel-agentry-migrate',
    );
    const image = typed(job!, 'batch/v1/Job').spec?.template.spec?.containers[0]?.image;
    expect(image).toBe('ghcr.io/agentry/agentry-cli:0.2.0-rc.1');
    const [stableJob] = ofKind(rendered.defaults, 'Job').filter(
      (j) => j.metadata.name === 'rel-agentry-migrate',
    );
    expect(typed(stableJob!, 'batch/v1/Job').spec?.template.spec?.containers[0]?.image).toBe(
      'ghcr.io/agentry/agentry-cli:0.1.0',
    );
  });

  it('is neither autoscaled nor covered by the stable PodDisruptionBudgets, but is scraped', () => {
    const canaries = deploymentPods(manifests()).filter((p) => p.labels.track === 'canary');
    expect(canaries).toHaveLength(2);
    for (const m of ofKind(manifests(), 'ScaledObject')) {
      expect((m.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name).not.toMatch(
        /canary/,
      );
    }
    for (const pdb of ofKind(manifests(), 'PodDisruptionBudget')) {
      const matchLabels =
        typed(pdb, 'policy/v1/PodDisruptionBudget').spec?.selector?.matchLabels ?? {};
      for (const pod of canaries) expect(selects(matchLabels, pod.labels)).toBe(false);
    }
    for (const pod of canaries) {
      const component = pod.labels['app.kubernetes.io/component'];
      const service = typed(find(manifests(), 'Service', `rel-agentry-${component}`), 'v1/Service');
      expect(selects(service.spec!.selector!, pod.labels)).toBe(true);
    }
  });
});

describe('PodDisruptionBudgets', () => {
  it('each select the stable pods of exactly one Deployment', () => {
    for (const scenario of ['defaults', 'production', 'canary'] as const) {
      const manifests = rendered[scenario];
      const pdbs = ofKind(manifests, 'PodDisruptionBudget').map((m) =>
        typed(m, 'policy/v1/PodDisruptionBudget'),
      );
      expect(pdbs, scenario).toHaveLength(3);
      for (const pdb of pdbs) {
        const matchLabels = pdb.spec?.selector?.matchLabels ?? {};
        const owners = deploymentPods(manifests)
          .filter((p) => selects(matchLabels, p.labels))
          .map((p) => p.owner.metadata.name);
        expect(owners, `${scenario} ${pdb.metadata?.name}`).toEqual([pdb.metadata?.name]);
      }
    }
    const api = typed(
      find(rendered.production, 'PodDisruptionBudget', 'agentry-api'),
      'policy/v1/PodDisruptionBudget',
    );
    expect(api.spec).toMatchObject({ minAvailable: 2 });
    expect(api.spec?.maxUnavailable).toBeUndefined();
  });
});

describe('the migration Job', () => {
  it('runs `agentry migrate up` from the cli image as a pre-install,pre-upgrade hook', () => {
    const job = typed(find(rendered.defaults, 'Job', 'rel-agentry-migrate'), 'batch/v1/Job');
    expect(job.metadata?.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    expect(job.spec?.backoffLimit).toBeGreaterThanOrEqual(0);
    expect(job.spec?.activeDeadlineSeconds).toBeGreaterThan(0);
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers[0]?.image).toBe('ghcr.io/agentry/agentry-cli:0.1.0');
    expect(pod.containers[0]?.args).toEqual(['migrate', 'up']);
  });

  it('reads the same database settings as the fleet, with credentials that exist before it runs', () => {
    const manifests = rendered.production;
    const pods = podsOf(manifests);
    const migrate = pods.find((p) => p.owner.kind === 'Job')!;
    const migrateEnv = envOf(manifests, containerOf(migrate));
    for (const pod of deploymentPods(manifests)) {
      const env = envOf(manifests, containerOf(pod));
      for (const key of ['DATABASE_URL', 'AGENTRY_ENV', 'AGENTRY_SECRETS_AWS_REGION']) {
        expect(migrateEnv[key], key).toBe(env[key]);
      }
    }
    expect(migrateEnv.DATABASE_URL).toBe('aws://prod/agentry/db#url');

    // A pre-install hook runs before the release's own objects exist: what it uses must be a
    // hook of lower weight too (its ServiceAccount, the ExternalSecret behind its files).
    const weight = (m: Manifest) => Number(m.metadata.annotations?.['helm.sh/hook-weight'] ?? 0);
    const account = find(manifests, 'ServiceAccount', migrate.spec.serviceAccountName!);
    const secret = find(manifests, 'ExternalSecret', 'agentry-secrets');
    for (const dependency of [account, secret]) {
      expect(dependency.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      expect(weight(dependency)).toBeLessThan(weight(migrate.owner));
    }
    expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(
      /agentry-prod-migrate$/,
    );
    expect(migrate.spec.volumes?.find((v) => v.secret)?.secret?.secretName).toBe('agentry-secrets');
  });
});

describe('monitoring', () => {
  it('gives the series the job names the alert rules use, and the pod track', () => {
    const manifests = rendered.production;
    const monitors = ofKind(manifests, 'ServiceMonitor').map((m) =>
      typed(m, 'monitoring.coreos.com/v1/ServiceMonitor'),
    );
    expect(monitors).toHaveLength(3);
    for (const monitor of monitors) {
      const service = ofKind(manifests, 'Service')
        .map((s) => typed(s, 'v1/Service'))
        .filter((s) => selects(monitor.spec.selector.matchLabels ?? {}, s.metadata?.labels));
      expect(service).toHaveLength(1);
      const component = service[0]?.metadata?.labels?.['app.kubernetes.io/component'];
      const [endpoint] = monitor.spec.endpoints ?? [];
      expect(endpoint?.path).toBe('/metrics');
      expect(service[0]?.spec?.ports?.map((p) => p.name)).toContain(endpoint?.port);
      expect(endpoint?.relabelings).toContainEqual({
        action: 'replace',
        targetLabel: 'job',
        replacement: `agentry-${component}`,
      });
      expect(monitor.spec.podTargetLabels).toEqual(['track']);
      expect(monitor.metadata?.labels?.release).toBe('kube-prometheus-stack');
    }
  });

  it('renders no monitoring objects unless asked to', () => {
    for (const kind of [
      'ServiceMonitor',
      'PrometheusRule',
      'NetworkPolicy',
      'Ingress',
      'ExternalSecret',
    ]) {
      expect(ofKind(rendered.defaults, kind), kind).toEqual([]);
    }
  });
});

describe('network policies', () => {
  it('admit the API port from the allowed sources and metrics from monitoring, and bound egress', () => {
    const manifests = rendered.production;
    const policies = ofKind(manifests, 'NetworkPolicy').map((m) =>
      typed(m, 'networking.k8s.io/v1/NetworkPolicy'),
    );
    // Every pod of the release is under an ingress policy (Deployments) and the egress policy.
    for (const pod of podsOf(manifests)) {
      const covering = policies.filter((p) =>
        selects(p.spec?.podSelector.matchLabels ?? {}, pod.labels),
      );
      const types = covering.flatMap((p) => p.spec?.policyTypes ?? []).sort();
      expect(types, pod.owner.metadata.name).toEqual(
        pod.owner.kind === 'Deployment' ? ['Egress', 'Ingress'] : ['Egress'],
      );
    }
    const api = policies.find((p) => p.metadata?.name === 'agentry-api')!;
    expect(api.spec?.ingress?.[0]).toMatchObject({
      ports: [{ port: 'http' }],
      from: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
        { namespaceSelector: { matchLabels: { 'agentry.io/producer': 'true' } } },
      ],
    });
    const egress = policies.find((p) => p.metadata?.name === 'agentry-egress')!.spec?.egress ?? [];
    const ports = egress.flatMap((rule) => (rule.ports ?? []).map((p) => p.port));
    expect(ports).toEqual(expect.arrayContaining([53, 6379, 5432, 443, 4318]));
    const internet = egress.find((rule) => rule.to?.[0]?.ipBlock?.cidr === '0.0.0.0/0');
    expect(internet?.to?.[0]?.ipBlock?.except).toEqual(
      expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']),
    );
  });
});

describe('the API', () => {
  it('is published by the Ingress with TLS on its Service port', () => {
    const manifests = rendered.production;
    const ingress = typed(
      find(manifests, 'Ingress', 'agentry-api'),
      'networking.k8s.io/v1/Ingress',
    );
    const service = typed(find(manifests, 'Service', 'agentry-api'), 'v1/Service');
    expect(ingress.spec?.tls?.[0]?.hosts).toEqual(['agentry.example.com']);
    const backend = ingress.spec?.rules?.[0]?.http?.paths[0]?.backend.service;
    expect(backend?.name).toBe('agentry-api');
    expect(service.spec?.ports?.map((p) => p.port)).toContain(backend?.port?.number);
  });

  it('runs under the service account carrying the IRSA role', () => {
    const manifests = rendered.production;
    for (const pod of deploymentPods(manifests)) {
      const account = find(manifests, 'ServiceAccount', pod.spec.serviceAccountName!);
      expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(
        'arn:aws:iam::111122223333:role/agentry-prod',
      );
    }
  });
});
