// `minikafka console-producer` and `minikafka console-consumer`: kafka-console-producer.sh and
// kafka-console-consumer.sh with their everyday options and line formats.

import { Command } from 'commander';
import { createInterface } from 'node:readline';
import { ConsumedRecord, openConsumer, RecordStream, StartPosition } from '../client/consumer';
import { Acks, CompressionName, OutgoingRecord, RecordProducer } from '../client/producer';
import { registerProjectCodecs } from './codecs';
import { addSecurityOptions, collect, connectionFromFlags, parseInteger, parseKeyValues, runClientCommand, ServerFlags, writeOut } from './common';
import { CliError, UsageError } from './errors';

export function registerConsoleCommands(program: Command): void {
  registerProducer(program);
  registerConsumer(program);
}

// ---------------------------------------------------------------------------------------------------------------
// console-producer

interface ProducerFlags extends ServerFlags {
  topic: string;
  property: string[];
  acks?: string;
  requestRequiredAcks?: string;
  compressionCodec?: string | true;
}

/** How a line becomes a record (kafka-console-producer.sh's LineMessageReader properties). */
interface LineFormat {
  parseKey: boolean;
  keySeparator: string;
  parseHeaders: boolean;
  headersDelimiter: string;
  headersSeparator: string;
  headersKeySeparator: string;
}

/** Lines sent per request: large enough for piped files, small enough to keep memory flat. */
const PRODUCE_BATCH = 500;

function registerProducer(program: Command): void {
  addSecurityOptions(program.command('console-producer'))
    .description('send each line of stdin as a record (like kafka-console-producer.sh)')
    .option('--bootstrap-server <servers>', 'broker(s) to connect to: host:port[,host:port]')
    .option('--broker-list <servers>', 'same as --bootstrap-server (older Kafka name)')
    .requiredOption('--topic <name>', 'topic to send to')
    .option('--property <key=value>', 'parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator; repeatable', collect, [])
    .option('--acks <acks>', 'acknowledgements to wait for: 0, 1, all or -1 (default all)')
    .option('--request-required-acks <acks>', 'same as --acks (Kafka name)')
    .option('--compression-codec [codec]', 'none, gzip, snappy or lz4 (gzip when given without a value)')
    .action(async (flags: ProducerFlags) => {
      registerProjectCodecs();
      const connection = await connectionFromFlags(flags);
      const acks = parseAcks(flags.acks ?? flags.requestRequiredAcks ?? 'all');
      const compression = parseCodec(flags.compressionCodec);
      const format = lineFormat(parseKeyValues(flags.property, '--property'));
      await runClientCommand(connection, async () => {
        const producer = new RecordProducer(connection, { acks, compression });
        await producer.connect();
        try {
          await produceLines(producer, flags.topic, format);
        } finally {
          await producer.disconnect();
        }
      });
    });
}

function parseAcks(value: string): Acks {
  switch (value) {
    case 'all':
    case '-1':
      return -1;
    case '0':
      return 0;
    case '1':
      return 1;
    default:
      throw new UsageError(`invalid --acks '${value}': expected 0, 1, all or -1`);
  }
}

function parseCodec(value: string | true | undefined): CompressionName {
  if (value === undefined) return 'none';
  if (value === true) return 'gzip';
  if (value === 'none' || value === 'gzip' || value === 'snappy' || value === 'lz4') return value;
  throw new UsageError(`invalid --compression-codec '${value}': expected none, gzip, snappy or lz4`);
}

