// Server side of SASL as Kafka brokers do it: PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, RFC 7677),
// with node:crypto only. Credentials are never kept as passwords: each user gets, per SCRAM hash, a random salt,
// an iteration count (>= 4096, Kafka's minimum) and the StoredKey/ServerKey derived from the salted password,
// computed once when the cluster starts. PLAIN is checked against the SCRAM-SHA-256 credential (the password is
// salted and hashed the same way and the keys compared), so a broker process never sees a clear password.
//
// One SaslSession per connection: a SaslHandshake names the mechanism, then each client token (carried by
// SaslAuthenticate, or raw after a v0 handshake) is evaluated in turn. Failures use Kafka's own messages.

import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type SaslMechanismName = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SASL_MECHANISMS: readonly SaslMechanismName[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Kafka's minimum for SCRAM (ScramMechanism.minIterations); clients refuse fewer. */
export const SCRAM_MIN_ITERATIONS = 4096;

type ScramHash = 'sha256' | 'sha512';
const HASH_OF: Record<'SCRAM-SHA-256' | 'SCRAM-SHA-512', ScramHash> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' };

/** What a broker stores for one user and one SCRAM hash (base64 fields: JSON-able, crosses IPC). */
export interface ScramCredential {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface UserCredentials {
  'SCRAM-SHA-256': ScramCredential;
  'SCRAM-SHA-512': ScramCredential;
}

/**
 * A SASL listener's configuration: the enabled mechanisms and the credentials of every user. A user may have a
 * credential for one SCRAM mechanism only (AlterUserScramCredentials sets them separately). `users` is read at each
 * authentication, so a broker can hand a getter over the metadata image: users added or deleted at run time count
 * for the next login.
 */
export interface SaslServerConfig {
  mechanisms: SaslMechanismName[];
  users: Record<string, Partial<UserCredentials>>;
}

/** SCRAM mechanisms by their KIP-554 wire codes (AlterUserScramCredentials, DescribeUserScramCredentials). */
export const SCRAM_MECHANISM_CODES: Record<number, ScramMechanismName> = { 1: 'SCRAM-SHA-256', 2: 'SCRAM-SHA-512' };

/** Kafka's bound on SCRAM iterations (ScramMechanism.maxIterations). */
export const SCRAM_MAX_ITERATIONS = 16384;

/** The stored credential for a salted password, as the client computed it (AlterUserScramCredentials upsertion). */
export function scramCredentialFromSaltedPassword(mechanism: ScramMechanismName, salt: Buffer, saltedPassword: Buffer, iterations: number): ScramCredential {
  const hash = HASH_OF[mechanism];
  const clientKey = hmac(hash, saltedPassword, 'Client Key');
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: createHash(hash).update(clientKey).digest('base64'),
    serverKey: hmac(hash, saltedPassword, 'Server Key').toString('base64'),
  };
}

/** The salted password for a password (what a client sends in an upsertion; the CLI does this before sending). */
export function saltPassword(mechanism: ScramMechanismName, password: string, salt: Buffer, iterations: number): Buffer {
  const hash = HASH_OF[mechanism];
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, hash === 'sha256' ? 32 : 64, hash);
}

export interface SaslUser {
  name: string;
  password: string;
}

/** Normalizes a mechanism name as given on a command line ("scram-sha-256") to Kafka's ("SCRAM-SHA-256"). */
export function parseSaslMechanism(name: string): SaslMechanismName {
  const upper = name.trim().toUpperCase();
  const found = SASL_MECHANISMS.find((m) => m === upper);
  if (!found) throw new Error(`unknown SASL mechanism "${name}": expected plain, scram-sha-256 or scram-sha-512`);
  return found;
}

