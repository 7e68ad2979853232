// Export of what the tail panel shows, as JSON or CSV. No vscode here; the panel asks where to save.

import type { TailRow } from '../../shared/tailProtocol';

export interface ExportedRecord {
  partition: number;
  offset: string;
  timestamp: string;
  time: string;
  key: string | null;
  value: string | null;
  headers: Array<{ name: string; value: string }>;
  /** Present when key/value are hex (not UTF-8) or the value was cut for display. */
  keyEncoding?: 'hex';
  valueEncoding?: 'hex';
  valueTruncatedFrom?: number;
}

export function exportRecord(row: TailRow): ExportedRecord {
  const out: ExportedRecord = {
    partition: row.partition,
    offset: row.offset,
    timestamp: row.timestamp,
    time: isoTime(row.timestamp),
    key: row.key,
    value: row.value,
    headers: row.headers.map(([name, value]) => ({ name, value })),
  };
  if (row.keyBinary) out.keyEncoding = 'hex';
  if (row.valueBinary) out.valueEncoding = 'hex';
  if (row.valueTruncatedFrom !== undefined) out.valueTruncatedFrom = row.valueTruncatedFrom;
  return out;
}

export function toJson(rows: TailRow[]): string {
  return JSON.stringify(rows.map(exportRecord), null, 2) + '\n';
}

const CSV_COLUMNS = ['partition', 'offset', 'timestamp', 'time', 'key', 'value', 'headers'] as const;

/** RFC 4180 CSV; cells a spreadsheet would run as a formula are prefixed with an apostrophe. */
export function toCsv(rows: TailRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) {
    const r = exportRecord(row);
    lines.push(
      [
        String(r.partition),
        r.offset,
        r.timestamp,
        r.time,
        r.key ?? '',
        r.value ?? '',
        r.headers.length > 0 ? JSON.stringify(Object.fromEntries(row.headers)) : '',
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

export function csvCell(text: string): string {
  let t = text;
  // CSV injection: =, +, @, tab and CR start formulas in spreadsheets; so does '-' unless it is a number.
  if (/^[=+@\t\r]/.test(t) || (/^-/.test(t) && !/^-\d+(\.\d+)?$/.test(t))) t = `'${t}`;
  return /[",\r\n]/.test(t) || t !== t.trim() ? `"${t.replace(/"/g, '""')}"` : t;
}

function isoTime(ms: string): string {
  const n = Number(ms);
  return Number.isFinite(n) && n >= 0 ? new Date(n).toISOString() : '';
}
