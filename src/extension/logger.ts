// One LogOutputChannel ("MiniKafka", log: true) for the whole extension, handed to each component as the small
// Logger interface of the broker and client layers with a [component] tag. Never show()n on routine writes.

import * as vscode from 'vscode';
import type { Logger } from '../broker/logger';
import type { ClientLogger } from '../client/connection';

export function componentLogger(channel: vscode.LogOutputChannel, component: string): Logger & ClientLogger {
  const tag = `[${component}]`;
  return {
    debug: (m) => channel.debug(`${tag} ${m}`),
    info: (m) => channel.info(`${tag} ${m}`),
    warn: (m) => channel.warn(`${tag} ${m}`),
    error: (m) => channel.error(`${tag} ${m}`),
  };
}

/** kafkajs is chatty: its info lines (connects, group joins) go to the channel as debug. */
export function kafkajsLogger(channel: vscode.LogOutputChannel, component: string): ClientLogger {
  const log = componentLogger(channel, component);
  return { debug: log.debug, info: log.debug, warn: log.warn, error: log.error };
}
