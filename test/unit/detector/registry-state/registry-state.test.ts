import { describe, expect, it } from 'vitest';
import { AvroCodec, toAvroPartnerRecords, type AvroPartnerRecord } from '../../../../services/avro/index.js';
import { parseRegistry } from '../../../../services/core/registry/index.js';
import { REGISTRY_SETTINGS_KEY, RegistryState } from '../../../../services/detector/registry-state/index.js';

const codec = new AvroCodec();

function registryText(version: string, partners: string): string {
  return `version: "${version}"\nregion: GB\npartners:\n${partners}`;
}
const AGE = '  - {id: ageverify, name: AgeVerify, domains: ["*.ageverify.example"], identifiers: [x-msisdn], valid_to: "2012-01-15T00:00:00Z"}\n';
const BILL = '  - {id: billing, name: Billing, domains: ["pay.billing.example"], identifiers: [x-msisdn], valid_from: "2012-01-15T00:00:00Z"}\n';

/** The messages `registry publish` writes for a registry: partners, then the settings record. */
function messagesOf(text: string): Array<[string, Buffer | null]> {
  const registry = parseRegistry(text, 'test');
  const records = toAvroPartnerRecords(registry);
  const settings: AvroPartnerRecord = {
    registry_version: registry.version, region: registry.region, identity_headers: [...registry.identityHeaders],
    partner_count: records.length, partner_id: REGISTRY_SETTINGS_KEY, periods: [],
  };
  return [...records, settings].map((r) => [r.partner_id, codec.encode('PartnerRecord', r)]);
}

function applyAll(state: RegistryState, messages: Array<[string, Buffer | null]>) {
  for (const [k, v] of messages) state.applyMessage(k, v);
  return state.settle();
}

describe('RegistryState', () => {
  it('applies a complete version and keeps every validity period', () => {
    const state = new RegistryState(codec);
    expect(state.settle()).toEqual({ kind: 'unchanged' });
    const outcome = applyAll(state, messagesOf(registryText('v1', AGE + BILL)));
    expect(outcome).toEqual({ kind: 'applied', version: 'v1', partners: 2, entries: 2 });
    const partners = state.current!.registry.partners;
    expect(partners.find((p) => p.id === 'ageverify')?.validTo).toBe(Date.parse('2012-01-15T00:00:00Z'));
    expect(state.current!.snapshot.matchHost('x.ageverify.example')).toHaveLength(1);
  });

  it('waits while a publish is in flight: records of two versions never make a snapshot', () => {
    const state = new RegistryState(codec);
    applyAll(state, messagesOf(registryText('v1', AGE)));
    const v2 = messagesOf(registryText('v2', AGE + BILL));
    state.applyMessage(...v2[0]!); // ageverify of v2, billing and settings not yet read
    expect(state.settle().kind).toBe('pending');
    expect(state.current!.registry.version).toBe('v1');
    state.applyMessage(...v2[1]!);
    expect(state.settle().kind).toBe('pending'); // v2 partners read, but the v1 settings record says 1 partner
    state.applyMessage(...v2[2]!);
    expect(state.settle()).toMatchObject({ kind: 'applied', version: 'v2', partners: 2 });
  });

  it('removes a partner on a tombstone once the new version is complete', () => {
    const state = new RegistryState(codec);
    applyAll(state, messagesOf(registryText('v1', AGE + BILL)));
    const v2 = messagesOf(registryText('v2', AGE));
    const outcome = applyAll(state, [v2[0]!, ['billing', null], v2[1]!]);
    expect(outcome).toMatchObject({ kind: 'applied', version: 'v2', partners: 1 });
    expect(state.current!.snapshot.matchHost('pay.billing.example')).toHaveLength(0);
  });

  it('refuses a record that does not decode and keeps the registry in use', () => {
    const state = new RegistryState(codec);
    applyAll(state, messagesOf(registryText('v1', AGE)));
    const outcome = state.applyMessage('ageverify', Buffer.from('garbage'));
    expect(outcome.kind).toBe('refused');
    expect(state.settle()).toEqual({ kind: 'unchanged' });
    expect(state.current!.registry.version).toBe('v1');
  });

  it('refuses a complete version that does not validate, naming the problem, and keeps the last good one', () => {
    const state = new RegistryState(codec);
    applyAll(state, messagesOf(registryText('v1', AGE)));
    const bad: AvroPartnerRecord = {
      registry_version: 'v2', region: 'GB', identity_headers: [], partner_count: 1, partner_id: 'ageverify',
      periods: [{ name: 'A', purposes: [], domains: ['*.'], identifiers: ['x-msisdn'], valid_from: null, valid_to: null }],
    };
    const outcome = applyAll(state, [
      ['ageverify', codec.encode('PartnerRecord', bad)],
      [REGISTRY_SETTINGS_KEY, codec.encode('PartnerRecord', { ...bad, partner_id: REGISTRY_SETTINGS_KEY, periods: [] })],
    ]);
    expect(outcome.kind).toBe('refused');
    if (outcome.kind === 'refused') expect(outcome.problems.join('\n')).toMatch(/partners\[0\]\.domains\[0\]/);
    expect(state.current!.registry.version).toBe('v1');
  });

  it('refuses a record whose key is not its partner id', () => {
    const state = new RegistryState(codec);
    const [[, value]] = messagesOf(registryText('v1', AGE)) as [[string, Buffer]];
    expect(state.applyMessage('billing', value)).toMatchObject({ kind: 'refused', key: 'billing' });
  });

  it('refuses a version with another region and keeps the one in use', () => {
    const state = new RegistryState(codec);
    applyAll(state, messagesOf(registryText('v1', AGE)));
    const outcome = applyAll(state, messagesOf(registryText('v2', AGE).replace('region: GB', 'region: FI')));
    expect(outcome).toMatchObject({ kind: 'refused', version: 'v2' });
    if (outcome.kind === 'refused') expect(outcome.problems[0]).toMatch(/^region: FI differs from GB/);
    expect(state.current!.registry.version).toBe('v1');
  });

  it('reports the same registry twice as unchanged', () => {
    const state = new RegistryState(codec);
    applyAll(state, messagesOf(registryText('v1', AGE)));
    expect(applyAll(state, messagesOf(registryText('v1', AGE)))).toEqual({ kind: 'unchanged' });
  });
});
