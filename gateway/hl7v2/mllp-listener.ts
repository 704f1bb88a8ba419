import { readFileSync } from 'node:fs';
import { buildAck } from '../../adapters/hl7v2/ack';
import { Hl7ErrorCode } from '../../adapters/hl7v2/errors';
import { recoverHeader } from '../../adapters/hl7v2/recover';
import { MllpServer, type MllpAddress } from '../../adapters/hl7v2/mllp-server';
import { ConfigError } from '../config';
import type { Logger } from '../logger';
import { OUR_APPLICATION, type Hl7Intake } from './intake';

export interface MllpListenerOptions {
  port: number;
  host?: string;
  /** MLLP_TLS_KEY / MLLP_TLS_CERT / MLLP_TLS_CA file paths turn on TLS. */
  tls?: { keyFile: string; certFile: string; caFile?: string; requestCert?: boolean };
}

export function mllpTlsFromEnv(env: NodeJS.ProcessEnv = process.env): MllpListenerOptions['tls'] {
  const keyFile = env['MLLP_TLS_KEY'];
  const certFile = env['MLLP_TLS_CERT'];
  if (!keyFile && !certFile) return undefined;
  if (!keyFile || !certFile) throw new ConfigError('MLLP TLS needs both MLLP_TLS_KEY and MLLP_TLS_CERT');
  return { keyFile, certFile, caFile: env['MLLP_TLS_CA'] || undefined, requestCert: env['MLLP_TLS_REQUIRE_CLIENT_CERT'] === 'true' };
}

/** The hospital feed's front door: every framed message goes to the intake, whose ACK goes back. */
export async function startMllpListener(intake: Hl7Intake, options: MllpListenerOptions, logger: Logger): Promise<{ server: MllpServer; address: MllpAddress }> {
  const tls = options.tls
    ? { key: readFileSync(options.tls.keyFile), cert: readFileSync(options.tls.certFile), ...(options.tls.caFile ? { ca: readFileSync(options.tls.caFile) } : {}), requestCert: options.tls.requestCert ?? false }
    : undefined;
  const server = new MllpServer({
    port: options.port,
    host: options.host ?? '0.0.0.0',
    tls,
    handler: async (frame) => (frame.oversize ? intake.rejectOversize(frame.payload, frame.byteLength) : await intake.receive(frame.payload)).ack,
    onHandlerError: (err, frame) => {
      logger.error({ err }, 'MLLP handler failed');
      const header = recoverHeader(frame.payload);
      return buildAck({ original: header, code: header.acceptAckType || header.applicationAckType ? 'CE' : 'AE', errors: [{ code: Hl7ErrorCode.ApplicationInternalError, severity: 'E', text: 'The message could not be processed; send it again' }], controlId: `CB${String(Date.now())}`, now: new Date(), receivingApplication: OUR_APPLICATION, receivingFacility: header.receivingFacility });
    },
    onEvent: (event) => {
      if (event.type === 'tls-error') logger.warn({ event: event.type }, 'MLLP TLS error');
    },
  });
  const address = await server.listen();
  logger.info({ port: address.port, tls: Boolean(tls) }, 'MLLP listening');
  return { server, address };
}
