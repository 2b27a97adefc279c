import { sendBody, type TestDevice } from './accounts.js';
import { TestSocket } from './socket-client.js';

/**
 * Sends `total` numbered messages (`${prefix}${i}`) from `from` to `to` over a socket
 * while `to` connects after `connectAt` of them, so live pushes race the backlog read.
 * Returns the receiving socket and the texts it got, in the order it got them.
 */
export async function raceSendsAgainstBacklog(
  url: string,
  from: TestDevice,
  to: TestDevice,
  options: { total: number; connectAt: number; prefix: string },
): Promise<{ statuses: number[]; receiver: TestSocket; sender: TestSocket; got: string[] }> {
  const sender = await TestSocket.connect(url, from.auth);
  const sends: Promise<{ status: number }>[] = [];
  let connected: Promise<TestSocket> | undefined;
  for (let i = 0; i < options.total; i++) {
    sends.push(sender.request(to.accountId, sendBody([to], `${options.prefix}${i}`)));
    if (i === options.connectAt) connected = TestSocket.connect(url, to.auth);
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  const statuses = (await Promise.all(sends)).map((r) => r.status);
  const receiver = await connected!;
  const got: string[] = [];
  while (got.length < options.total) {
    const f = await receiver.next((x) => x.type === 'envelope');
    got.push(Buffer.from(f.envelope.content, 'base64').toString());
  }
  return { statuses, receiver, sender, got };
}
