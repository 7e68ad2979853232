// The checks of the exactly-once test (test/cluster/eos.test.ts): pure, on the records its readers printed.
import type { Ev } from './python';

export interface EosInput {
  partitions: number;
  /** `read` events of the input topic (every record; the input is not transactional). */
  inputEvents: Ev[];
  /** `read` events of the output topic, read with isolation.level=read_committed. */
  outputEvents: Ev[];
  /** The group's committed offsets on the input after the transformers stopped. */
  finalOffsets: Record<string, number> | null | undefined;
}

export interface EosNumbers {
  input: number;
  output: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  wrong: number;
}

/**
 * Each input record (partition, offset, key) must be in the committed output exactly once, in the output
 * partition of the same number, in input-offset order per partition, and the group's committed offsets must be
 * the input's log end.
 */
export function checkExactlyOnce(input: EosInput): { problems: string[]; numbers: EosNumbers } {
  const problems: string[] = [];
  const keyAt = new Map<string, string>();
  for (const e of input.inputEvents.filter((x) => x.e === 'rec')) keyAt.set(`${e.part}@${e.off}`, e.k);
  for (const [name, evs] of [['input', input.inputEvents], ['output', input.outputEvents]] as const) {
    const done = evs.find((x) => x.e === 'done');
    const incomplete = [...Array(input.partitions).keys()].filter((p) => !done?.complete?.includes(p));
    if (incomplete.length) problems.push(`the ${name} reader did not reach the end of partitions ${incomplete.join(',')}`);
  }
  const seen = new Map<string, number>();
  const wrong: string[] = [];
  const outOfOrder: string[] = [];
  const lastIn = new Map<number, number>();
  let output = 0;
  for (const e of input.outputEvents.filter((x) => x.e === 'rec')) {
    output++;
    const m = /^(\d+):(\d+):(.*)$/.exec(e.v ?? '');
    if (!m) {
      wrong.push(`${e.part}@${e.off}: value ${e.v}`);
      continue;
    }
    const [inPart, inOff, inKey] = [Number(m[1]), Number(m[2]), m[3]];
    const at = `${inPart}@${inOff}`;
    if (inPart !== e.part) wrong.push(`output ${e.part}@${e.off} is from input partition ${inPart}`);
    if (keyAt.get(at) !== inKey) wrong.push(`output ${e.part}@${e.off} says input ${at} held ${inKey}; the input holds ${keyAt.get(at) ?? 'nothing'} there`);
    seen.set(at, (seen.get(at) ?? 0) + 1);
    const prev = lastIn.get(e.part);
    if (prev !== undefined && inOff <= prev) outOfOrder.push(`output partition ${e.part}@${e.off}: input offset ${inOff} after ${prev}`);
    lastIn.set(e.part, Math.max(prev ?? -1, inOff));
  }
  const missing = [...keyAt.keys()].filter((at) => !seen.has(at));
  const dups = [...seen].filter(([, n]) => n > 1);
  if (missing.length) problems.push(`${missing.length} input records not in the committed output: ${missing.slice(0, 20).join(', ')}`);
  if (dups.length) problems.push(`${dups.length} input records more than once in the committed output: ${dups.slice(0, 20).map(([at, n]) => `${at} x${n}`).join(', ')}`);
  if (outOfOrder.length) problems.push(`${outOfOrder.length} out of order: ${outOfOrder.slice(0, 10).join('; ')}`);
  if (wrong.length) problems.push(`${wrong.length} output records that match no input record: ${wrong.slice(0, 10).join('; ')}`);
  const hi = new Map<number, number>(input.inputEvents.filter((x) => x.e === 'watermarks').map((x) => [x.part, x.hi]));
  if (!input.finalOffsets) problems.push('the group\'s final committed offsets could not be read');
  else for (const [p, h] of hi) if (input.finalOffsets[String(p)] !== h) problems.push(`the group's final committed offset of input partition ${p} is ${input.finalOffsets[String(p)]}, its log end is ${h}`);
  return { problems, numbers: { input: keyAt.size, output, missing: missing.length, duplicates: dups.length, outOfOrder: outOfOrder.length, wrong: wrong.length } };
}
