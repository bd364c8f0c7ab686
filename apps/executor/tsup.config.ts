import { defineConfig } from 'tsup';
import { appBuild } from '../../tsup.base';

export default defineConfig(appBuild());
