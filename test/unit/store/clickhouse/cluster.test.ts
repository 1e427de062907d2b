// The cluster form of the schema is derived from the released migrations: every table has a
// placement, replicated tables get a path per shard (or one for all nodes), views read and
// write local tables, and the single-server text is reused as it is.
import { describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../../services/core/errors.js';
import { clusterStatements, MIGRATIONS, PLACEMENTS, sql } from '../../../../services/store/clickhouse/index.js';

const DB = 'lk_db';
const CLUSTER = 'lk_cluster';
const statements = MIGRATIONS.flatMap((m) => m.statements(DB));
const created = (text: string) => /^CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS `lk_db`\.`(\w+)`/.exec(text)?.[1];

describe('the cluster form of the migrations', () => {
  const tables = statements.filter((s) => s.text.startsWith('CREATE TABLE')).map((s) => created(s.text)!);

  it('gives every table of every migration a placement', () => {
    for (const t of [...tables, 'schema_migrations']) expect(PLACEMENTS.has(t), t).toBe(true);
  });

  it.each(tables)('creates %s replicated on the cluster, keeping its columns, sort key and partitions', (table) => {
    const single = statements.find((s) => created(s.text) === table)!;
    const out = clusterStatements(single, DB, CLUSTER).map((s) => s.text);
    const placement = PLACEMENTS.get(table)!;
    const local = placement.kind === 'sharded' ? `${table}_local` : table;
    expect(out[0]).toContain(`CREATE TABLE IF NOT EXISTS \`lk_db\`.\`${local}\` ON CLUSTER \`lk_cluster\` (`);
    expect(out[0]).toMatch(new RegExp(`ENGINE = Replicated\\w*MergeTree\\('/clickhouse/tables/\\{cluster\\}/lk_db/${table}/${placement.kind === 'sharded' ? '\\{shard\\}' : 'all'}', '\\{replica\\}'`));
    // Everything but the name and the engine is the single server's text.
    const body = (text: string) => text.slice(text.indexOf('('), text.indexOf(') ENGINE = '));
    const after = (text: string) => text.slice(text.indexOf('\n', text.indexOf(') ENGINE = ')));
    expect(body(out[0]!)).toBe(body(single.text));
    expect(after(out[0]!)).toBe(after(single.text));
    if (placement.kind === 'sharded') {
      expect(out).toHaveLength(2);
      expect(out[1]).toContain(`CREATE TABLE IF NOT EXISTS \`lk_db\`.\`${table}\` ON CLUSTER \`lk_cluster\` AS \`lk_db\`.\`${table}_local\``);
      expect(out[1]).toContain(`ENGINE = Distributed('lk_cluster', 'lk_db', '${table}_local'${placement.key === null ? '' : `, ${placement.key.text}`})`);
    } else {
      expect(out).toHaveLength(1);
    }
  });

  it('shards disclosures by subscriber, so who-saw reads one shard and a replay lands where its first copy did', () => {
    const disclosures = PLACEMENTS.get('disclosures')!;
    expect(disclosures.kind === 'sharded' && disclosures.key?.text).toBe('cityHash64(subscriber_hash)');
  });

  it('keeps the ReplacingMergeTree version column as the replicated engine\'s last argument', () => {
    const meta = statements.find((s) => created(s.text) === 'meta')!;
    expect(clusterStatements(meta, DB, CLUSTER)[0]!.text).toContain("ReplicatedReplacingMergeTree('/clickhouse/tables/{cluster}/lk_db/meta/all', '{replica}', `version`)");
  });

  it('makes every materialized view read and write the local tables of its node', () => {
    const views = statements.filter((s) => s.text.startsWith('CREATE MATERIALIZED VIEW'));
    expect(views.length).toBeGreaterThan(0);
    for (const view of views) {
      const [out, ...more] = clusterStatements(view, DB, CLUSTER).map((s) => s.text);
      expect(more).toEqual([]);
      expect(out).toMatch(/^CREATE MATERIALIZED VIEW IF NOT EXISTS `lk_db`\.`\w+_mv` ON CLUSTER `lk_cluster` TO `lk_db`\.`\w+_local` AS\n/);
      const read = [...out!.matchAll(/FROM `lk_db`\.`(\w+)`/g)].map((m) => m[1]);
      expect(read.length).toBeGreaterThan(0);
      for (const table of read) expect(table).toMatch(/_local$/);
      // The SELECT is otherwise the single server's.
      expect(out!.slice(out!.indexOf(' AS\n')).replaceAll('_local`', '`')).toBe(view.text.slice(view.text.indexOf(' AS\n')));
    }
  });

  it('refuses a statement it cannot derive, and a table with no placement', () => {
    const refused = (text: string) => {
      try {
        clusterStatements(sql(Object.assign([text], { raw: [text] })), DB, CLUSTER);
      } catch (err) {
        return err;
      }
      return null;
    };
    expect(refused('ALTER TABLE `lk_db`.`disclosures` ADD COLUMN x String')).toBeInstanceOf(LeakscopeError);
    const unknown = refused('CREATE TABLE IF NOT EXISTS `lk_db`.`brand_new` (\n  x String\n) ENGINE = MergeTree()\nORDER BY x');
    expect(unknown).toBeInstanceOf(LeakscopeError);
    expect((unknown as Error).message).toContain('brand_new has no cluster placement');
    const elsewhere = refused('CREATE TABLE IF NOT EXISTS `other`.`meta` (\n  x String\n) ENGINE = MergeTree()\nORDER BY x');
    expect((elsewhere as Error).message).toContain('names database other');
  });
});
