// Client quota rules (src/broker/quotas.ts): Kafka's precedence of quota entities, the windowed rate and its throttle
// time, and AlterClientQuotas validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientQuotaEntry, entityProblem, QuotaRates, quotaOpProblem, resolveQuota } from '../../../src/broker/quotas';

const u = (name: string | null) => ({ entityType: 'user', entityName: name });
const c = (name: string | null) => ({ entityType: 'client-id', entityName: name });
const entry = (entity: ClientQuotaEntry['entity'], value: number): ClientQuotaEntry => ({ entity, values: { producer_byte_rate: value } });

test("Kafka's precedence: user+client, user+default client, user, default user+client, default user+default client, default user, client, default client", () => {
  const all = [entry([c(null)], 8), entry([c('app')], 7), entry([u(null)], 6), entry([u(null), c(null)], 5), entry([u(null), c('app')], 4), entry([u('alice')], 3), entry([u('alice'), c(null)], 2), entry([c('app'), u('alice')], 1)];
  for (let expected = 1; expected <= 8; expected++) {
    const entries = all.filter((e) => e.values.producer_byte_rate >= expected);
    assert.equal(resolveQuota(entries, 'alice', 'app', 'producer_byte_rate')?.value, expected);
  }
  assert.equal(resolveQuota([entry([u('bob')], 1)], 'alice', 'app', 'producer_byte_rate'), undefined, 'another user: unlimited');
  assert.equal(resolveQuota([entry([u('alice')], 1)], 'alice', 'app', 'consumer_byte_rate'), undefined, 'another key: unlimited');
  // A default entity limits each client on its own.
  const d = [entry([c(null)], 100)];
  assert.notEqual(resolveQuota(d, 'ANONYMOUS', 'a', 'producer_byte_rate')!.entity, resolveQuota(d, 'ANONYMOUS', 'b', 'producer_byte_rate')!.entity);
});

test('the rate over the window and the throttle time (rate - quota) / quota * window, capped at the whole window', () => {
  let now = 100_000;
  const rates = new QuotaRates(11, 1000, () => now);
  assert.equal(rates.recordAndThrottle('e', 5000, 1000), 0, '5000 B over the minimum 10 s window is 500 B/s');
  now += 100;
  // 15000 B over 10 s = 1500 B/s against 1000: (1500 - 1000) / 1000 * 10 s = 5 s.
  assert.equal(rates.recordAndThrottle('e', 10_000, 1000), 5000);
  assert.equal(rates.recordAndThrottle('e', 1_000_000, 1000), 11_000, 'capped at quota.window.num x quota.window.size');
  now += 12_000;
  assert.equal(rates.recordAndThrottle('e', 100, 1000), 0, 'old samples age out');
  assert.equal(rates.recordAndThrottle('other', 100, 1000), 0, 'entities are measured apart');
});

test("AlterClientQuotas validation: Kafka's INVALID_REQUEST cases", () => {
  assert.match(entityProblem([])!, /empty/);
  assert.match(entityProblem([u('a'), u('b')])!, /Duplicate/);
  assert.match(entityProblem([{ entityType: 'group', entityName: 'g' }])!, /Unhandled/);
  assert.match(entityProblem([{ entityType: 'ip', entityName: '1.2.3.4' }, u('a')])!, /IP entity/);
  assert.equal(entityProblem([u('a'), c(null)]), undefined);
  assert.match(quotaOpProblem([c('x')], 'connection_creation_rate', 5, false)!, /Invalid configuration key/);
  assert.match(quotaOpProblem([c('x')], 'producer_byte_rate', 1.5, false)!, /whole number/);
  assert.match(quotaOpProblem([c('x')], 'producer_byte_rate', 0, false)!, /positive/);
  assert.equal(quotaOpProblem([c('x')], 'request_percentage', 12.5, false), undefined);
  assert.equal(quotaOpProblem([{ entityType: 'ip', entityName: null }], 'connection_creation_rate', 10, false), undefined);
});
