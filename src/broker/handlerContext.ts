import type { RequestHeader } from '../protocol/frame';
import type { Broker } from './broker';
import type { Connection } from './connection';

/** What a handler knows about the request it serves. */
export interface HandlerContext {
  broker: Broker;
  header: RequestHeader;
  version: number;
  conn: Connection;
}
