import { describe, expect, it } from 'vitest';
import { parseOrThrow } from '#contracts/common';
import { checkedPatchNodeBody, listNodesQuery, toUpdateRequest } from './nodes.dto.js';

describe('node HTTP shapes', () => {
  it('turns a labels merge-patch into set and remove lists', () => {
    const body = parseOrThrow(checkedPatchNodeBody, { labels: { env: 'prod', legacy: null }, group: 'edge' }, 'patch');
    expect(toUpdateRequest('n1', body)).toEqual({ id: 'n1', setLabels: { env: 'prod' }, removeLabels: ['legacy'], group: 'edge' });
    expect(toUpdateRequest('n1', { group: 'edge' })).toEqual({ id: 'n1', group: 'edge' });
  });

  it('refuses empty, unknown-field and malformed patches', () => {
    expect(() => parseOrThrow(checkedPatchNodeBody, {}, 'patch')).toThrow(/nothing to change/);
    expect(() => parseOrThrow(checkedPatchNodeBody, { lables: {} }, 'patch')).toThrow(/lables|Unrecognized/);
    expect(() => parseOrThrow(checkedPatchNodeBody, { labels: { 'bad key': 'x' } }, 'patch')).toThrow(/bad label key/);
    expect(() => parseOrThrow(checkedPatchNodeBody, { labels: { k: 'bad value!' } }, 'patch')).toThrow(/bad label value/);
    expect(() => parseOrThrow(checkedPatchNodeBody, { group: 'Not A Group' }, 'patch')).toThrow(/group/);
  });

  it('coerces query strings and checks the selector at the edge', () => {
    expect(parseOrThrow(listNodesQuery, { limit: '5', status: 'online' }, 'query')).toEqual({ limit: 5, status: 'online' });
    expect(parseOrThrow(listNodesQuery, {}, 'query')).toEqual({ limit: 100 });
    expect(() => parseOrThrow(listNodesQuery, { selector: 'a in (b' }, 'query')).toThrow(/unbalanced/);
    expect(() => parseOrThrow(listNodesQuery, { limit: '0' }, 'query')).toThrow(/limit/);
    expect(() => parseOrThrow(listNodesQuery, { status: 'sleeping' }, 'query')).toThrow(/status/);
  });
});
