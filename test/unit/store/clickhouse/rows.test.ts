import { describe, expect, it } from 'vitest';
import { CONTRACT_DATA } from '../../../contract/store-contract.js';
import { CLICKHOUSE_COLUMNS as DISCLOSURE_COLUMNS, disclosureRow } from '../../../../services/store/clickhouse/rows.js';

const d = CONTRACT_DATA[0]!;

describe('disclosureRow', () => {
  it('writes every column of the disclosures table, nulls as null and a missing subscriber as ""', () => {
    const row = disclosureRow({ ...d, subscriberHash: null, subscriberMasked: null, subscriberEnc: null });
    expect(Object.keys(row)).toEqual([...DISCLOSURE_COLUMNS]);
    expect(row).toMatchObject({ id: 'id-1', ts_ms: d.ts, subscriber_hash: '', subscriber_enc: null, partner_id: null, channels: ['header:x-msisdn'] });
  });

  it('keeps hostile text as data: JSON escaping, no SQL', () => {
    const path = "'); DROP TABLE x; --\u0000\n\\";
    expect(JSON.parse(JSON.stringify(disclosureRow({ ...d, path }))).path).toBe(path);
  });

  it.each([
    [{ ts: -1 }, /ts is/],
    [{ ts: 1.5 }, /ts is/],
    [{ verdict: 'fine' }, /verdict is/],
    [{ status: 99.5 }, /status is/],
    [{ subscriberHash: '' }, /subscriberHash is/],
    [{ partnerId: '' }, /partnerId is/],
    [{ id: '' }, /id is/],
    [{ path: 'a\ud800' }, /^ClickHouse literal refused: disclosure "id-1" path holds a lone UTF-16 surrogate/],
    [{ subscriberMasked: '\ud800' }, /disclosure "id-1" subscriberMasked holds a lone UTF-16 surrogate/],
    [{ channels: ['url', '\udc00'] }, /lone UTF-16 surrogate/],
  ])('refuses %j, not retryable', (over, message) => {
    let caught: unknown;
    try { disclosureRow({ ...d, ...(over as object) }); } catch (e) { caught = e; }
    expect(caught).toMatchObject({ code: 'STORE_FAILED', retryable: false });
    expect((caught as Error).message).toMatch(message);
  });
});
