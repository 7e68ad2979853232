// `minikafka users`: SCRAM users of a running cluster (KIP-554's DescribeUserScramCredentials and
// AlterUserScramCredentials, what `kafka-configs.sh --entity-type users --alter --add-config 'SCRAM-SHA-256=[...]'`
// sends). Changes reach every broker at once: an added user can log in on its next connection, a deleted one cannot.
//   users list                                           USER MECHANISM ITERATIONS
//   users add <name> --mechanism M --password P          one mechanism per call (each has its own salt and password)
//   users delete <name> [--mechanism M]                  one mechanism, or every one the user has
// The connection options are those of the other client commands, except that the connecting (admin) user's
// password is --admin-password (or MINIKAFKA_PASSWORD): --password is the new user's.

import { Command } from 'commander';
import { ClusterAdmin, SCRAM_MECHANISMS, ScramMechanism } from '../client/admin';
import { connectionFromFlags, formatTable, parseInteger, runClientCommand, ServerFlags, withAdmin, writeOut } from './common';
import { UsageError } from './errors';

/** The new user's password may come from the environment instead of the command line (where `ps` shows it). */
export const USER_PASSWORD_ENV = 'MINIKAFKA_USER_PASSWORD';

interface UsersFlags extends ServerFlags {
  adminPassword?: string;
  mechanism?: string;
  iterations?: string;
}

function withConnectionOptions(command: Command): Command {
  return command
    .option('--bootstrap-server <servers>', 'broker(s) to connect to: host:port[,host:port]')
    .option('--tls', 'connect with TLS')
    .option('--ca-file <file>', 'PEM file of the CA to trust (implies --tls)')
    .option('--insecure', 'accept any server certificate (implies --tls; for test clusters only)')
    .option('--sasl-mechanism <mechanism>', 'authenticate with SASL: plain, scram-sha-256 or scram-sha-512')
    .option('--username <name>', 'SASL username to connect as')
    .option('--admin-password <password>', 'SASL password of --username (or set MINIKAFKA_PASSWORD)');
}

function mechanismOf(value: string): ScramMechanism {
  const upper = value.trim().toUpperCase() as ScramMechanism;
  if (!(upper in SCRAM_MECHANISMS)) throw new UsageError(`invalid --mechanism '${value}': expected scram-sha-256 or scram-sha-512`);
  return upper;
}

async function run(flags: UsersFlags, body: (admin: ClusterAdmin) => Promise<void>): Promise<void> {
  const connection = await connectionFromFlags({ ...flags, password: flags.adminPassword });
  await runClientCommand(connection, () => withAdmin(connection, body));
}

export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('list, add and delete the SCRAM users of a running cluster');

  withConnectionOptions(users.command('list'))
    .description('every user with a SCRAM credential: mechanism and iterations (never a password)')
    .action(async (flags: UsersFlags) =>
      run(flags, async (admin) => {
        const rows = (await admin.describeScramUsers()).flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, String(c.iterations)]));
        await writeOut(formatTable(['USER', 'MECHANISM', 'ITERATIONS'], rows));
      }),
    );

  withConnectionOptions(users.command('add'))
    .description('add a user, or set its password for one mechanism')
    .argument('<name>', 'the user')
    .requiredOption('--mechanism <mechanism>', 'scram-sha-256 or scram-sha-512')
    .option('--password <password>', `the user's password (or set ${USER_PASSWORD_ENV})`)
    .option('--iterations <n>', 'SCRAM iterations, 4096 to 16384', '4096')
    .action(async (name: string, flags: UsersFlags & { password?: string }) => {
      const mechanism = mechanismOf(flags.mechanism!);
      const password = flags.password ?? process.env[USER_PASSWORD_ENV];
      if (!password) throw new UsageError(`users add needs --password (or ${USER_PASSWORD_ENV} in the environment)`);
      const iterations = parseInteger(flags.iterations ?? '4096', '--iterations', 4096, 16384);
      await run({ ...flags, password: undefined }, async (admin) => {
        await admin.upsertScramUser(name, mechanism, password, iterations);
        await writeOut(`${mechanism} credential of user ${name} set\n`);
      });
    });

  withConnectionOptions(users.command('delete'))
    .description("delete a user's credential for one mechanism, or all of them")
    .argument('<name>', 'the user')
    .option('--mechanism <mechanism>', 'scram-sha-256 or scram-sha-512 (default: every mechanism the user has)')
    .action(async (name: string, flags: UsersFlags) =>
      run(flags, async (admin) => {
        const mechanisms = flags.mechanism ? [mechanismOf(flags.mechanism)] : (await admin.describeScramUsers([name]))[0].credentials.map((c) => c.mechanism);
        for (const m of mechanisms) await admin.deleteScramUser(name, m);
        await writeOut(`${mechanisms.join(', ')} credential(s) of user ${name} deleted\n`);
      }),
    );
}
