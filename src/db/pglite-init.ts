/**
 * Creates an embedded database directory (initdb inside WebAssembly) and exits. Run in a child
 * process by openPglite when the directory is new: initdb needs about 800 MiB of WebAssembly heap,
 * which a process never gives back, while opening an existing directory needs under 200 MiB. So the
 * long-running process never carries the creation's peak.
 *
 * Usage: node pglite-init.js <directory> [name=value ...]
 */
import { PGlite } from '@electric-sql/pglite';

const [directory, ...settings] = process.argv.slice(2);
if (!directory) {
  process.stderr.write('usage: pglite-init <directory> [name=value ...]\n');
  process.exit(2);
}
const startParams = settings.length ? [...PGlite.defaultStartParams, ...settings.flatMap((setting) => ['-c', setting])] : undefined;
try {
  const pg = await PGlite.create({ dataDir: directory, ...(startParams ? { startParams } : {}) });
  await pg.close();
  process.exit(0);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
