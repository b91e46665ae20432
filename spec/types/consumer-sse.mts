// Compile-only: server-sent events as a consumer types them, channels and the
// Redis store included (the redis package's own types are not needed).
import http from 'node:http';
import {
  type ChannelMessageEvent,
  type ChannelStore,
  EventSource,
  EventSourceChannel,
  type OverflowEvent,
  RedisChannelStore,
  RedisChannelStores,
  type RedisClientLike,
  type RedisClusterLike,
} from 'isosocket';

const channel = new EventSource.Channel({
  history: 100,
  historyAge: 60,
  maxBuffered: 1 << 20,
  serialize: JSON.stringify,
});
const plain: EventSourceChannel = new EventSourceChannel();
http.createServer((request, response) => {
  const es = new EventSource(request, response, { ping: 15, retry: 2, serialize: String });
  channel.register(es);
  plain.unregister(es);
});
channel.onmessage = (event: ChannelMessageEvent) => {
  const text: string = event.data;
  const name: string = event.event;
  return `${text} ${name} ${event.lastEventId}`;
};
channel.addEventListener('overflow', (event) => {
  const dropped: OverflowEvent = event;
  return dropped.source.url;
});
channel.addEventListener('error', (event) => event.message);
const id: Promise<string> = channel.broadcast({ n: 1 }, { event: 'tick' });
const count: number = channel.size + channel.dropped;

export async function shared(client: RedisClientLike): Promise<string> {
  const store: ChannelStore = await RedisChannelStore.connect({ client, key: 'feed', maxLength: 1000 });
  const other = await RedisChannelStore.connect({ url: 'redis://localhost:6379', key: 'feed' });
  const feed = new EventSource.Channel({ store });
  await other.close();
  await feed.close();
  return `${await id} ${count}`;
}

export async function rooms(client: RedisClientLike, cluster: RedisClusterLike): Promise<number> {
  const stores = await RedisChannelStores.connect({ url: 'redis://localhost:6379', maxLength: 1000 });
  const onCluster = await RedisChannelStores.connect({ client: cluster });
  const onClient = await RedisChannelStores.connect({ client });
  const room = new EventSource.Channel({ store: stores.channel('room:42') });
  const store: ChannelStore = onCluster.channel('{shard}:room');
  await room.close();
  await Promise.all([stores.close(), onCluster.close(), onClient.close(), store.close()]);
  return stores.subscriptions;
}
