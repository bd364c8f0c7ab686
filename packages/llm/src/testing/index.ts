export * from './fake-answer';
export type { FakeControls, FakeStats } from './fake-control';
export * from './fake-llm-server';
export type { FakePlanSource } from './fake-plan';
export type { FakeApi, FakeRequestView } from './fake-request';
