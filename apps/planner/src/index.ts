export * from './config';
export * from './container';
export * from './handle-plan-job';
export * from './templates';
