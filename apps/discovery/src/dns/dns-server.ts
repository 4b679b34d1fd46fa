import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import dnsPacket, { type Packet } from 'dns-packet';
import { counter, type JsonLogger, OncePerCause } from '#lib/telemetry';
import { answerQuery, encodeWithin, formErr, type DnsCatalog, type DnsOptions } from './dns-answers.js';

const queries = counter('fleet_discovery_dns_queries_total', 'DNS queries, by transport and rcode', ['transport', 'rcode']);

export interface DnsServerOptions extends DnsOptions {
  host: string;
  /** 0 picks a free port (the same for UDP and TCP). */
  port: number;
}

const TCP_IDLE_MS = 10_000;
const TCP_MAX_CONNECTIONS = 512;

/**
 * `<name>.service.<domain>` over UDP and TCP, answered from the replica's in-memory catalog.
 * Bytes that do not decode get FORMERR (or nothing, without a header); a failure while answering
 * gets SERVFAIL. Nothing a client sends can take the server down.
 */
export class DnsServer {
  private udp?: Socket;
  private tcp?: Server;
  private readonly problems: OncePerCause;
  private readonly connections = new Set<TcpSocket>();

  constructor(
    private readonly catalog: DnsCatalog,
    private readonly options: DnsServerOptions,
    private readonly logger: JsonLogger,
  ) {
    this.problems = new OncePerCause(logger);
  }

  get port(): number {
    const addr = this.udp?.address();
    return addr ? addr.port : 0;
  }

  async start(): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const udp = await this.bindUdp(this.options.port);
      try {
        this.tcp = await this.listenTcp(udp.address().port);
        this.udp = udp;
        this.logger.info('DNS listening', { host: this.options.host, port: this.port, domain: this.options.domain });
        return this.port;
      } catch (err) {
        udp.close();
        // With port 0 the TCP side of the UDP port we got may be taken; try another.
        if (this.options.port !== 0 || attempt >= 10) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
  }

  /** Answers raw query bytes; undefined means stay silent. */
  respond(raw: Buffer, maxBytes: number, transport: 'udp' | 'tcp'): Buffer | undefined {
    let query: Packet;
    try {
      query = dnsPacket.decode(raw);
      if (query.type !== 'query') throw new Error('not a query');
    } catch (err) {
      this.problems.warn(`dns:${transport}:malformed`, 'malformed DNS packet', { error: (err as Error).message });
      queries.inc({ transport, rcode: 'FORMERR' });
      return formErr(raw);
    }
    try {
      const response = answerQuery(query, this.catalog, this.options);
      const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
      if (opt) response.additionals!.push({ name: '.', type: 'OPT', udpPayloadSize: 4096, flags: 0, options: [] } as never);
      const limit = transport === 'tcp' ? 65535 : opt ? Math.min(Math.max(opt.udpPayloadSize ?? 512, 512), 4096) : 512;
      queries.inc({ transport, rcode: String((response.flags ?? 0) & 0xf) });
      return encodeWithin(response, limit);
    } catch (err) {
      this.problems.warn(`dns:${transport}:servfail`, 'failed to answer DNS query', { error: (err as Error).message });
      queries.inc({ transport, rcode: 'SERVFAIL' });
      const out = formErr(raw);
      if (out) out.writeUInt16BE((out.readUInt16BE(2) & 0xfff0) | 2, 2);
      return out;
    }
  }

  private bindUdp(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const family = this.options.host.includes(':') ? 'udp6' : 'udp4';
      const socket = createSocket({ type: family, reuseAddr: false });
      socket.once('error', reject);
      socket.on('message', (msg, rinfo) => {
        const out = this.respond(msg, 512, 'udp');
        if (out) socket.send(out, rinfo.port, rinfo.address);
      });
      socket.bind(port, this.options.host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.problems.warn('dns:udp:error', 'DNS UDP socket error', { error: err.message }));
        resolve(socket);
      });
    });
  }

  private listenTcp(port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.serveTcp(socket));
      server.maxConnections = TCP_MAX_CONNECTIONS;
      server.once('error', reject);
      server.listen(port, this.options.host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  /** RFC 1035 4.2.2 framing: each message prefixed by its two-byte length; several per connection. */
  private serveTcp(socket: TcpSocket): void {
    this.connections.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('close', () => this.connections.delete(socket));
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2) {
        const length = buffer.readUInt16BE(0);
        if (length < 12) {
          socket.destroy();
          return;
        }
        if (buffer.length < 2 + length) break;
        const message = buffer.subarray(2, 2 + length);
        buffer = buffer.subarray(2 + length);
        const out = this.respond(Buffer.from(message), 65535, 'tcp');
        if (!out) continue;
        const framed = Buffer.alloc(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        socket.write(framed);
      }
    });
  }
}
