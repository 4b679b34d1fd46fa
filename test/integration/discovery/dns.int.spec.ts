import { Resolver } from 'node:dns/promises';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import { eventually } from '../../support/infra.js';
import { DiscoveryHarness, apiInstance } from './support.js';

/** Real DNS clients (Node's resolver over UDP, a raw TCP query) against the discovery DNS server. */
describe('discovery: DNS interface', () => {
  const h = new DiscoveryHarness({ DNS_TTL: '5' });
  let port = 0;
  const resolver = new Resolver({ timeout: 2000, tries: 1 });

  beforeAll(async () => {
    await h.setUp(1);
    port = h.replicas[0].dnsPort!;
    resolver.setServers([`127.0.0.1:${port}`]);
    await h.call('register', apiInstance('web', { id: 'web-1', address: '10.1.0.1', port: 8081, tags: ['primary'] }));
    await h.call('register', apiInstance('web', { id: 'web-2', address: '10.1.0.2', port: 8082 }));
    await h.call('register', apiInstance('web', { id: 'web-v6', address: 'fd00::2', port: 8083 }));
    await h.call('register', apiInstance('web', { id: 'web-sick', address: '10.1.0.9', port: 8089, checks: [{ type: 'ttl', ttl: '1m' }] }));
  });
  afterAll(async () => {
    await h.tearDown();
  });

  const queryUdp = (packet: Buffer) =>
    new Promise<Buffer | undefined>((resolve) => {
      const s = createSocket('udp4');
      const timer = setTimeout(() => {
        s.close();
        resolve(undefined);
      }, 500);
      s.on('message', (m) => {
        clearTimeout(timer);
        s.close();
        resolve(m);
      });
      s.send(packet, port, '127.0.0.1');
    });

  it('answers A queries with passing instances only', async () => {
    expect((await resolver.resolve4('web.service.fleet')).sort()).toEqual(['10.1.0.1', '10.1.0.2']);
    const withTtl = await resolver.resolve4('web.service.fleet', { ttl: true });
    expect(withTtl.every((r) => r.ttl === 5)).toBe(true);
    expect(await resolver.resolve6('web.service.fleet')).toEqual(['fd00::2']);
  });

  it('answers tag queries and SRV queries', async () => {
    expect(await resolver.resolve4('primary.web.service.fleet')).toEqual(['10.1.0.1']);
    const srv = await resolver.resolveSrv('_web._tcp.service.fleet');
    expect(srv.map((r) => r.port).sort()).toEqual([8081, 8082, 8083]);
    expect(srv.find((r) => r.port === 8081)?.name).toBe('0a010001.addr.fleet');
    expect(await resolver.resolve4('0a010001.addr.fleet')).toEqual(['10.1.0.1']);
  });

  it('says NXDOMAIN for unknown services', async () => {
    await expect(resolver.resolve4('nope.service.fleet')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('nosuchtag.web.service.fleet')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('follows changes as they happen, from the in-memory catalog', async () => {
    await h.call('ttl', { instanceId: 'web-sick', checkId: 'ttl-1', status: 'passing' });
    await eventually(async () => (await resolver.resolve4('web.service.fleet')).includes('10.1.0.9'), 2000);
    await h.call('deregister', { id: 'web-1' });
    await eventually(async () => !(await resolver.resolve4('web.service.fleet')).includes('10.1.0.1'), 2000);
    await expect(resolver.resolve4('primary.web.service.fleet')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers over TCP with two-byte length framing, several queries on one connection', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const replies: ReturnType<typeof dnsPacket.decode>[] = [];
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        replies.push(dnsPacket.decode(buffer.subarray(2, 2 + buffer.readUInt16BE(0))));
        buffer = buffer.subarray(2 + buffer.readUInt16BE(0));
      }
    });
    socket.write(dnsPacket.streamEncode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'web.service.fleet' }] }));
    socket.write(dnsPacket.streamEncode({ type: 'query', id: 2, questions: [{ type: 'SRV', name: '_web._tcp.service.fleet' }] }));
    await eventually(() => replies.length === 2, 2000);
    socket.destroy();
    const a = replies.find((r) => r.id === 1)!;
    expect((a as { rcode?: string }).rcode).toBe('NOERROR');
    expect(a.answers!.map((x) => (x as { data: string }).data).sort()).toEqual(['10.1.0.2', '10.1.0.9']);
    const srv = replies.find((r) => r.id === 2)!;
    expect(srv.answers!.every((x) => x.type === 'SRV')).toBe(true);
    expect(srv.additionals!.length).toBeGreaterThan(0);
  });

  it('survives malformed packets: FORMERR with a header, silence without, and keeps answering', async () => {
    const garbage = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f, 0x41]);
    const reply = await queryUdp(garbage);
    expect(reply).toBeDefined();
    expect(reply!.readUInt16BE(0)).toBe(0xabcd);
    expect(reply!.readUInt16BE(2) & 0xf).toBe(1);
    expect(await queryUdp(Buffer.from([1, 2, 3]))).toBeUndefined();
    // A TCP client sending junk framing is dropped, not the server.
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(Buffer.from([0, 3, 1, 2, 3]));
    await new Promise((r) => socket.once('close', r));
    expect((await resolver.resolve4('web.service.fleet')).length).toBeGreaterThan(0);
  });

  it('refuses names outside its domain', async () => {
    const reply = await queryUdp(dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name: 'example.com' }] }));
    expect((dnsPacket.decode(reply!) as { rcode?: string }).rcode).toBe('REFUSED');
  });
});
