import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { withDatabase } from '../with-database.js';
import { printJson, printLine } from '../output.js';
import { checkDatabaseName, checkRolePrefix, createRolesScript, DEFAULT_ROLE_PREFIX, grantRoles } from '../../db/roles.js';

export function registerRoles(program: Command, run: ActionRunner): void {
  program
    .command('roles')
    .description(
      'Least-privilege PostgreSQL roles (owner, writer, reader): print the SQL that creates them, or grant to them (docs/database.md)',
    )
    .option('--print', 'print the CREATE ROLE / CREATE DATABASE statements, with placeholders for the passwords (needs no database)')
    .option('--grant', 'grant the privileges to those of the three roles that exist (connected as the owner; migration 0009 does it once)')
    .option('--prefix <prefix>', 'role names are <prefix>_owner, <prefix>_writer and <prefix>_reader', DEFAULT_ROLE_PREFIX)
    .option('--database <name>', 'with --print: the database to create', 'bigbrotr')
    .option('--json', 'with --grant: print the result as JSON')
    .action((options: { print?: boolean; grant?: boolean; prefix: string; database: string; json?: boolean }) =>
      run(async () => {
        const prefixProblem = checkRolePrefix(options.prefix);
        if (prefixProblem) throw new UsageError(`--prefix: ${prefixProblem}`);
        if (options.print === options.grant) throw new UsageError('roles: give exactly one of --print and --grant');
        if (options.print) {
          const databaseProblem = checkDatabaseName(options.database);
          if (databaseProblem) throw new UsageError(`--database: ${databaseProblem}`);
          process.stdout.write(createRolesScript({ prefix: options.prefix, database: options.database }));
          return;
        }
        const context = buildContext(program.opts<GlobalOptions>());
        if (!context.loaded.config.database.url)
          throw new UsageError('roles --grant: needs PostgreSQL (database.url); the embedded database has no roles');
        await withDatabase(context, async (db) => {
          const granted = await grantRoles(db, options.prefix);
          if (options.json) printJson({ prefix: options.prefix, granted });
          else if (granted.length === 0)
            printLine(
              `none of ${options.prefix}_owner, ${options.prefix}_writer, ${options.prefix}_reader exists: ` +
                'nothing granted (create them with the statements of bigbrotr roles --print)',
            );
          else printLine(`granted privileges to ${granted.join(', ')}`);
        });
      }),
    );
}
