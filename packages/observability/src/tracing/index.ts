export * from './open-tracing';
export * from './run-trace';
export * from './tracing';
export * from './tracing-metrics';
