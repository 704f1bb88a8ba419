import nodemailer, { type Transporter } from 'nodemailer';

/**
 * The e-mail channel (SMTP, e.g. NHSmail relays) through nodemailer. Configured by NOTIFY_SMTP_URL
 * (`smtp://user:pass@host:587` or `smtps://…:465`) and NOTIFY_EMAIL_FROM; without them e-mail
 * subscriptions are refused at creation.
 */
export interface Mailer {
  send(to: string, subject: string, text: string, headers: Record<string, string>): Promise<void>;
  close(): void;
}

export interface MailerConfig {
  readonly smtpUrl: string;
  readonly from: string;
  /** Accept a self-signed certificate (development relays only). */
  readonly allowInsecureTls?: boolean;
}

export function createMailer(config: MailerConfig): Mailer {
  const url = new URL(config.smtpUrl);
  const secure = url.protocol === 'smtps:';
  const transport: Transporter = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    pool: true,
    maxConnections: 4,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    ...(config.allowInsecureTls ? { tls: { rejectUnauthorized: false } } : {}),
  });
  return {
    async send(to, subject, text, headers): Promise<void> {
      await transport.sendMail({ from: config.from, to, subject, text, headers });
    },
    close: () => {
      transport.close();
    },
  };
}

export function mailerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MailerConfig | undefined {
  const smtpUrl = env['NOTIFY_SMTP_URL'];
  const from = env['NOTIFY_EMAIL_FROM'];
  if (!smtpUrl) return undefined;
  if (!/^smtps?:\/\//.test(smtpUrl)) throw new Error('NOTIFY_SMTP_URL must be smtp:// or smtps://');
  if (!from || !/^[^\s@]+@[^\s@]+$/.test(from.replace(/^.*<(.+)>$/, '$1'))) throw new Error('NOTIFY_EMAIL_FROM must be set to an address when NOTIFY_SMTP_URL is');
  return { smtpUrl, from, allowInsecureTls: env['NOTIFY_SMTP_INSECURE_TLS'] === 'true' };
}