export function scramCredential(password: string, hash: ScramHash, iterations = SCRAM_MIN_ITERATIONS, salt = randomBytes(32)): ScramCredential {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, hash === 'sha256' ? 32 : 64, hash);
  const clientKey = hmac(hash, salted, 'Client Key');
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: createHash(hash).update(clientKey).digest('base64'),
    serverKey: hmac(hash, salted, 'Server Key').toString('base64'),
  };
}

/** Salted credentials for every user (what `minikafka start --user name:password` computes at start). */
export function deriveCredentials(users: SaslUser[], iterations = SCRAM_MIN_ITERATIONS): Record<string, UserCredentials> {
  if (iterations < SCRAM_MIN_ITERATIONS) throw new Error(`SCRAM iterations must be at least ${SCRAM_MIN_ITERATIONS}`);
  const out: Record<string, UserCredentials> = {};
  for (const u of users) {
    out[u.name] = {
      'SCRAM-SHA-256': scramCredential(u.password, 'sha256', iterations),
      'SCRAM-SHA-512': scramCredential(u.password, 'sha512', iterations),
    };
  }
  return out;
}

function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash, key).update(data).digest();
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The outcome of evaluating one client token. */
export type SaslStep =
  | { kind: 'continue'; response: Buffer }
  | { kind: 'done'; response: Buffer; user: string }
  | { kind: 'failed'; message: string };

/** A SASL exchange in progress on one connection. */
export interface SaslExchange {
  readonly mechanism: SaslMechanismName;
  evaluate(token: Buffer): Promise<SaslStep>;
}

/** `serverNonce` makes the server's part of the SCRAM nonce predictable (RFC test vectors only). */
export function startExchange(mechanism: SaslMechanismName, config: SaslServerConfig, serverSecret: Buffer, serverNonce?: () => string): SaslExchange {
  return mechanism === 'PLAIN' ? new PlainExchange(config) : new ScramExchange(mechanism, config, serverSecret, serverNonce);
}

const PLAIN_FAILED = 'Authentication failed: Invalid username or password';

class PlainExchange implements SaslExchange {
  readonly mechanism = 'PLAIN' as const;
  private done = false;
  constructor(private readonly config: SaslServerConfig) {}

  async evaluate(token: Buffer): Promise<SaslStep> {
    if (this.done) return { kind: 'failed', message: 'Authentication failed: PLAIN expects a single message' };
    this.done = true;
    // message = [authzid] NUL authcid NUL passwd
    const parts = token.toString('utf8').split('\u0000');
    if (parts.length !== 3) return { kind: 'failed', message: 'Invalid SASL/PLAIN response: expected 3 tokens' };
    const [authzid, user, password] = parts;
    if (user === '') return { kind: 'failed', message: 'Authentication failed: username not specified' };
    if (password === '') return { kind: 'failed', message: 'Authentication failed: password not specified' };
    if (authzid !== '' && authzid !== user) {
      return { kind: 'failed', message: 'Authentication failed: Client requested an authorization id that is different from username' };
    }
    const cred = this.config.users[user]?.['SCRAM-SHA-256'];
    if (!cred) return { kind: 'failed', message: PLAIN_FAILED };
    const salted = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(Buffer.from(password, 'utf8'), Buffer.from(cred.salt, 'base64'), cred.iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
    );
    const storedKey = createHash('sha256').update(hmac('sha256', salted, 'Client Key')).digest();
    if (!sameBytes(storedKey, Buffer.from(cred.storedKey, 'base64'))) return { kind: 'failed', message: PLAIN_FAILED };
    return { kind: 'done', response: Buffer.alloc(0), user };
  }
}

/** RFC 5802 saslname: '=2C' and '=3D' escape ',' and '='; any other '=' is malformed. */
function unescapeSaslName(name: string): string | undefined {
  if (/=(?!2C|3D)/.test(name)) return undefined;
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const m = /^([a-zA-Z])=(.*)$/s.exec(part);
    if (m && !out.has(m[1])) out.set(m[1], m[2]);
  }
  return out;
}

