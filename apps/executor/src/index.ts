export * from './builtin-tool-names';
export * from './config';
export * from './container';
export * from './handle-compensate-job';
export * from './handle-step-job';
export * from './tools';
export * from './tools-module';
