// Kafka's scripts (kafka-topics.sh, kafka-console-producer.sh, ...) parse their options with JOpt Simple, which
// takes a long option after a single dash and any unambiguous abbreviation of one. Tutorials rely on both: the
// seed's notes write `--partition 3` for --partitions and `-delete-config retention.ms`. Commander accepts neither,
// so the Kafka-style commands rewrite such arguments to the full `--name` before parsing.

/**
 * Rewrites `-name`, `--name` and their `=value` forms to `--<option>` when `name` is a long option of the command
 * or the prefix of exactly one. Values (`--acks -1`), single-letter options (`-h`) and everything after `--` are
 * left alone; anything still unknown is left for the parser to report.
 */
export function expandKafkaStyleOptions(args: readonly string[], longOptions: readonly string[]): string[] {
  const names = longOptions.map((o) => o.replace(/^--/, ''));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const m = /^--?([a-zA-Z][a-zA-Z0-9.-]+)(=.*)?$/.exec(arg);
    if (!m) {
      out.push(arg);
      continue;
    }
    const [, name, value = ''] = m;
    const candidates = names.includes(name) ? [name] : names.filter((n) => n.startsWith(name));
    out.push(candidates.length === 1 ? `--${candidates[0]}${value}` : arg);
  }
  return out;
}
