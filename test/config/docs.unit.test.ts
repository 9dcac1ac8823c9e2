import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigurationDoc } from '../../src/config/docs.js';
import { listOptions } from '../../src/config/schema-walk.js';
import { configSchema } from '../../src/config/schema.js';
import { packageRoot } from '../../src/package-root.js';

describe('docs/configuration.md', () => {
  it('is up to date with the schema (run `npm run docs:config`)', () => {
    const onDisk = readFileSync(join(packageRoot(), 'docs', 'configuration.md'), 'utf8');
    expect(onDisk).toBe(renderConfigurationDoc());
  });

  it('documents every option with a description', () => {
    const options = listOptions(configSchema);
    expect(options.length).toBeGreaterThan(20);
    for (const option of options) {
      expect(option.description, option.path).not.toBe('');
      expect(renderConfigurationDoc()).toContain(`\`${option.path}\``);
    }
  });
});
