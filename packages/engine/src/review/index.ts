export * from './approval-policy';
export * from './assess-risk';
export * from './review-plan';
export * from './tool-profile';
export * from './plan-hash';
export * from './review-for-run';
