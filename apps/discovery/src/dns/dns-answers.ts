import { isIP } from 'node:net';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import type { InstanceView } from '#contracts/discovery';

/** What the DNS server needs from the catalog. */
export interface DnsCatalog {
  /** Undefined when the service has no instances at all. */
  instancesOf(service: string): Iterable<InstanceView> | undefined;
  readonly index: number;
}

export interface DnsOptions {
  /** `fleet`: names are `<name>.service.fleet`. */
  domain: string;
  ttl: number;
}

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

type Parsed =
  | { kind: 'service'; service: string; tag?: string }
  | { kind: 'addr'; address: string }
  | { kind: 'apex' }
  | { kind: 'nxdomain' }
  | { kind: 'refused' };

/** `c0a80001` ⇄ 192.168.0.1; 32 hex digits ⇄ an IPv6 address (Consul's `.addr.` names). */
export function addrLabel(address: string): string | undefined {
  if (isIP(address) === 4) return address.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  if (isIP(address) === 6) {
    const [head, tail = ''] = address.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined; // e.g. v4-mapped
    return groups.map((g) => g.padStart(4, '0').toLowerCase()).join('');
  }
  return undefined;
}

function addrFromLabel(label: string): string | undefined {
  if (/^[0-9a-f]{8}$/.test(label)) return label.match(/../g)!.map((b) => parseInt(b, 16)).join('.');
  if (/^[0-9a-f]{32}$/.test(label)) return label.match(/.{4}/g)!.join(':');
  return undefined;
}

export function parseName(name: string, domain: string): Parsed {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n === domain || n === `service.${domain}`) return { kind: 'apex' };
  if (!n.endsWith(`.${domain}`)) return { kind: 'refused' };
  const labels = n.slice(0, -(domain.length + 1)).split('.');
  const zone = labels.pop();
  if (zone === 'addr' && labels.length === 1) {
    const address = addrFromLabel(labels[0]);
    return address ? { kind: 'addr', address } : { kind: 'nxdomain' };
  }
  if (zone !== 'service') return { kind: 'nxdomain' };
  if (labels.length === 1) return { kind: 'service', service: labels[0] };
  if (labels.length === 2) {
    // RFC 2782 style `_name._tag` (`_tcp` meaning any tag), else `tag.name`.
    if (labels[0].startsWith('_') && labels[1].startsWith('_')) {
      const tag = labels[1].slice(1);
      return { kind: 'service', service: labels[0].slice(1), tag: tag === 'tcp' || tag === 'udp' ? undefined : tag };
    }
    return { kind: 'service', service: labels[1], tag: labels[0] };
  }
  return { kind: 'nxdomain' };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

function soa(opts: DnsOptions, serial: number): Answer {
  return {
    name: opts.domain,
    type: 'SOA',
    ttl: opts.ttl,
    data: {
      mname: `ns.${opts.domain}`,
      rname: `hostmaster.${opts.domain}`,
      serial: serial >>> 0,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: opts.ttl,
    },
  };
}

function addressRecord(name: string, address: string, ttl: number): Answer | undefined {
  const family = isIP(address);
  if (family === 4) return { name, type: 'A', ttl, data: address };
  if (family === 6) return { name, type: 'AAAA', ttl, data: address };
  return undefined;
}

