export * from './fake-answer';
export type { FakeControls, FakeStats } from './fake-control';
export * from './fake-llm-server';
export type { FakeApi } from './fake-request';
