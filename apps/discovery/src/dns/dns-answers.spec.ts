import { describe, expect, it } from 'vitest';
import dnsPacket, { type Packet } from 'dns-packet';
import type { InstanceView } from '#contracts/discovery';
import { RCODE, addrLabel, answerQuery, encodeWithin, formErr, parseName, type DnsCatalog } from './dns-answers.js';

const inst = (id: string, address: string, over: Partial<InstanceView> = {}) =>
  ({ id, service: 'web', address, port: 8080, tags: [], health: 'passing', ...over }) as InstanceView;

const catalog = (instances: InstanceView[]): DnsCatalog => ({
  index: 42,
  instancesOf: (service) => {
    const list = instances.filter((i) => i.service === service);
    return list.length ? list : undefined;
  },
});

const opts = { domain: 'fleet', ttl: 0 };
const ask = (name: string, type: string, cat: DnsCatalog, flags = dnsPacket.RECURSION_DESIRED) =>
  answerQuery({ type: 'query', id: 7, flags, questions: [{ name, type: type as never, class: 'IN' }] }, cat, opts);
const rcode = (p: Packet) => (p.flags ?? 0) & 0xf;

const web = catalog([
  inst('a', '10.0.0.1', { tags: ['primary'] }),
  inst('b', '10.0.0.2'),
  inst('c', '10.0.0.3', { health: 'critical', tags: ['primary'] }),
  inst('d', 'fd00::1', { health: 'passing' }),
  inst('e', 'db.example.net', { service: 'ext', port: 5432 }),
]);

describe('DNS names', () => {
  it('parses service, tag, RFC 2782 and addr names under the domain', () => {
    expect(parseName('web.service.fleet.', 'fleet')).toEqual({ kind: 'service', service: 'web' });
    expect(parseName('Primary.WEB.service.fleet', 'fleet')).toEqual({ kind: 'service', service: 'web', tag: 'primary' });
    expect(parseName('_web._tcp.service.fleet', 'fleet')).toEqual({ kind: 'service', service: 'web', tag: undefined });
    expect(parseName('_web._primary.service.fleet', 'fleet')).toEqual({ kind: 'service', service: 'web', tag: 'primary' });
    expect(parseName('0a000001.addr.fleet', 'fleet')).toEqual({ kind: 'addr', address: '10.0.0.1' });
    expect(parseName('example.com', 'fleet')).toEqual({ kind: 'refused' });
    expect(parseName('a.b.c.service.fleet', 'fleet')).toEqual({ kind: 'nxdomain' });
  });

  it('encodes addresses as hex labels', () => {
    expect(addrLabel('192.168.0.1')).toBe('c0a80001');
    expect(addrLabel('fd00::1')).toBe('fd000000000000000000000000000001');
    expect(addrLabel('db.example.net')).toBeUndefined();
  });
});

describe('DNS answers', () => {
  it('returns A records of passing instances only, authoritative, with the configured TTL', () => {
    const r = ask('web.service.fleet', 'A', web);
    expect(rcode(r)).toBe(RCODE.NOERROR);
    expect((r.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER).toBeTruthy();
    expect(r.answers!.map((a) => (a as { data: string }).data).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(r.answers!.every((a) => (a as { ttl: number }).ttl === 0)).toBe(true);
  });

  it('returns AAAA records for IPv6 instances and filters by tag', () => {
    expect(ask('web.service.fleet', 'AAAA', web).answers!.map((a) => (a as { data: string }).data)).toEqual(['fd00::1']);
    expect(ask('primary.web.service.fleet', 'A', web).answers!.map((a) => (a as { data: string }).data)).toEqual(['10.0.0.1']);
  });

  it('returns SRV records with the addresses in the additional section', () => {
    const r = ask('_web._tcp.service.fleet', 'SRV', web);
    const targets = r.answers!.map((a) => (a as { data: { target: string; port: number } }).data);
    expect(targets).toHaveLength(3);
    expect(targets.every((t) => t.port === 8080)).toBe(true);
    expect(targets.map((t) => t.target)).toContain('0a000001.addr.fleet');
    expect(r.additionals!.map((a) => `${a.type} ${a.name}`).sort()).toEqual([
      'A 0a000001.addr.fleet',
      'A 0a000002.addr.fleet',
      'AAAA fd000000000000000000000000000001.addr.fleet',
    ]);
  });

  it('points SRV at host names as they are', () => {
    const r = ask('ext.service.fleet', 'SRV', web);
    expect((r.answers![0] as { data: { target: string } }).data.target).toBe('db.example.net');
    expect(ask('ext.service.fleet', 'A', web).answers).toEqual([]);
  });

  it('says NXDOMAIN for unknown services and tags, NODATA with an SOA for known names without records', () => {
    const unknown = ask('nope.service.fleet', 'A', web);
    expect(rcode(unknown)).toBe(RCODE.NXDOMAIN);
    expect(unknown.authorities![0].type).toBe('SOA');
    expect(rcode(ask('nosuchtag.web.service.fleet', 'A', web))).toBe(RCODE.NXDOMAIN);
    const nodata = ask('web.service.fleet', 'TXT', web);
    expect(rcode(nodata)).toBe(RCODE.NOERROR);
    expect(nodata.answers).toEqual([]);
    expect(nodata.authorities![0].type).toBe('SOA');
  });

  it('refuses names outside its domain and rejects odd queries', () => {
    expect(rcode(ask('example.com', 'A', web))).toBe(RCODE.REFUSED);
    expect(rcode(answerQuery({ type: 'query', id: 1, questions: [] }, web, opts))).toBe(RCODE.FORMERR);
    expect(rcode(answerQuery({ type: 'query', id: 1, flags: 2 << 11, questions: [{ name: 'x.fleet', type: 'A' }] }, web, opts))).toBe(
      RCODE.NOTIMP,
    );
  });

  it('truncates an oversize UDP answer and sets TC', () => {
    const many = catalog(Array.from({ length: 100 }, (_, i) => inst(`i${i}`, `10.1.${Math.floor(i / 250)}.${i % 250}`)));
    const r = ask('web.service.fleet', 'A', many);
    const full = encodeWithin(r, 65535);
    const small = encodeWithin(r, 512);
    expect(full.length).toBeGreaterThan(512);
    expect(small.length).toBeLessThanOrEqual(512);
    const decoded = dnsPacket.decode(small);
    expect(decoded.flag_tc).toBe(true);
    expect(dnsPacket.decode(full).answers).toHaveLength(100);
  });

  it('answers undecodable bytes with FORMERR when there is a header, else nothing', () => {
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    const reply = formErr(garbage)!;
    expect(reply.readUInt16BE(0)).toBe(0x1234);
    expect(reply.readUInt16BE(2) & 0x8000).toBeTruthy();
    expect(reply.readUInt16BE(2) & 0xf).toBe(RCODE.FORMERR);
    expect(formErr(Buffer.from([1, 2, 3]))).toBeUndefined();
  });
});
