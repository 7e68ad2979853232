// Input validation for the commands, with Kafka's own rules, so bad input is caught in the input box before a
// request is sent. Each validator returns the problem in words, or undefined when the value is fine. vscode-free.

/** Kafka's Topic.validate: legal characters, length, and the two reserved names. */
export const MAX_TOPIC_NAME_LENGTH = 249;

export function validateTopicName(name: string, existing: readonly string[] = []): string | undefined {
  if (name.length === 0) return 'the topic name is empty';
  if (name === '.' || name === '..') return `the topic name cannot be "${name}"`;
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `the topic name is ${name.length} characters long; the maximum is ${MAX_TOPIC_NAME_LENGTH}`;
  const bad = [...new Set(name.replace(/[a-zA-Z0-9._-]/g, ''))];
  if (bad.length > 0) return `the topic name contains ${bad.map((c) => JSON.stringify(c)).join(', ')}: only ASCII letters, digits, '.', '_' and '-' are allowed`;
  if (existing.includes(name)) return `topic '${name}' already exists`;
  const collides = existing.find((t) => t !== name && t.replace(/\./g, '_') === name.replace(/\./g, '_'));
  if (collides) return `'${name}' collides with the existing topic '${collides}' ('.' and '_' are the same in metric names)`;
  return undefined;
}

function parseWhole(value: string): number | undefined {
  const v = value.trim();
  if (!/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function validatePartitions(value: string): string | undefined {
  const n = parseWhole(value);
  if (n === undefined) return 'the partition count must be a whole number';
  if (n < 1) return 'a topic needs at least 1 partition';
  if (n > 100000) return 'that is more partitions than a cluster should hold (at most 100000)';
  return undefined;
}

export function validateReplicationFactor(value: string, liveBrokers: number | undefined): string | undefined {
  const n = parseWhole(value);
  if (n === undefined) return 'the replication factor must be a whole number';
  if (n < 1) return 'the replication factor must be at least 1';
  if (n > 32767) return 'the replication factor must be at most 32767';
  if (liveBrokers !== undefined && n > liveBrokers) {
    return `the replication factor ${n} is larger than the number of live brokers (${liveBrokers})`;
  }
  return undefined;
}

/** `k=v` pairs separated by commas or newlines; empty is fine (no overrides). */
export function parseConfigs(value: string): { configs: Record<string, string>; error?: string } {
  const configs: Record<string, string> = {};
  for (const item of value.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { configs, error: `"${item}" is not key=value` };
    const key = item.slice(0, eq).trim();
    if (!/^[a-z0-9._-]+$/i.test(key)) return { configs, error: `"${key}" is not a config name` };
    if (key in configs) return { configs, error: `${key} is given twice` };
    configs[key] = item.slice(eq + 1).trim();
  }
  return { configs };
}

export function validateConfigs(value: string): string | undefined {
  return parseConfigs(value).error;
}

/** A broker id list such as "1,2,3" (spaces allowed): distinct, and known when `known` is given. */
export function parseBrokerList(value: string, known?: readonly number[]): { ids: number[]; error?: string } {
  const parts = value.split(/[,\s]+/).filter(Boolean);
  if (parts.length === 0) return { ids: [], error: 'give at least one broker id, e.g. 1,2,3' };
  const ids: number[] = [];
  for (const p of parts) {
    const n = parseWhole(p);
    if (n === undefined) return { ids, error: `"${p}" is not a broker id` };
    if (ids.includes(n)) return { ids, error: `broker ${n} is listed twice` };
    if (known && !known.includes(n)) return { ids, error: `there is no broker ${n} (brokers: ${known.join(', ')})` };
    ids.push(n);
  }
  return { ids };
}

/** An offset for resetGroupOffsets: a non-negative integer (kept as a string: offsets are int64). */
export function validateOffset(value: string): string | undefined {
  const v = value.trim();
  if (!/^\d+$/.test(v)) return 'the offset must be a whole number ≥ 0';
  if (BigInt(v) > 9223372036854775807n) return 'the offset is larger than a Kafka offset can be';
  return undefined;
}

/** A timestamp for resetGroupOffsets: ISO 8601 date/time or epoch milliseconds. */
export function parseTimestamp(value: string): { ms?: number; error?: string } {
  const v = value.trim();
  if (/^\d+$/.test(v)) return { ms: Number(v) };
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return { error: 'give an ISO date/time such as 2024-05-01T12:00:00Z, or epoch milliseconds' };
  return { ms };
}
