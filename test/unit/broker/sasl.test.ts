// SASL on the broker: the mechanisms against their RFC test vectors and edge cases, then the listener rules on a
// real socket (what is served before authentication, v0 raw-token framing, v1/v2 SaslAuthenticate, failures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect, Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { deriveCredentials, SaslServerConfig, scramCredential, startExchange } from '../../../src/broker/security/sasl';
import { SaslSession } from '../../../src/broker/security/saslSession';
import { startSingleNode, SingleNode } from '../../../src/broker/singleNode';
import { WireClient } from '../../../src/broker/wireClient';
import { ApiVersions, Metadata, SaslAuthenticate, SaslHandshake } from '../../../src/protocol/apis';
import { ErrorCode } from '../../../src/protocol/errorCode';
import { FrameDecoder, responseHeaderIsFlexible, skipTaggedFields, writeRequestHeader } from '../../../src/protocol/frame';
import { Reader } from '../../../src/protocol/primitives/reader';
import { Writer } from '../../../src/protocol/primitives/writer';
import { AnyApiDef, ctxFor } from '../../../src/protocol/schema';
import { tempDir } from '../../helpers/broker';

const SECRET = randomBytes(32);

function configWith(users: Array<{ name: string; password: string }>, mechanisms: SaslServerConfig['mechanisms'] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']): SaslServerConfig {
  return { mechanisms, users: deriveCredentials(users) };
}