/** The answer to a decoded query: rcode, answers and additionals, ready to encode. */
export function answerQuery(query: Packet, catalog: DnsCatalog, opts: DnsOptions): Packet {
  const questions: Question[] = query.questions ?? [];
  const response: Packet = {
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
    questions,
    answers: [],
    authorities: [],
    additionals: [],
  };
  const setRcode = (rcode: number) => {
    response.flags = (response.flags ?? 0) | rcode;
    return response;
  };
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  if (opcode !== 0) return setRcode(RCODE.NOTIMP);
  if (questions.length !== 1) return setRcode(RCODE.FORMERR);
  const q = questions[0];
  if (q.class && q.class !== 'IN' && q.class !== 'ANY') return setRcode(RCODE.REFUSED);
  const parsed = parseName(q.name, opts.domain);
  const type = q.type as string; // dns-packet decodes qtype 255 as 'ANY', which its types omit
  const wantsA = type === 'A' || type === 'ANY';
  const wantsAAAA = type === 'AAAA' || type === 'ANY';
  const nodata = () => {
    response.authorities!.push(soa(opts, catalog.index));
    return response;
  };

  switch (parsed.kind) {
    case 'refused':
      return setRcode(RCODE.REFUSED);
    case 'nxdomain':
      response.authorities!.push(soa(opts, catalog.index));
      return setRcode(RCODE.NXDOMAIN);
    case 'apex':
      if (q.type === 'SOA') response.answers!.push(soa(opts, catalog.index));
      return response.answers!.length ? response : nodata();
    case 'addr': {
      const rec = addressRecord(q.name, parsed.address, opts.ttl);
      if (rec && ((rec.type === 'A' && wantsA) || (rec.type === 'AAAA' && wantsAAAA))) response.answers!.push(rec);
      return response.answers!.length ? response : nodata();
    }
    case 'service': {
      const all = catalog.instancesOf(parsed.service);
      if (!all) {
        response.authorities!.push(soa(opts, catalog.index));
        return setRcode(RCODE.NXDOMAIN);
      }
      const tagged: InstanceView[] = [];
      const tag = parsed.tag;
      for (const i of all) if (!tag || i.tags.some((t) => t.toLowerCase() === tag)) tagged.push(i);
      if (tagged.length === 0) {
        response.authorities!.push(soa(opts, catalog.index));
        return setRcode(RCODE.NXDOMAIN);
      }
      const passing = shuffle(tagged.filter((i) => i.health === 'passing'));
      if (q.type === 'SRV') {
        const added = new Set<string>();
        for (const i of passing) {
          const label = addrLabel(i.address);
          const target = label ? `${label}.addr.${opts.domain}` : i.address;
          response.answers!.push({ name: q.name, type: 'SRV', ttl: opts.ttl, data: { priority: 1, weight: 1, port: i.port, target } });
          const extra = label && !added.has(target) ? addressRecord(target, i.address, opts.ttl) : undefined;
          if (extra) {
            added.add(target);
            response.additionals!.push(extra);
          }
        }
      } else {
        const seen = new Set<string>();
        for (const i of passing) {
          if (seen.has(i.address)) continue;
          const rec = addressRecord(q.name, i.address, opts.ttl);
          if (rec && ((rec.type === 'A' && wantsA) || (rec.type === 'AAAA' && wantsAAAA))) {
            seen.add(i.address);
            response.answers!.push(rec);
          }
        }
      }
      return response.answers!.length ? response : nodata();
    }
  }
}

/**
 * Encodes within `maxBytes` (512 for plain UDP, the client's EDNS size otherwise, 65535 on TCP):
 * drops additionals, then answers from the end, and sets TC so the client retries over TCP.
 */
export function encodeWithin(response: Packet, maxBytes: number): Buffer {
  let buf = dnsPacket.encode(response);
  if (buf.length <= maxBytes) return buf;
  const trimmed: Packet = { ...response, additionals: (response.additionals ?? []).filter((a) => a.type === 'OPT'), answers: [...(response.answers ?? [])] };
  trimmed.flags = (trimmed.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE;
  buf = dnsPacket.encode(trimmed);
  while (buf.length > maxBytes && trimmed.answers!.length > 0) {
    trimmed.answers!.pop();
    buf = dnsPacket.encode(trimmed);
  }
  return buf;
}

/** A FORMERR reply to bytes that do not decode, when at least the header is there. */
export function formErr(raw: Buffer): Buffer | undefined {
  if (raw.length < 12) return undefined;
  const out = Buffer.alloc(12);
  raw.copy(out, 0, 0, 2);
  const flags = raw.readUInt16BE(2);
  out.writeUInt16BE(0x8000 | (flags & 0x7800) | (flags & 0x0100) | RCODE.FORMERR, 2);
  return out;
}
