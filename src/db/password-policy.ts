/**
 * Start-up check of the PostgreSQL password: a database reached over the network (any host other than
 * 127.0.0.0/8, ::1, localhost or a unix socket) must have a password of at least 16 characters that is
 * not a well-known weak value. The error names the option (`database.url`, `api.database_url`) and the
 * host, never the password.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../config/errors.js';

export const MIN_PASSWORD_LENGTH = 16;

/** Passwords (and password fragments) found in every default-credentials list. */
const WEAK_WORDS = [
  'postgres',
  'postgresql',
  'password',
  'passwort',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword',
  'pass',
  'changeme',
  'change_me',
  'changeit',
  'admin',
  'administrator',
  'secret',
  'root',
  'toor',
  'qwerty',
  'qwertz',
  'azerty',
  'letmein',
  'welcome',
  'default',
  'test',
  'testing',
  'guest',
  'master',
  'login',
  'dragon',
  'monkey',
  'iloveyou',
  'trustno1',
  'abc123',
  'bigbrotr',
  'nostr',
  'database',
  'example',
  'user',
  'demo',
];
/** Runs of keys or digits: a password made of them is guessed at once. */
const SEQUENCES = [
  '01234567890123456789',
  '98765432109876543210',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiopasdfghjklyxcvbnm',
  'azertyuiopqsdfghjklmwxcvbn',
  '1qaz2wsx3edc4rfv5tgb6yhn',
];

export interface DatabaseTarget {
  host: string;
  local: boolean;
  user: string;
  password: string | undefined;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Loopback addresses, `localhost`, unix socket paths and an absent host (libpq's default: a local socket). */
export function isLocalHost(rawHost: string): boolean {
  const host = stripBrackets(rawHost.trim()).toLowerCase();
  if (host === '' || host.startsWith('/') || host === 'localhost' || host.endsWith('.localhost')) return true;
  const mapped = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  if (isIP(mapped) === 4) return mapped.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(host) || host === '0:0:0:0:0:0:0:1';
  return false;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Host, user and password node-postgres would use for `url` (URL first, then PG* env vars); undefined if it does not parse. */
export function databaseTarget(url: string, env: NodeJS.ProcessEnv = process.env): DatabaseTarget | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const query = parsed.searchParams;
  const host = query.get('host') ?? (decode(parsed.hostname) || env.PGHOST || '');
  const local = parsed.protocol === 'socket:' || host.split(',').every((one) => isLocalHost(one));
  const user = decode(parsed.username) || query.get('user') || env.PGUSER || '';
  const password = decode(parsed.password) || query.get('password') || env.PGPASSWORD || undefined;
  return { host, local, user, password };
}

function isRepetition(text: string): boolean {
  for (let unit = 1; unit <= Math.min(8, text.length / 2); unit += 1) {
    const head = text.slice(0, unit);
    if (head.repeat(Math.ceil(text.length / unit)).slice(0, text.length) === text) return true;
  }
  return false;
}

function isSequence(text: string): boolean {
  return text.length > 0 && SEQUENCES.some((sequence) => sequence.includes(text) || [...sequence].reverse().join('').includes(text));
}

/** Why `password` is too weak for a network connection, or undefined when it is acceptable. */
export function passwordWeakness(password: string | undefined, user = ''): string | undefined {
  if (password === undefined || password === '') return 'it has no password';
  if (password.length < MIN_PASSWORD_LENGTH) return `the password is shorter than ${MIN_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  const name = user.toLowerCase();
  if (name !== '' && lower === name) return 'the password is the user name';
  if (WEAK_WORDS.includes(lower)) return 'the password is a well-known default';
  if (new Set(lower).size < 6) return 'the password has fewer than 6 different characters';
  if (isRepetition(lower) || isSequence(lower)) return 'the password is a repetition or a keyboard sequence';
  // Known words (and the user name) padded with digits, symbols, sequences or repetitions.
  let rest = lower;
  for (const word of [...WEAK_WORDS, ...(name.length >= 3 ? [name] : [])].sort((a, b) => b.length - a.length))
    rest = rest.split(word).join(' ');
  if (rest !== lower) {
    const padding = rest.replace(/[^a-z0-9]/g, '');
    if (padding.length < 8 || isRepetition(padding) || isSequence(padding) || /^\d+$/.test(padding))
      return 'the password is a well-known word or the user name with a little padding';
  }
  return undefined;
}

/**
 * Refuses a weak password for a PostgreSQL server that is not on this machine. Throws a ConfigError
 * naming `field` (`database.url`, or `api.database_url` for the read replica; exit code 2); the
 * password itself is never part of the message.
 */
export function checkDatabasePassword(url: string | undefined, env: NodeJS.ProcessEnv = process.env, field = 'database.url'): void {
  if (!url) return;
  const target = databaseTarget(url, env);
  if (!target || target.local) return;
  const weakness = passwordWeakness(target.password, target.user);
  if (!weakness) return;
  throw new ConfigError([
    {
      path: field,
      message: weakRemotePasswordMessage(target.host, weakness, field),
    },
  ]);
}

/** The refusal of a weak password to a server on the network, saying what a strong one is and how to make one. */
function weakRemotePasswordMessage(host: string, weakness: string, field: string): string {
  return (
    `refusing to connect to PostgreSQL on ${host} over the network: ${weakness}. ` +
    'A server that is not on this machine (127.0.0.0/8, ::1, localhost, unix socket) needs a random password of at least ' +
    `${MIN_PASSWORD_LENGTH} characters that is neither a common default nor the user name ` +
    `(e.g. openssl rand -base64 24, URL-encoded in ${field})`
  );
}
