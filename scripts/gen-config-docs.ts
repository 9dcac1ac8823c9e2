// Regenerates docs/configuration.md from the config schema: `npm run docs:config`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigurationDoc } from '../src/config/docs.js';
import { packageRoot } from '../src/package-root.js';

const target = join(packageRoot(), 'docs', 'configuration.md');
writeFileSync(target, renderConfigurationDoc());
console.log(`wrote ${target}`);
