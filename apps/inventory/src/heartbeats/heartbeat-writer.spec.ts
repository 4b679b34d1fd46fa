import { describe, expect, it } from 'vitest';
import { HeartbeatBuffer } from './heartbeat-buffer.js';
import { flushParams } from './heartbeat-writer.js';
import { hb } from './heartbeat.fixtures.js';

describe('flushParams', () => {
  it('renders one PostgreSQL array literal per column, escaping OS versions', () => {
    const buffer = new HeartbeatBuffer({ maxNodes: 10 });
    buffer.add('n-1', hb(12.5), 1000);
    buffer.add('n_2', hb(7, 'v"1\\2'), 1990);
    const params = flushParams(buffer.take(2000), 2000);
    expect(params).toEqual([
      '{"n-1","n_2"}',
      '{1000,10}',
      '{12.5,7}',
      '{0.5,0.5}',
      '{1,1}',
      '{1.5,1.5}',
      '{8,8}',
      '{4,4}',
      '{100,100}',
      '{50,50}',
      '{"healthy","healthy"}',
      '{NULL,"v\\"1\\\\2"}',
    ]);
  });
});