class ScramExchange implements SaslExchange {
  private state: 'first' | 'final' | 'over' = 'first';
  private readonly hash: ScramHash;
  private user = '';
  private known = false;
  private cred: ScramCredential | undefined;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';

  constructor(
    readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
    private readonly config: SaslServerConfig,
    private readonly serverSecret: Buffer,
    private readonly serverNonce: () => string = () => randomBytes(18).toString('base64url'),
  ) {
    this.hash = HASH_OF[mechanism];
  }

  private get invalidCredentials(): string {
    return `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`;
  }

  async evaluate(token: Buffer): Promise<SaslStep> {
    if (this.state === 'first') return this.first(token.toString('utf8'));
    if (this.state === 'final') return this.final(token.toString('utf8'));
    return { kind: 'failed', message: `Authentication failed: unexpected ${this.mechanism} message after the exchange ended` };
  }

  private fail(message: string): SaslStep {
    this.state = 'over';
    return { kind: 'failed', message };
  }

  private first(message: string): SaslStep {
    // client-first-message = gs2-header client-first-message-bare; gs2-header = ("n" / "y") "," [authzid] ","
    const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(message);
    if (!m) return this.fail('Invalid SCRAM client first message: bad or unsupported GS2 header (channel binding is not supported)');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3];
    const attrs = attributes(this.clientFirstBare);
    const rawUser = attrs.get('n');
    const clientNonce = attrs.get('r');
    if (this.clientFirstBare.startsWith('m=')) return this.fail('Invalid SCRAM client first message: mandatory extensions are not supported');
    if (rawUser === undefined || clientNonce === undefined || clientNonce === '') return this.fail('Invalid SCRAM client first message: username and nonce are required');
    const user = unescapeSaslName(rawUser);
    if (user === undefined) return this.fail('Invalid SCRAM client first message: malformed username');
    const authzid = m[2]?.slice(2);
    if (authzid && unescapeSaslName(authzid) !== user) return this.fail('Authentication failed: Invalid authorization id');
    this.user = user;
    this.cred = this.config.users[user]?.[this.mechanism];
    this.known = this.cred !== undefined;
    // An unknown user gets a stable fake salt and fails only at the proof, so names cannot be probed.
    const salt = this.cred?.salt ?? hmac(this.hash, this.serverSecret, `salt:${user}`).toString('base64');
    const iterations = this.cred?.iterations ?? SCRAM_MIN_ITERATIONS;
    this.nonce = clientNonce + this.serverNonce();
    this.serverFirst = `r=${this.nonce},s=${salt},i=${iterations}`;
    this.state = 'final';
    return { kind: 'continue', response: Buffer.from(this.serverFirst, 'utf8') };
  }

  private final(message: string): SaslStep {
    this.state = 'over';
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) return this.fail('Invalid SCRAM client final message: no proof');
    const withoutProof = message.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    if (attrs.get('c') !== Buffer.from(this.gs2Header, 'utf8').toString('base64')) return this.fail('Invalid SCRAM client final message: channel binding mismatch');
    // endsWith, as Kafka's ScramSaslServer checks: librdkafka (at least to 2.x) sends r=<client nonce><server nonce>,
    // repeating its own nonce in front of the server's combined one.
    if (!(attrs.get('r') ?? '').endsWith(this.nonce)) return this.fail('Invalid SCRAM client final message: nonce mismatch');
    if (!this.known || !this.cred) return this.fail(this.invalidCredentials);
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(this.cred.storedKey, 'base64');
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    if (proof.length !== clientSignature.length) return this.fail(this.invalidCredentials);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    if (!sameBytes(createHash(this.hash).update(clientKey).digest(), storedKey)) return this.fail(this.invalidCredentials);
    const serverSignature = hmac(this.hash, Buffer.from(this.cred.serverKey, 'base64'), authMessage);
    return { kind: 'done', response: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), user: this.user };
  }
}
