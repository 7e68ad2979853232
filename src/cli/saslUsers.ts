// SASL users for `minikafka start`, from three places so that passwords need not be on the command line (where
// `ps` shows them to every user of the machine):
//   --user name:password      repeatable; for throwaway setups
//   --user-file F             one name:password per line; # comments and blank lines are ignored
//   MINIKAFKA_USERS           name:password,name2:password2 (passwords without commas)
// All three are combined. A name given in more than one place takes the password of the most explicit one:
// --user over --user-file over MINIKAFKA_USERS. Error messages never repeat a password.

import { readFileSync, statSync } from 'node:fs';
import { describeStorageError } from '../broker/storageFaults';
import type { SaslUser } from '../broker/security/sasl';
import { CliError, UsageError } from './errors';

export const USERS_ENV = 'MINIKAFKA_USERS';

/** `name:password` split at the first colon; null when either side is empty. */
function splitUser(entry: string): SaslUser | null {
  const colon = entry.indexOf(':');
  if (colon <= 0 || colon === entry.length - 1) return null;
  return { name: entry.slice(0, colon), password: entry.slice(colon + 1) };
}

/** The entry as it may be shown in an error: the name, never the password. */
const redact = (entry: string) => (entry.includes(':') ? entry.replace(/:.*/, ':…') : entry);

export function parseUserArgs(entries: string[]): SaslUser[] {
  const users: SaslUser[] = [];
  for (const entry of entries) {
    const user = splitUser(entry);
    if (!user) throw new UsageError(`--user expects name:password, got ${redact(entry)}`);
    if (users.some((x) => x.name === user.name)) throw new UsageError(`--user ${user.name} given twice`);
    users.push(user);
  }
  return users;
}

export function parseUserFile(file: string): SaslUser[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read --user-file ${file}: ${describeStorageError(err)}`);
  }
  const users: SaslUser[] = [];
  text.split('\n').forEach((raw, i) => {
    // Only the line ending is removed: spaces may be part of a password.
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    const user = splitUser(line);
    if (!user) throw new UsageError(`--user-file ${file} line ${i + 1}: expected name:password, got ${redact(line)}`);
    if (users.some((x) => x.name === user.name)) throw new UsageError(`--user-file ${file} line ${i + 1}: user ${user.name} given twice`);
    users.push(user);
  });
  return users;
}

export function parseUsersEnv(value: string): SaslUser[] {
  const users: SaslUser[] = [];
  for (const entry of value.split(',')) {
    if (entry.trim() === '') continue;
    const user = splitUser(entry.trim());
    if (!user) throw new UsageError(`${USERS_ENV} expects name:password,name2:password2, got ${redact(entry.trim())}`);
    if (users.some((x) => x.name === user.name)) throw new UsageError(`${USERS_ENV}: user ${user.name} given twice`);
    users.push(user);
  }
  return users;
}

/** Combines the sources; earlier lists win for a name that appears in several (most explicit first). */
export function mergeUsers(...lists: SaslUser[][]): SaslUser[] {
  const byName = new Map<string, SaslUser>();
  for (const list of lists) for (const user of list) if (!byName.has(user.name)) byName.set(user.name, user);
  return [...byName.values()];
}

/** A warning when the user file can be read by others than its owner (as ssh does for its keys), else null. */
export function userFileModeWarning(file: string): string | null {
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) === 0) return null;
    return `${file} holds passwords and is readable by other users (mode ${mode.toString(8)}); chmod 600 ${file}`;
  } catch {
    return null;
  }
}
