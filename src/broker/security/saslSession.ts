// Per-connection SASL state on a listener that requires authentication, following Kafka's
// SaslServerAuthenticator: until authentication completes only ApiVersions and SaslHandshake are served, then
// (after a v1 handshake) only SaslAuthenticate; after a v0 handshake the client sends raw tokens framed by a
// bare int32 length and gets raw tokens back. Any other request before authentication closes the connection.

import { ApiVersions } from '../../protocol/apis/18-api-versions';
import { SaslAuthenticate } from '../../protocol/apis/36-sasl-authenticate';
import { SaslHandshake } from '../../protocol/apis/17-sasl-handshake';
import { ErrorCode } from '../../protocol/errorCode';
import { SaslExchange, SaslMechanismName, SaslServerConfig, SaslStep, startExchange } from './sasl';

export type SaslState = 'handshake' | 'authenticate' | 'raw' | 'complete' | 'failed';

export class SaslSession {
  state: SaslState = 'handshake';
  /** The authenticated principal once state is 'complete'. */
  user: string | undefined;
  private exchange: SaslExchange | undefined;

  constructor(
    readonly config: SaslServerConfig,
    private readonly serverSecret: Buffer,
  ) {}

  get authenticated(): boolean {
    return this.state === 'complete';
  }

  get mechanism(): SaslMechanismName | undefined {
    return this.exchange?.mechanism;
  }

  /** Whether a request with this key may be handled now (authenticated connections: everything). */
  allows(apiKey: number): boolean {
    switch (this.state) {
      case 'complete':
        return true;
      case 'handshake':
        return apiKey === ApiVersions.key || apiKey === SaslHandshake.key;
      case 'authenticate':
        return apiKey === SaslAuthenticate.key;
      default:
        return false;
    }
  }

  /** SaslHandshake: NONE if the mechanism is enabled (the exchange starts), else UNSUPPORTED_SASL_MECHANISM. */
  handshake(mechanism: string, version: number): number {
    if (this.state !== 'handshake') return ErrorCode.ILLEGAL_SASL_STATE;
    const enabled = this.config.mechanisms.find((m) => m === mechanism);
    if (!enabled) {
      this.state = 'failed';
      return ErrorCode.UNSUPPORTED_SASL_MECHANISM;
    }
    this.exchange = startExchange(enabled, this.config, this.serverSecret);
    this.state = version === 0 ? 'raw' : 'authenticate';
    return ErrorCode.NONE;
  }

  /** One client token (SaslAuthenticate's bytes, or a raw token after a v0 handshake). */
  async evaluate(token: Buffer): Promise<SaslStep> {
    if (!this.exchange || (this.state !== 'authenticate' && this.state !== 'raw')) {
      this.state = 'failed';
      return { kind: 'failed', message: 'SASL token received outside of an authentication exchange' };
    }
    const step = await this.exchange.evaluate(token);
    if (step.kind === 'done') {
      this.state = 'complete';
      this.user = step.user;
    } else if (step.kind === 'failed') this.state = 'failed';
    return step;
  }
}
