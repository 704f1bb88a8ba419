import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { MllpClient } from '../../adapters/hl7v2/mllp-client';
import { MllpServer } from '../../adapters/hl7v2/mllp-server';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { applicationAckFor } from '../../gateway/hl7v2/application-ack';
import { startHl7Feed, type Hl7Feed } from '../../gateway/hl7v2/feed';
import { createLogger } from '../../gateway/logger';
import { Store } from '../../gateway/store/store';

/**
 * Enhanced-mode acknowledgement end to end over real MLLP: the sender's interface engine is played
 * by an MllpClient (sending) and an MllpServer (its receiver for application ACKs, the address in
 * HL7_SENDERS_FILE). Synthetic patient, no NHS number.
 */
function adt(controlId: string, msh15: string, msh16: string, options: { noPatient?: boolean } = {}): Buffer {
  const segments = [
    `MSH|^~\\&|ACKPAS|RZZ|CAREBRIDGE|CAREBRIDGE|20250301101500||ADT^A01^ADT_A01|${controlId}|P|2.5.1|||${msh15}|${msh16}`,
    'EVN|A01|20250301101500||||20250301101000',
    `PID|1||${options.noPatient ? '' : `ACK${controlId}^^^RZZ^MR`}||TESTPERSON^Ack^^^Mx^^L||19700101|F`,
    `PV1|1|I|WARD1^BAY1^BED1^RZZ|21|||||||||||||||V${controlId}^^^RZZ^VN|||||||||||||||||||||||||20250301101000`,
  ];
  return Buffer.from(`${segments.join('\r')}\r`, 'latin1');
}

const msa = (message: Buffer): { code: string; controlId: string; msh: string[]; err: string[] } => {
  const segments = message.toString('latin1').split('\r').filter(Boolean).map((s) => s.split('|'));
  const m = segments.find((s) => s[0] === 'MSA') ?? [];
  return { code: m[1] ?? '', controlId: m[2] ?? '', msh: segments[0] ?? [], err: segments.filter((s) => s[0] === 'ERR').map((s) => (s[3] ?? '').split('^')[0] ?? '') };
};

