// Turning consumed records into the text the panels show. No vscode here (the tail benchmark runs it in Node).

import type { ConsumedRecord } from '../../client/consumer';
import { MAX_FIELD_CHARS, TailRow } from '../../shared/tailProtocol';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface DecodedField {
  text: string | null;
  binary?: boolean;
  /** The field's size in bytes when the text was cut. */
  truncatedFrom?: number;
}

/**
 * UTF-8 text when the bytes are valid UTF-8, else hex (marked binary). Cut at MAX_FIELD_CHARS, so one huge
 * record cannot blow up the bounded buffers (they bound the number of rows, and this bounds each row).
 */
export function decodeField(bytes: Buffer | null, maxChars = MAX_FIELD_CHARS): DecodedField {
  if (bytes === null) return { text: null };
  let text: string;
  let binary = false;
  try {
    text = utf8.decode(bytes);
  } catch {
    binary = true;
    text = bytes.subarray(0, Math.ceil(maxChars / 2)).toString('hex');
  }
  const cut = binary ? bytes.length * 2 > maxChars : text.length > maxChars;
  if (cut && !binary) text = text.slice(0, maxChars);
  const out: DecodedField = { text };
  if (binary) out.binary = true;
  if (cut) out.truncatedFrom = bytes.length;
  return out;
}

/** Whether a value is a JSON object or array (worth a pretty view); cheap rejection before parsing. */
export function looksLikeJson(text: string): boolean {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function toTailRow(seq: number, r: ConsumedRecord, isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'): TailRow {
  if (r.control) {
    return { seq, partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: null, value: null, headers: [], control: r.control, txn: { producerId: r.producerId ?? '-1', state: r.control === 'COMMIT' ? 'committed' : 'aborted' } };
  }
  const key = decodeField(r.key, 1024);
  const value = decodeField(r.value);
  const headers: Array<[string, string]> = [];
  for (const [name, values] of Object.entries(r.headers)) {
    for (const v of values) {
      const d = decodeField(v, 1024);
      headers.push([name, d.binary ? `0x${d.text ?? ''}` : (d.text ?? '')]);
    }
  }
  const row: TailRow = { seq, partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: key.text, value: value.text, headers };
  if (key.binary) row.keyBinary = true;
  if (value.binary) row.valueBinary = true;
  if (value.truncatedFrom !== undefined) row.valueTruncatedFrom = value.truncatedFrom;
  if (!value.binary && value.truncatedFrom === undefined && value.text !== null && looksLikeJson(value.text)) row.json = true;
  // read_committed hands over only committed transactional records; read_uncommitted ones wait for their marker.
  if (r.transactional && r.producerId !== undefined) row.txn = { producerId: r.producerId, state: isolation === 'read_committed' ? 'committed' : 'open' };
  return row;
}
