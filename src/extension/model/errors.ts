// Errors in words for the explorer and the commands. vscode-free.

import { describeConnectionError } from '../../client/connection';
import { ControlError } from '../../broker/cluster/controlClient';

/** One sentence for any error a command or a tree fetch can meet. */
export function describeError(err: unknown, bootstrapServers: string[] = []): string {
  if (err instanceof ControlError) return err.message;
  if (err instanceof UserError) return err.message;
  return describeConnectionError(err, bootstrapServers);
}

/** An error whose message is already meant for the user (validation, refusals). */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
