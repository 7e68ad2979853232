// What `--zookeeper host:port` means to minikafka. Kafka tutorials written before Kafka 3 pass ZooKeeper's address
// (`--zookeeper localhost:2181`); minikafka has no ZooKeeper, but its supervisor holds the controller, the role
// ZooKeeper plays there, and its control endpoint listens on 2181 when it can and tells the bootstrap servers
// (GET /v1/bootstrap). Tutorials also pass a broker's address to --zookeeper by mistake (the seed tutorial does,
// `--zookeeper localhost:9092`), which Kafka 3+ would refuse but which is clear enough to honour.
//
// One probe tells the two apart without disturbing either: a Kafka ApiVersions v0 request, which a broker answers
// in Kafka's framing and the supervisor's HTTP server answers with "HTTP/1.1 400".

import { request } from 'node:http';
import { Socket } from 'node:net';
import type { BootstrapInfo } from '../broker/cluster/controlServer';
import { CliError } from './errors';

const PROBE_TIMEOUT_MS = 3000;

/** An ApiVersions v0 request (key 18), correlation id 1, client id "minikafka-cli". */
function apiVersionsV0(): Buffer {
  const clientId = Buffer.from('minikafka-cli');
  const frame = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  frame.writeInt32BE(frame.length - 4, 0);
  frame.writeInt16BE(18, 4);
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(1, 8);
  frame.writeInt16BE(clientId.length, 12);
  clientId.copy(frame, 14);
  return frame;
}

type Peer = 'http' | 'kafka' | 'silent';

/** What answers at host:port: the supervisor's HTTP endpoint, a Kafka broker, or something that says nothing. */
function probe(host: string, port: number): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const done = (peer: Peer) => {
      socket.destroy();
      resolve(peer);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done('silent'));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      if (received.length > 0 || err.code === 'ECONNRESET') resolve('silent');
      else reject(err);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4) done(received.subarray(0, 4).toString('latin1') === 'HTTP' ? 'http' : 'kafka');
    });
    socket.once('end', () => done('silent'));
    socket.connect(port, host, () => socket.write(apiVersionsV0()));
  });
}

function fetchBootstrap(host: string, port: number): Promise<BootstrapInfo> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/v1/bootstrap', method: 'GET', timeout: PROBE_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          const info = JSON.parse(body) as BootstrapInfo;
          if (res.statusCode !== 200 || typeof info.bootstrap !== 'string') throw new Error(`HTTP ${res.statusCode}`);
          resolve(info);
        } catch (err) {
          reject(new Error(`${host}:${port} answers HTTP but is not a minikafka supervisor (${(err as Error).message})`));
        }
      });
    });
    req.once('timeout', () => req.destroy(new Error(`${host}:${port} did not answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/**
 * The bootstrap servers that `--zookeeper servers` stands for: the brokers of the mini-cluster whose supervisor
 * listens at the first address, or the addresses themselves when a Kafka broker answers there.
 */
export async function resolveZookeeperFlag(servers: string[]): Promise<{ servers: string[]; note: string }> {
  const [host, portText] = splitHostPort(servers[0]);
  const port = Number(portText);
  let peer: Peer;
  try {
    peer = await probe(host, port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CliError(
      `nothing answers at ${servers[0]} (${code}): --zookeeper takes the address of the mini-cluster's supervisor ` +
        '(`minikafka start` prints it, "supervisor: 127.0.0.1:2181") or of a broker; is the mini-cluster running?',
    );
  }
  if (peer === 'http') {
    const info = await fetchBootstrap(host, port).catch((err: Error) => {
      throw new CliError(err.message);
    });
    return { servers: info.bootstrap.split(','), note: `--zookeeper ${servers[0]} is the mini-cluster's supervisor; its brokers: ${info.bootstrap}` };
  }
  return { servers, note: `--zookeeper ${servers[0]} is a broker, used as --bootstrap-server` };
}

function splitHostPort(hostPort: string): [string, string] {
  const colon = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, colon).replace(/^\[|\]$/g, ''), hostPort.slice(colon + 1)];
}
