import { ServerError } from '../errors.js';
import { subscriptionWarning } from '../subscription.js';
import type { ClientServices } from './create-client.js';

/**
 * Opens the socket and runs what each (re)connect needs: envelopes to the receiver, then
 * the node list, our device list, the subscription warning, the access key and resend
 * requests in the background.
 */
export async function connect(s: ClientServices): Promise<void> {
  const { transport, receiver, events, tasks, opts } = s;
  s.account.assertOpen();
  s.account.me();
  if (transport.isRunning) return;
  s.convo.start();
  await transport.start({
    onEnvelope: (env) => receiver.enqueue(env),
    onQueueEmpty: () =>
      receiver.after(() => {
        events.safeEmit('queue-empty');
        s.keyMaintenance.inBackground();
      }),
    onState: (state) => {
      events.safeEmit('connection', { state });
      if (state !== 'connected') return;
      if (opts.bootstrap !== false) tasks.run('node list', () => transport.refreshNodes());
      tasks.run('device list', () => s.ownDevices.refresh());
      tasks.run('subscription', () => checkSubscription(s));
      tasks.run('sealed sender', () =>
        s.sealed.publishAccessKey().catch((e: unknown) => {
          // A server without sealed sender (404): every send stays identified.
          if (!(e instanceof ServerError && e.status === 404)) throw e;
        }),
      );
      receiver.flushResendRequests();
    },
    onError: (e) => events.safeEmit('error', e),
  });
}

/** Finishes (and acks) what is being processed, closes the socket, waits for background work, closes the database. */
export async function close(s: ClientServices): Promise<void> {
  if (s.account.isClosed) return;
  s.transport.pause();
  await s.receiver.idle();
  s.convo.stop();
  await s.transport.stop();
  s.keyMaintenance.stop();
  await s.tasks.drain();
  s.account.close();
  s.db.close();
}

/** Best effort: a server without subscriptions (or a failed request) means no warning, not an error. */
async function checkSubscription(s: ClientServices): Promise<void> {
  const info = await s.transport
    .api()
    .subscription()
    .catch(() => undefined);
  if (!info) return;
  const warning = subscriptionWarning(info, s.ctx.now());
  if (warning) s.events.safeEmit('subscription-expiring', warning);
}
