// Runs the CLI from the TypeScript sources (tests spawn it with `node --import tsx`), like bin/bigbrotr.js does from dist/.
import { main } from '../../src/cli/main.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