test('SCRAM-SHA-256 reproduces the RFC 7677 example exchange', async () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const cred256 = scramCredential('pencil', 'sha256', 4096, salt);
  const config: SaslServerConfig = { mechanisms: ['SCRAM-SHA-256'], users: { user: { 'SCRAM-SHA-256': cred256, 'SCRAM-SHA-512': scramCredential('pencil', 'sha512') } } };
  const ex = startExchange('SCRAM-SHA-256', config, SECRET, () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
  const first = await ex.evaluate(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
  assert.equal(first.kind, 'continue');
  assert.equal(first.kind === 'continue' && first.response.toString(), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
  const final = await ex.evaluate(Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
  assert.deepEqual(final.kind === 'done' && [final.user, final.response.toString()], ['user', 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=']);
});

/** A test-side SCRAM client (RFC 5802), to check both hashes and failures without any Kafka client. */
async function scramLogin(mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', config: SaslServerConfig, user: string, password: string) {
  const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
  const ex = startExchange(mechanism, config, SECRET);
  const cnonce = randomBytes(12).toString('base64');
  const bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${cnonce}`;
  const first = await ex.evaluate(Buffer.from(`n,,${bare}`));
  if (first.kind !== 'continue') return { first, final: undefined };
  const serverFirst = first.response.toString();
  const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(attrs.s, 'base64'), Number(attrs.i), hash === 'sha256' ? 32 : 64, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=biws,r=${attrs.r}`;
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const sig = createHmac(hash, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]));
  const final = await ex.evaluate(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
  const expectedServerSig = createHmac(hash, createHmac(hash, salted).update('Server Key').digest()).update(authMessage).digest('base64');
  return { first, final, attrs, expectedServerSig };
}

test('SCRAM-SHA-256/512: right password, wrong password, unknown user, escaped names', async () => {
  const config = configWith([{ name: 'alice', password: 'secret' }, { name: 'odd=,name', password: 'pw' }]);
  for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    const ok = await scramLogin(mech, config, 'alice', 'secret');
    assert.equal(ok.final?.kind, 'done', mech);
    assert.equal(ok.final?.kind === 'done' && ok.final.response.toString(), `v=${ok.expectedServerSig}`);
    assert.ok(Number(ok.attrs!.i) >= 4096);
    const bad = await scramLogin(mech, config, 'alice', 'wrong');
    assert.deepEqual(bad.final, { kind: 'failed', message: `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mech}` });
    // an unknown user gets a salt too and fails only at the proof, with the same words
    const unknown = await scramLogin(mech, config, 'mallory', 'secret');
    assert.equal(unknown.first.kind, 'continue');
    assert.deepEqual(unknown.final, bad.final);
    const again = await scramLogin(mech, config, 'mallory', 'x');
    assert.equal(again.attrs!.s, unknown.attrs!.s, 'the fake salt of an unknown user is stable');
    assert.equal((await scramLogin(mech, config, 'odd=,name', 'pw')).final?.kind, 'done');
  }
});

test('SCRAM refuses tampered exchanges and fewer than 4096 iterations', async () => {
  const config = configWith([{ name: 'alice', password: 'secret' }]);
  const ex = startExchange('SCRAM-SHA-256', config, SECRET);
  const first = await ex.evaluate(Buffer.from('n,,n=alice,r=abc'));
  assert.equal(first.kind, 'continue');
  const step = await ex.evaluate(Buffer.from('c=biws,r=someone-else,p=AAAA'));
  assert.deepEqual(step, { kind: 'failed', message: 'Invalid SCRAM client final message: nonce mismatch' });
  assert.equal((await startExchange('SCRAM-SHA-256', config, SECRET).evaluate(Buffer.from('p=tls-unique,,n=alice,r=abc'))).kind, 'failed');
  assert.throws(() => deriveCredentials([{ name: 'a', password: 'b' }], 1000), /at least 4096/);
});

test('PLAIN: right and wrong passwords, authorization id rules', async () => {
  const config = configWith([{ name: 'alice', password: 'secret' }]);
  const plain = (token: string) => startExchange('PLAIN', config, SECRET).evaluate(Buffer.from(token));
  assert.deepEqual(await plain('\0alice\0secret'), { kind: 'done', response: Buffer.alloc(0), user: 'alice' });
  assert.deepEqual(await plain('alice\0alice\0secret'), { kind: 'done', response: Buffer.alloc(0), user: 'alice' });
  assert.deepEqual(await plain('\0alice\0nope'), { kind: 'failed', message: 'Authentication failed: Invalid username or password' });
  assert.deepEqual(await plain('\0bob\0secret'), { kind: 'failed', message: 'Authentication failed: Invalid username or password' });
  assert.equal((await plain('admin\0alice\0secret')).kind, 'failed');
  assert.equal((await plain('alice-secret')).kind, 'failed');
});

test('a SASL session serves only ApiVersions and SaslHandshake, then only SaslAuthenticate, until authenticated', async () => {
  const s = new SaslSession(configWith([{ name: 'alice', password: 'secret' }], ['PLAIN']), SECRET);
  assert.ok(s.allows(ApiVersions.key) && s.allows(SaslHandshake.key));
  assert.ok(!s.allows(Metadata.key) && !s.allows(SaslAuthenticate.key));
  assert.equal(s.handshake('PLAIN', 1), ErrorCode.NONE);
  assert.ok(s.allows(SaslAuthenticate.key) && !s.allows(ApiVersions.key) && !s.allows(Metadata.key));
  assert.equal((await s.evaluate(Buffer.from('\0alice\0secret'))).kind, 'done');
  assert.ok(s.authenticated && s.allows(Metadata.key));
  const other = new SaslSession(configWith([{ name: 'alice', password: 'secret' }], ['PLAIN']), SECRET);
  assert.equal(other.handshake('SCRAM-SHA-256', 1), ErrorCode.UNSUPPORTED_SASL_MECHANISM);
});

// ---------------------------------------------------------------------------------------------------- on a socket

/** A bare socket speaking frames, for the raw-token (v0 handshake) path that no request/response client covers. */
class RawConn {
  private readonly decoder = new FrameDecoder(1 << 20);
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | undefined;
  closed = false;
  private nextId = 1;
  constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.frames.push(...this.decoder.push(d));
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => {});
  }
  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }
  request(def: AnyApiDef, version: number, body: unknown): void {
    const ctx = ctxFor(def, version);
    const w = new Writer(128);
    w.int32(0);
    writeRequestHeader(w, { apiKey: def.key, apiVersion: version, correlationId: this.nextId++, clientId: 'raw' }, ctx.flexible);
    def.request.write(w, body, ctx);
    const buf = Buffer.concat(w.toChunks());
    buf.writeInt32BE(buf.length - 4, 0);
    this.socket.write(buf);
  }
  token(bytes: Buffer): void {
    const size = Buffer.alloc(4);
    size.writeInt32BE(bytes.length, 0);
    this.socket.write(Buffer.concat([size, bytes]));
  }
  /** The next frame, or null if the connection closed first. */
  async next(timeoutMs = 3000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0 && !this.closed) {
      if (Date.now() > deadline) throw new Error('no frame within timeout');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.frames.shift() ?? null;
  }
  close(): void {
    this.socket.destroy();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function decode(def: AnyApiDef, version: number, frame: Buffer): any {
  const r = new Reader(frame);
  r.int32(); // correlation id
  const ctx = ctxFor(def, version);
  if (responseHeaderIsFlexible(def.key, ctx.flexible)) skipTaggedFields(r);
  return def.response.read(r, ctx);
}

test('the listener: only ApiVersions/SaslHandshake before authentication, v0 raw tokens, v2 SaslAuthenticate, failures close', async (t) => {
  const dir = tempDir();
  let node: SingleNode | undefined;
  t.after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  node = await startSingleNode({ dir, port: 0, security: { sasl: configWith([{ name: 'alice', password: 'secret' }]) } });
  const port = node.broker.port;
  const metadataReq = { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };

  // ApiVersions is served before authentication and lists the SASL APIs; Metadata closes the connection.
  let c = await RawConn.open(port);
  c.request(ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
  const versions = decode(ApiVersions, 3, (await c.next())!);
  assert.ok(versions.apiKeys.some((k: { apiKey: number }) => k.apiKey === SaslHandshake.key));
  assert.ok(versions.apiKeys.some((k: { apiKey: number; maxVersion: number }) => k.apiKey === SaslAuthenticate.key && k.maxVersion === 2));
  c.request(Metadata, 9, metadataReq);
  assert.equal(await c.next(), null, 'Metadata before authentication closes the connection');

  // v0 handshake: raw PLAIN token, raw (empty) answer, then normal requests.
  c = await RawConn.open(port);
  c.request(SaslHandshake, 0, { mechanism: 'PLAIN' });
  const hs = decode(SaslHandshake, 0, (await c.next())!);
  assert.deepEqual(hs, { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] });
  c.token(Buffer.from('\0alice\0secret'));
  assert.deepEqual(await c.next(), Buffer.alloc(0));
  c.request(Metadata, 9, metadataReq);
  const md = decode(Metadata, 9, (await c.next())!);
  assert.equal(md.brokers[0].port, port);
  c.close();

  // v0 with a wrong password: the connection is closed (the raw framing cannot carry an error).
  c = await RawConn.open(port);
  c.request(SaslHandshake, 0, { mechanism: 'PLAIN' });
  await c.next();
  c.token(Buffer.from('\0alice\0wrong'));
  assert.equal(await c.next(), null);

  // v1 handshake with a disabled mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list, then closed.
  c = await RawConn.open(port);
  c.request(SaslHandshake, 1, { mechanism: 'GSSAPI' });
  assert.deepEqual(decode(SaslHandshake, 1, (await c.next())!), { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] });
  assert.equal(await c.next(), null);

  // v1 handshake + SaslAuthenticate v2 (flexible) with a wrong password: error 58 with Kafka's words, then closed.
  c = await RawConn.open(port);
  c.request(SaslHandshake, 1, { mechanism: 'PLAIN' });
  await c.next();
  c.request(SaslAuthenticate, 2, { authBytes: Buffer.from('\0alice\0wrong') });
  const failed = decode(SaslAuthenticate, 2, (await c.next())!);
  assert.equal(failed.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
  assert.equal(failed.errorMessage, 'Authentication failed: Invalid username or password');
  assert.equal(await c.next(), null);

  // Our own client (the replica fetcher's) authenticates with v1 and can then send anything.
  const w = new WireClient('127.0.0.1', port, 'wire');
  await w.connect();
  await w.authenticatePlain('alice', 'secret');
  const again = await w.request(Metadata, 9, metadataReq);
  assert.equal(again.brokers.length, 1);
  const second = await w.request(SaslHandshake, 1, { mechanism: 'PLAIN' });
  assert.equal(second.errorCode, ErrorCode.ILLEGAL_SASL_STATE, 'a second handshake after authentication');
  w.close();
});

test('a listener without SASL answers the SASL APIs with ILLEGAL_SASL_STATE', async (t) => {
  const dir = tempDir();
  const node = await startSingleNode({ dir, port: 0 });
  t.after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const w = new WireClient('127.0.0.1', node.broker.port, 'wire');
  await w.connect();
  assert.equal((await w.request(SaslHandshake, 1, { mechanism: 'PLAIN' })).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
  await assert.rejects(w.authenticatePlain('a', 'b'), /ILLEGAL_SASL_STATE/);
  w.close();
});
