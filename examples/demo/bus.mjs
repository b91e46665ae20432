// The demo's message bus: in-process by default, Redis pub/sub when REDIS_URL
// is set, so that several demo processes (behind nginx) share one chat. The
// library keeps no cross-process state; this is the whole pattern.
import { EventEmitter } from 'node:events';

/** @returns {Promise<{ publish(channel: string, message: string): void, subscribe(channel: string, fn: (message: string) => void): Promise<void>, close(): Promise<void> }>} */
export async function createBus(redisUrl = process.env.REDIS_URL) {
  if (!redisUrl) {
    const emitter = new EventEmitter();
    return {
      publish: (channel, message) => emitter.emit(channel, message),
      subscribe: async (channel, fn) => void emitter.on(channel, fn),
      close: async () => emitter.removeAllListeners(),
    };
  }
  const { createClient } = await import('redis');
  const publisher = createClient({ url: redisUrl });
  const subscriber = publisher.duplicate();
  for (const client of [publisher, subscriber]) client.on('error', (error) => console.error('redis:', error.message));
  await Promise.all([publisher.connect(), subscriber.connect()]);
  return {
    publish: (channel, message) => void publisher.publish(channel, message),
    subscribe: (channel, fn) => subscriber.subscribe(channel, fn),
    close: async () => {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
