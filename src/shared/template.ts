// Message templates for producing many records: {{i}}, {{uuid}}, {{timestamp}} and friends are replaced per
// record. Shared by the page (preview, JSON validation of record 0 before sending) and the host (the real
// expansion), so both agree on what a template means.

export interface TemplateContext {
  /** 0-based index of the record within the run. */
  i: number;
  /** Number of records in the run. */
  count: number;
  /** Milliseconds since the epoch when the record is built. */
  now: number;
  /** A random UUID (v4); the caller supplies the generator (crypto.randomUUID on both sides). */
  uuid(): string;
}

export const TEMPLATE_VARIABLES: ReadonlyArray<{ name: string; meaning: string }> = [
  { name: 'i', meaning: 'index of the record in this run, from 0' },
  { name: 'n', meaning: 'index of the record in this run, from 1' },
  { name: 'count', meaning: 'number of records in this run' },
  { name: 'uuid', meaning: 'a random UUID' },
  { name: 'timestamp', meaning: 'milliseconds since 1970' },
  { name: 'iso', meaning: 'the time as ISO 8601' },
  { name: 'random', meaning: 'a random integer from 0 to 999999' },
];

const PATTERN = /\{\{\s*([a-z]+)\s*\}\}/gi;

export function hasTemplate(text: string): boolean {
  PATTERN.lastIndex = 0;
  return PATTERN.test(text);
}

/** Replaces every known {{variable}}; unknown ones are left as they are (so a literal "{{x}}" survives). */
export function expandTemplate(text: string, ctx: TemplateContext): string {
  if (!text.includes('{{')) return text;
  return text.replace(PATTERN, (whole, name: string) => {
    switch (name.toLowerCase()) {
      case 'i':
        return String(ctx.i);
      case 'n':
        return String(ctx.i + 1);
      case 'count':
        return String(ctx.count);
      case 'uuid':
        return ctx.uuid();
      case 'timestamp':
        return String(ctx.now);
      case 'iso':
        return new Date(ctx.now).toISOString();
      case 'random':
        return String(Math.floor(Math.random() * 1_000_000));
      default:
        return whole;
    }
  });
}

/** Unknown variable names in a template, so the form can say "{{idx}} is not a variable". */
export function unknownVariables(text: string): string[] {
  const known = new Set(TEMPLATE_VARIABLES.map((v) => v.name));
  const out = new Set<string>();
  for (const m of text.matchAll(PATTERN)) if (!known.has(m[1].toLowerCase())) out.add(m[1]);
  return [...out];
}

/** null when `text` is valid JSON, otherwise the parser's complaint in words. */
export function jsonError(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
