import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('bigbrotr CLI usage', () => {
  it('--help lists every command', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['migrate', 'seed', 'stats', 'config', 'run'])
      expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('every command has --help', async () => {
    for (const command of [['migrate'], ['seed'], ['stats'], ['config', 'check'], ['config', 'show'], ['run']]) {
      const result = await runCli([...command, '--help']);
      expect(result.code, command.join(' ')).toBe(0);
      expect(result.stdout).toContain(`Usage: bigbrotr ${command.join(' ')}`);
    }
  });

  it('an unknown command or option is exit 2', async () => {
    const unknownCommand = await runCli(['frobnicate']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'frobnicate'");
    const unknownOption = await runCli(['stats', '--bogus']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("unknown option '--bogus'");
  });

  it('config check lists every problem and exits 2', async () => {
    const result = await runCli(['config', 'check'], { BIGBROTR_VERIFY__WORKERS: 'abc', BIGBROTR_HTTP__PORT: '70000' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('verify.workers: expected a non-negative integer (threads), got "abc"');
    expect(result.stderr).toContain('http.port: expected a TCP port (0-65535), got 70000');
  });

  it('config check passes on defaults and config show redacts the database password', async () => {
    const check = await runCli(['config', 'check']);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('configuration is valid');
    const show = await runCli(['config', 'show', '--json'], { BIGBROTR_DATABASE_URL: 'postgres://u:show-pw-5150@db.host/x' });
    expect(show.code).toBe(0);
    const shown = JSON.parse(show.stdout) as { database: { url: string } };
    expect(shown.database.url).toBe('postgres://u:[REDACTED]@db.host/x');
    expect(show.stdout + show.stderr).not.toContain('show-pw-5150');
  });
});
