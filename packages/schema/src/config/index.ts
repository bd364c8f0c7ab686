export * from './common-config';
export * from './env-types';
export * from './parse-env';
export * from './approval-config';
export * from './redis-cluster-nodes';