/** The sender's receiver: records every application ACK and answers each with a commit ACK. */
class Receiver {
  readonly received: Buffer[] = [];
  private server: MllpServer | undefined;
  async start(port: number): Promise<number> {
    this.server = new MllpServer({
      port,
      host: '127.0.0.1',
      handler: (frame) => {
        this.received.push(frame.payload);
        return Promise.resolve(Buffer.from(`MSH|^~\\&|ACKPAS|RZZ|CAREBRIDGE|CAREBRIDGE|20250301101600||ACK|R${String(this.received.length)}|P|2.5.1\rMSA|CA|${msa(frame.payload).msh[9] ?? ''}\r`));
      },
      onHandlerError: () => Buffer.from('MSH|^~\\&|ACKPAS|RZZ\rMSA|CE|\r'),
    });
    return (await this.server.listen()).port;
  }
  async stop(): Promise<void> {
    await this.server?.close();
  }
  forControlId(id: string): Buffer[] {
    return this.received.filter((r) => msa(r).controlId === id);
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('MSH-16 application acknowledgements', () => {
  test('the rule: AL always, ER only on error, SU only on success', () => {
    expect([applicationAckFor('done', 'AL'), applicationAckFor('failed', 'AL'), applicationAckFor('dead', 'AL')]).toEqual([
      { code: 'AA', send: true },
      { code: 'AE', send: true },
      { code: 'AE', send: true },
    ]);
    expect([applicationAckFor('done', 'ER').send, applicationAckFor('failed', 'ER').send, applicationAckFor('done', 'SU').send, applicationAckFor('failed', 'SU').send]).toEqual([false, true, true, false]);
  });

  describe('over MLLP', () => {
    let dir: string;
    let store: Store;
    let receiver: Receiver;
    let receiverPort: number;
    let feed: Hl7Feed | undefined;
    let client: MllpClient | undefined;
    const previousSenders = process.env['HL7_SENDERS_FILE'];

    const startFeed = async (): Promise<void> => {
      feed = await startHl7Feed({
        store,
        logger: createLogger('silent'),
        registry: new Registry(),
        listenMllp: true,
        mllpPort: 0,
        runWorkers: true,
        applicationAck: { pollMs: 50, backoffMs: 100, maxBackoffMs: 400, timeoutMs: 2_000 },
      });
      client = new MllpClient({ host: '127.0.0.1', port: feed.mllpPort ?? 0, timeoutMs: 10_000 });
    };
    const stopFeed = async (): Promise<void> => {
      await client?.close();
      await feed?.close();
      feed = undefined;
    };

    beforeAll(async () => {
      loadFhirDefinitions();
      dir = mkdtempSync(join(tmpdir(), 'cb-appack-'));
      receiver = new Receiver();
      receiverPort = await receiver.start(0);
      const file = join(dir, 'senders.json');
      writeFileSync(file, JSON.stringify({ 'RZZ|ACKPAS': { applicationAckAddress: `127.0.0.1:${String(receiverPort)}` } }));
      process.env['HL7_SENDERS_FILE'] = file;
      store = await Store.open({});
      await store.migrate();
      await startFeed();
    });
    afterAll(async () => {
      await stopFeed();
      await receiver.stop();
      await store.close();
      if (previousSenders === undefined) delete process.env['HL7_SENDERS_FILE'];
      else process.env['HL7_SENDERS_FILE'] = previousSenders;
      rmSync(dir, { recursive: true, force: true });
    });

    test('AL/AL: CA on the connection, then an AA to the sender\'s receiver, addressed back to the sender', async () => {
      const accept = msa(await (client as MllpClient).send(adt('APP-0001', 'AL', 'AL')));
      expect([accept.code, accept.controlId]).toEqual(['CA', 'APP-0001']);
      await until('the application ACK', () => receiver.forControlId('APP-0001').length > 0);
      const ack = msa(receiver.forControlId('APP-0001')[0] as Buffer);
      expect(ack.code).toBe('AA');
      // MSH-3/4 ours, MSH-5/6 the original sender's; MSH-9 ACK^A01^ACK.
      expect([ack.msh[2], ack.msh[4], ack.msh[5], ack.msh[8]]).toEqual(['CAREBRIDGE', 'ACKPAS', 'RZZ', 'ACK^A01^ACK']);
      // Applied before it was acknowledged: the Encounter is there.
      const encounters = await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM sp_token WHERE resource_type = 'Encounter' AND code = 'identifier' AND value = 'VAPP-0001'`);
      expect(encounters.rows[0]?.n).toBe(1);
      const row = await store.engine.query<{ status: string; code: string }>(`SELECT a.status, a.code FROM hl7_app_ack a JOIN inbox i ON i.id = a.inbox_id WHERE i.dedup_key = 'APP-0001'`);
      expect(row.rows).toEqual([{ status: 'sent', code: 'AA' }]);
    });

    test('ER: nothing after a success; after an error, CE on the connection and an AE with the table 0357 code', async () => {
      const good = msa(await (client as MllpClient).send(adt('APP-0002', 'AL', 'ER')));
      const bad = msa(await (client as MllpClient).send(adt('APP-0003', 'AL', 'ER', { noPatient: true })));
      expect([good.code, bad.code]).toEqual(['CA', 'CE']);
      await until('the AE', () => receiver.forControlId('APP-0003').length > 0);
      const ae = msa(receiver.forControlId('APP-0003')[0] as Buffer);
      expect(ae.code).toBe('AE');
      expect(ae.err.length).toBeGreaterThan(0);
      // APP-0002 was applied (its wish cleared, nothing queued) and no ACK was sent for it.
      await until('APP-0002 applied', async () => {
        const rows = await store.engine.query<{ queued: boolean | null }>(`SELECT (outcome->>'applicationAckQueued')::boolean AS queued FROM inbox WHERE dedup_key = 'APP-0002' AND status = 'done'`);
        return rows.rows[0]?.queued === false;
      });
      expect(receiver.forControlId('APP-0002')).toEqual([]);
    });

    test('SU: an AA after a success; NE: none', async () => {
      expect(msa(await (client as MllpClient).send(adt('APP-0004', 'AL', 'SU'))).code).toBe('CA');
      expect(msa(await (client as MllpClient).send(adt('APP-0005', 'AL', 'NE'))).code).toBe('CA');
      await until('the AA', () => receiver.forControlId('APP-0004').length > 0);
      expect(msa(receiver.forControlId('APP-0004')[0] as Buffer).code).toBe('AA');
      await until('APP-0005 applied', async () => (await store.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE dedup_key = 'APP-0005' AND status = 'done'`)).rows[0]?.n === 1);
      expect(await store.engine.query(`SELECT 1 FROM hl7_app_ack a JOIN inbox i ON i.id = a.inbox_id WHERE i.dedup_key = 'APP-0005'`)).toEqual({ rows: [], rowCount: 0 });
      expect(receiver.forControlId('APP-0005')).toEqual([]);
    });

    test('the receiver down: the ACK waits in the store, survives a restart of the gateway, and is delivered once the receiver is back', async () => {
      await receiver.stop();
      expect(msa(await (client as MllpClient).send(adt('APP-0006', 'AL', 'AL'))).code).toBe('CA');
      await until('a failed attempt', async () => {
        const rows = await store.engine.query<{ attempts: number; status: string }>(`SELECT a.attempts, a.status FROM hl7_app_ack a JOIN inbox i ON i.id = a.inbox_id WHERE i.dedup_key = 'APP-0006'`);
        return (rows.rows[0]?.attempts ?? 0) >= 1 && rows.rows[0]?.status === 'pending';
      });
      await stopFeed();
      await startFeed();
      await receiver.start(receiverPort);
      await until('the AA after the restart', () => receiver.forControlId('APP-0006').length > 0);
      expect(msa(receiver.forControlId('APP-0006')[0] as Buffer).code).toBe('AA');
      // The receiver holds the ACK before it answers; the sender marks it sent once the answer is in.
      const status = async (): Promise<{ status: string }[]> =>
        (await store.engine.query<{ status: string }>(`SELECT a.status FROM hl7_app_ack a JOIN inbox i ON i.id = a.inbox_id WHERE i.dedup_key = 'APP-0006'`)).rows;
      await until('the ACK recorded as sent', async () => (await status())[0]?.status === 'sent');
      expect(await status()).toEqual([{ status: 'sent' }]);
    });
  });
});
