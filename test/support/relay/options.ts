/** The test relay's options (src/test-relay/options.ts). */
export * from '../../../src/test-relay/options.js';
