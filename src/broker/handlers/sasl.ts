// SaslHandshake (17) and SaslAuthenticate (36). On a listener without SASL both answer ILLEGAL_SASL_STATE, as
// Kafka's KafkaApis does; on a SASL listener they drive the connection's SaslSession. A failed exchange answers
// SASL_AUTHENTICATION_FAILED with the reason and the connection is closed once that answer is written.

import { SaslAuthenticate } from '../../protocol/apis/36-sasl-authenticate';
import { SaslHandshake } from '../../protocol/apis/17-sasl-handshake';
import { ErrorCode } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';

export function handleSaslHandshake(req: RequestOf<typeof SaslHandshake>, ctx: HandlerContext): ResponseOf<typeof SaslHandshake> {
  const session = ctx.conn.sasl;
  if (!session) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
  const errorCode = session.handshake(req.mechanism, ctx.version);
  if (errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM) {
    ctx.conn.closeAfterResponses(`client asked for SASL mechanism ${req.mechanism}; enabled: ${session.config.mechanisms.join(', ')}`);
  }
  return { errorCode, mechanisms: [...session.config.mechanisms] };
}

export async function handleSaslAuthenticate(req: RequestOf<typeof SaslAuthenticate>, ctx: HandlerContext): Promise<ResponseOf<typeof SaslAuthenticate>> {
  const session = ctx.conn.sasl;
  const empty = Buffer.alloc(0);
  if (!session) {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate request received on a listener without SASL', authBytes: empty, sessionLifetimeMs: 0 };
  }
  if (session.authenticated) {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate request received after successful authentication', authBytes: empty, sessionLifetimeMs: 0 };
  }
  const step = await session.evaluate(req.authBytes);
  if (step.kind === 'failed') {
    ctx.conn.closeAfterResponses(`SASL ${session.mechanism ?? ''} authentication failed: ${step.message}`);
    return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: step.message, authBytes: empty, sessionLifetimeMs: 0 };
  }
  if (step.kind === 'done') ctx.broker.logger.debug(`connection ${ctx.conn.remote} authenticated as ${step.user} (${session.mechanism})`);
  return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.response, sessionLifetimeMs: 0 };
}
