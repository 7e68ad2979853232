/** A mistake in how the command was called: reported as one line, exit code 2. */
export class UsageError extends Error {}

/** A failure already phrased for the user; main.ts prints it as `minikafka: <message>` and exits 1. */
export class CliError extends Error {}
