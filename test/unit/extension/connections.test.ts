import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { connectionOptions, newConnectionId, parseSavedConnections, securitySummary, validateBootstrapServers } from '../../../src/extension/model/connections';
import { tempDir } from '../../helpers/broker';

describe('saved connections', () => {
  it('reads the setting, dropping unusable entries with a reason', () => {
    const { connections, problems } = parseSavedConnections([
      { id: 'conn-a', name: 'A', bootstrapServers: 'a:9092', sasl: { mechanism: 'scram-sha-256', username: 'u' } },
      { name: 'no servers' },
      { id: 'conn-a', name: 'dup', bootstrapServers: 'b:1' },
      { name: 'B', bootstrapServers: 'b:9092', sasl: { mechanism: 'kerberos', username: 'x' }, tls: { enabled: true } },
    ]);
    assert.deepEqual(
      connections.map((c) => c.id),
      ['conn-a', 'conn-b'],
    );
    assert.equal(connections[1].sasl, undefined, 'unknown mechanism dropped');
    assert.equal(problems.length, 2);
    assert.match(problems[0], /needs a name and bootstrapServers/);
    assert.match(problems[1], /duplicate id conn-a/);
  });

  it('makes unique ids from names', () => {
    assert.equal(newConnectionId([], 'Prod (EU)'), 'conn-prod-eu');
    assert.equal(newConnectionId([{ id: 'conn-prod-eu', name: 'x', bootstrapServers: 'h:1' }], 'Prod EU'), 'conn-prod-eu-2');
  });

  it('validates bootstrap servers', () => {
    assert.equal(validateBootstrapServers('a:1, b:2'), undefined);
    assert.match(validateBootstrapServers('localhost')!, /expected host:port/);
  });

  it('builds client options with the secret, and says what is missing', async () => {
    const dir = tempDir('minikafka-conn-');
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const c = { id: 'c', name: 'Secure', bootstrapServers: 'h:9093', sasl: { mechanism: 'plain' as const, username: 'alice' }, tls: { enabled: true, caFile: ca, skipVerify: true } };
    const opts = await connectionOptions(c, 'pw');
    assert.deepEqual(opts.sasl, { mechanism: 'plain', username: 'alice', password: 'pw' });
    assert.deepEqual(opts.ssl, { ca: '-----BEGIN CERTIFICATE-----\n', rejectUnauthorized: false });
    await assert.rejects(connectionOptions(c, undefined), /no password stored for connection 'Secure'/);
    await assert.rejects(connectionOptions({ ...c, tls: { enabled: true, certFile: join(dir, 'missing.pem') } }, 'pw'), /cannot read the client certificate file .*missing\.pem: ENOENT/);
    assert.equal((await connectionOptions({ id: 'p', name: 'P', bootstrapServers: 'h:1', tls: { enabled: true } }, undefined)).ssl, true);
    assert.equal(securitySummary(c), 'SASL PLAIN as alice · TLS (custom CA, verification off)');
    rmSync(dir, { recursive: true, force: true });
  });
});