function lineFormat(props: Record<string, string>): LineFormat {
  const known = ['parse.key', 'key.separator', 'parse.headers', 'headers.delimiter', 'headers.separator', 'headers.key.separator', 'ignore.error'];
  const unknown = Object.keys(props).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new UsageError(`unknown --property ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return {
    parseKey: props['parse.key']?.toLowerCase() === 'true',
    keySeparator: props['key.separator'] ?? '\t',
    parseHeaders: props['parse.headers']?.toLowerCase() === 'true',
    headersDelimiter: props['headers.delimiter'] ?? '\t',
    headersSeparator: props['headers.separator'] ?? ',',
    headersKeySeparator: props['headers.key.separator'] ?? ':',
  };
}

/** `[headers<delim>][key<sep>]value`, as LineMessageReader reads it. */
export function parseLine(line: string, lineNumber: number, format: LineFormat): OutgoingRecord {
  let rest = line;
  const record: OutgoingRecord = { value: null };
  if (format.parseHeaders) {
    const end = rest.indexOf(format.headersDelimiter);
    if (end < 0) throw new CliError(`no headers delimiter found on line number ${lineNumber}: '${line}'`);
    record.headers = parseHeaders(rest.slice(0, end), format);
    rest = rest.slice(end + format.headersDelimiter.length);
  }
  if (format.parseKey) {
    const end = rest.indexOf(format.keySeparator);
    if (end < 0) throw new CliError(`no key separator found on line number ${lineNumber}: '${line}'`);
    record.key = rest.slice(0, end);
    rest = rest.slice(end + format.keySeparator.length);
  }
  record.value = rest;
  return record;
}

function parseHeaders(text: string, format: LineFormat): Record<string, string> {
  const headers: Record<string, string> = {};
  if (text.length === 0) return headers;
  for (const pair of text.split(format.headersSeparator)) {
    const at = pair.indexOf(format.headersKeySeparator);
    if (at < 0) headers[pair] = '';
    else headers[pair.slice(0, at)] = pair.slice(at + format.headersKeySeparator.length);
  }
  return headers;
}

/**
 * Sends stdin line by line. While one request is in flight, new lines collect into the next one, so typing
 * sends at once and a piped file goes out in large batches. Resolves when stdin has ended and every record is
 * acknowledged (as far as acks asks).
 */
async function produceLines(producer: RecordProducer, topic: string, format: LineFormat): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  let pending: OutgoingRecord[] = [];
  let lineNumber = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let failure: unknown;
  const flush = (): void => {
    if (pending.length === 0 || failure !== undefined) return;
    const batch = pending;
    pending = [];
    inFlight = inFlight.then(async () => {
      if (failure !== undefined) return;
      try {
        await producer.send(topic, batch);
      } catch (err) {
        failure = err;
        lines.close();
      }
    });
  };
  for await (const line of lines) {
    if (failure !== undefined) break;
    pending.push(parseLine(line, ++lineNumber, format));
    if (pending.length >= PRODUCE_BATCH) {
      flush();
      await inFlight; // back-pressure: do not read the whole file into memory
    } else {
      // Send what has arrived once the current request is done (and at once when idle).
      void inFlight.then(flush);
    }
  }
  flush();
  await inFlight;
  if (failure !== undefined) throw failure;
}

// ---------------------------------------------------------------------------------------------------------------
// console-consumer

interface ConsumerFlags extends ServerFlags {
  topic: string;
  fromBeginning?: boolean;
  group?: string;
  maxMessages?: string;
  partition?: string;
  offset?: string;
  property: string[];
  timeoutMs?: string;
}

/** What to print for each record (kafka-console-consumer.sh's DefaultMessageFormatter properties). */
interface RecordFormat {
  printKey: boolean;
  printValue: boolean;
  printPartition: boolean;
  printOffset: boolean;
  printTimestamp: boolean;
  printHeaders: boolean;
  keySeparator: string;
  lineSeparator: string;
  headersSeparator: string;
}

function registerConsumer(program: Command): void {
  addSecurityOptions(program.command('console-consumer'))
    .description('print records of a topic, one per line (like kafka-console-consumer.sh)')
    .option('--bootstrap-server <servers>', 'broker(s) to connect to: host:port[,host:port]')
    .requiredOption('--topic <name>', 'topic to read')
    .option('--from-beginning', 'start at the earliest record (with --group: when the group has no committed offset)')
    .option('--group <id>', 'consume as a member of this consumer group, committing offsets')
    .option('--max-messages <n>', 'exit after this many records')
    .option('--partition <p>', 'read only this partition (no group)')
    .option('--offset <offset>', 'with --partition: a number, earliest or latest (default latest)')
    .option('--property <key=value>', 'print.key, print.value, print.partition, print.offset, print.timestamp, print.headers, key.separator, line.separator, headers.separator; repeatable', collect, [])
    .option('--timeout-ms <ms>', 'exit when no record arrives for this long')
    .action(async (flags: ConsumerFlags) => {
      registerProjectCodecs();
      const connection = await connectionFromFlags(flags);
      const format = recordFormat(parseKeyValues(flags.property, '--property'));
      const maxMessages = flags.maxMessages === undefined ? undefined : parseInteger(flags.maxMessages, '--max-messages', 1);
      const timeoutMs = flags.timeoutMs === undefined ? undefined : parseInteger(flags.timeoutMs, '--timeout-ms', 1);
      const selection = consumerSelection(flags);
      let processed = 0;
      await runClientCommand(connection, async () => {
        const stream = await openConsumer(connection, { topic: flags.topic, groupId: flags.group, ...selection });
        const stopOnSignal = (): void => void stream.stop();
        process.once('SIGINT', stopOnSignal);
        process.once('SIGTERM', stopOnSignal);
        try {
          processed = await printRecords(stream, format, maxMessages, timeoutMs);
        } finally {
          process.off('SIGINT', stopOnSignal);
          process.off('SIGTERM', stopOnSignal);
          await stream.stop();
          process.stderr.write(`Processed a total of ${processed} messages\n`);
        }
      });
    });
}

function consumerSelection(flags: ConsumerFlags): { partitions?: number[]; from?: StartPosition } {
  if (flags.offset !== undefined && flags.partition === undefined) throw new UsageError('--offset needs --partition');
  if (flags.offset !== undefined && flags.fromBeginning) throw new UsageError('give either --from-beginning or --offset, not both');
  if (flags.partition !== undefined && flags.group !== undefined) throw new UsageError('--partition reads without a group: drop --group');
  const partitions = flags.partition === undefined ? undefined : [parseInteger(flags.partition, '--partition', 0)];
  let from: StartPosition | undefined = flags.fromBeginning ? 'earliest' : undefined;
  if (flags.offset === 'earliest' || flags.offset === 'latest') from = flags.offset;
  else if (flags.offset !== undefined) from = { offset: parseInteger(flags.offset, '--offset', 0) };
  return { partitions, from };
}

function recordFormat(props: Record<string, string>): RecordFormat {
  const flag = (name: string, fallback: boolean) => (props[name] === undefined ? fallback : props[name].toLowerCase() === 'true');
  return {
    printKey: flag('print.key', false),
    printValue: flag('print.value', true),
    printPartition: flag('print.partition', false),
    printOffset: flag('print.offset', false),
    printTimestamp: flag('print.timestamp', false),
    printHeaders: flag('print.headers', false),
    keySeparator: props['key.separator'] ?? '\t',
    lineSeparator: props['line.separator'] ?? '\n',
    headersSeparator: props['headers.separator'] ?? ',',
  };
}

/** DefaultMessageFormatter's order: timestamp, partition, offset, headers, key, value. */
export function formatRecord(r: ConsumedRecord, f: RecordFormat): string {
  const fields: string[] = [];
  if (f.printTimestamp) fields.push(`CreateTime:${r.timestamp}`);
  if (f.printPartition) fields.push(`Partition:${r.partition}`);
  if (f.printOffset) fields.push(`Offset:${r.offset}`);
  if (f.printHeaders) {
    const headers = Object.entries(r.headers).flatMap(([k, values]) => values.map((v) => `${k}:${v.toString()}`));
    fields.push(headers.length > 0 ? headers.join(f.headersSeparator) : 'NO_HEADERS');
  }
  if (f.printKey) fields.push(r.key === null ? 'null' : r.key.toString());
  if (f.printValue) fields.push(r.value === null ? 'null' : r.value.toString());
  return fields.join(f.keySeparator) + f.lineSeparator;
}

/** Prints records until the stream stops, `max` records were printed or nothing came for `idleMs`. */
async function printRecords(stream: RecordStream, format: RecordFormat, max: number | undefined, idleMs: number | undefined): Promise<number> {
  let count = 0;
  while (max === undefined || count < max) {
    const record = await stream.next({ timeoutMs: idleMs });
    if (record === undefined) break;
    await writeOut(formatRecord(record, format));
    count++;
  }
  return count;
}
