/** The test relay ships with the package (src/test-relay, used by `bigbrotr demo`); tests import it from here. */
export * from '../../../src/test-relay/server.js';
