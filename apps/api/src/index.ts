export * from './config';
export * from './container';
export * from './server';
