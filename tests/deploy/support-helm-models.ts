import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1beta1';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Pod, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import type { Manifest } from './support-helm';

/** Every kind the chart renders, by `apiVersion/kind`, with the model that validates it. */
const models = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Pod': Pod,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'external-secrets.io/v1beta1/ExternalSecret': ExternalSecret,
};

type Models = typeof models;
/** A validated object, typed by its kind. */
export type Typed<K extends keyof Models> = InstanceType<Models[K]>;

/**
 * Validate a rendered object against its Kubernetes (or CRD) OpenAPI schema. Throws with the
 * failing paths, or when the chart renders a kind there is no model for.
 */
export function validateManifest(manifest: Manifest): void {
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  if (!(key in models)) {
    throw new Error(`no schema to validate ${key} (${manifest.metadata.name}): add its model`);
  }
  const Model = models[key as keyof Models];
  try {
    new Model(manifest as never).validate();
  } catch (e) {
    throw new Error(`${key} ${manifest.metadata.name}: ${String(e)}`, { cause: e });
  }
}

/** A manifest as the model of its kind, for typed reads. Throws on another kind. */
export function typed<K extends keyof Models>(manifest: Manifest, key: K): Typed<K> {
  const actual = `${manifest.apiVersion}/${manifest.kind}`;
  if (actual !== key) throw new Error(`${manifest.metadata.name} is ${actual}, not ${key}`);
  return new models[key](manifest as never) as Typed<K>;
}

/** A pod the chart runs — a Deployment's or a Job's template, or a (test) Pod — and its owner. */
export interface RenderedPod {
  owner: Manifest;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: IPodSpec;
}

/** Every pod template of the render: Deployments, Jobs and Pods. */
export function podsOf(manifests: Manifest[]): RenderedPod[] {
  return manifests.flatMap((m): RenderedPod[] => {
    const template =
      m.kind === 'Deployment'
        ? typed(m, 'apps/v1/Deployment').spec?.template
        : m.kind === 'Job'
          ? typed(m, 'batch/v1/Job').spec?.template
          : m.kind === 'Pod'
            ? typed(m, 'v1/Pod')
            : undefined;
    if (template === undefined) return [];
    if (template.spec === undefined) throw new Error(`${m.kind} ${m.metadata.name}: no pod spec`);
    return [
      {
        owner: m,
        labels: template.metadata?.labels ?? {},
        annotations: template.metadata?.annotations ?? {},
        spec: template.spec,
      },
    ];
  });
}

/** The pod's only container. */
export function containerOf(pod: RenderedPod): IContainer {
  const [container, ...more] = pod.spec.containers;
  if (container === undefined || more.length > 0) {
    throw new Error(`${pod.owner.metadata.name}: expected one container`);
  }
  return container;
}

/** A container's environment as the kubelet builds it: envFrom ConfigMaps, then `env` values. */
export function envOf(manifests: Manifest[], container: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (name === undefined) continue;
    const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === name);
    if (configMap === undefined) throw new Error(`ConfigMap ${name} is not rendered`);
    Object.assign(env, configMap.data);
  }
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}
