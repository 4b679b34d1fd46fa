import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDefinitionSchema, resolveCheckIds, type CheckDefinitionInput } from '#contracts/discovery';
import { runProbe } from './probes.js';

const check = (def: CheckDefinitionInput) => resolveCheckIds([checkDefinitionSchema.parse(def)])[0];

describe('probes against real sockets and processes', () => {
  let http: Server;
  let base = '';
  beforeAll(async () => {
    http = createHttpServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      res.writeHead(Number(req.url!.slice(1)) || 200);
      res.end('x');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    http.closeAllConnections();
    http.close();
  });

  it('maps HTTP answers: 2xx passing, 429 warning, others and no answer critical', async () => {
    expect((await runProbe(check({ type: 'http', url: `${base}/204` }))).status).toBe('passing');
    expect((await runProbe(check({ type: 'http', url: `${base}/429` }))).status).toBe('warning');
    const e500 = await runProbe(check({ type: 'http', url: `${base}/500` }));
    expect(e500).toMatchObject({ status: 'critical' });
    expect(e500.output).toMatch(/500/);
    expect((await runProbe(check({ type: 'http', url: `${base}/302` }))).status).toBe('critical');
    const slow = await runProbe(check({ type: 'http', url: `${base}/slow`, timeout: '100ms' }));
    expect(slow).toMatchObject({ status: 'critical' });
    expect(slow.output).toMatch(/timed out/);
    expect((await runProbe(check({ type: 'http', url: 'http://127.0.0.1:1/' }))).status).toBe('critical');
  });

  it('passes a TCP check when the port accepts and fails it when refused', async () => {
    const tcp = createTcpServer((s) => s.destroy());
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as AddressInfo).port;
    expect((await runProbe(check({ type: 'tcp', tcp: `127.0.0.1:${port}` }))).status).toBe('passing');
    tcp.close();
    const refused = await runProbe(check({ type: 'tcp', tcp: `127.0.0.1:${port}` }));
    expect(refused.status).toBe('critical');
    expect(refused.output).toMatch(/ECONNREFUSED/);
  });

  it('maps command exits: 0 passing, 1 warning, 2 or a timeout critical, output captured', async () => {
    const sh = (script: string, timeout = '5s') => runProbe(check({ type: 'command', args: ['/bin/sh', '-c', script], timeout }));
    expect(await sh('echo fine')).toEqual({ status: 'passing', output: 'fine' });
    expect(await sh('echo meh; exit 1')).toEqual({ status: 'warning', output: 'meh' });
    expect((await sh('exit 2')).status).toBe('critical');
    const hung = await sh('sleep 5', '100ms');
    expect(hung.status).toBe('critical');
    expect(hung.output).toMatch(/timed out/);
    expect((await runProbe(check({ type: 'command', args: ['/no/such/binary'] }))).status).toBe('critical');
  });
});
