import { defineConfig } from 'tsup';
import { appBuild } from '../../tsup.base';

// Bull Board reads its UI files from inside its packages, so they stay external.
export default defineConfig(appBuild(['@bull-board/api', '@bull-board/fastify']));
