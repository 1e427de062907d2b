// The Kafka sources of `serve --brokers`: recent alerts from the leak-alerts topic (LeakAlert
// Avro), and the registry in use from the partner-registry topic, each read from the beginning
// by a reader group of its own that never commits. Alerts are kept in memory, the newest
// MAX_KEPT; a message that does not decode is logged and skipped (the detector's dead-letter
// path is the place for broken records, not the operator's alert page).
import type { Kafka as KafkaClient } from 'kafkajs';
import type { Logger } from 'pino';
import { AvroCodec, type AvroLeakAlert } from '../avro/index.js';
import type { Registry } from '../core/types.js';
import { RegistryState } from '../detector/registry-state/index.js';
import { TopicFollower, type TopicNames } from '../kafka/index.js';
import type { AlertJson } from './schemas.js';
import type { AlertSource, RegistrySource } from './sources.js';

const MAX_KEPT = 5_000;

export function alertJson(a: AvroLeakAlert): AlertJson {
  return {
    id: a.id, kind: a.kind, site: a.site, host: a.host, verdict: a.verdict, partner_id: a.partner_id,
    channels: [...a.channels], subscriber_masked: a.subscriber_masked, sites: [...a.sites],
    first_seen: new Date(Number(a.first_seen)).toISOString(), count: Number(a.count),
    detected_at: new Date(Number(a.detected_at)).toISOString(), registry_version: a.registry_version,
  };
}

export class KafkaAlertSource implements AlertSource {
  readonly description: string;
  private readonly codec = new AvroCodec();
  private readonly follower: TopicFollower;
  /** By id: a repeated alert (delivery is at least once) is kept once. */
  private readonly alerts = new Map<string, AlertJson>();

  constructor(kafka: KafkaClient, topic: string, private readonly log: Logger) {
    this.description = `kafka topic ${topic}`;
    this.follower = new TopicFollower(kafka, {
      topic, logger: log, groupPrefix: 'leakscope-serve-alerts',
      onMessages: (messages) => {
        for (const m of messages) {
          if (m.value === null) continue;
          try {
            const alert = alertJson(this.codec.decodeAs('LeakAlert', m.value));
            this.alerts.delete(alert.id);
            this.alerts.set(alert.id, alert);
          } catch (error) {
            this.log.warn({ partition: m.partition, offset: m.offset, err: (error as Error).message }, 'alert skipped');
          }
        }
        while (this.alerts.size > MAX_KEPT) this.alerts.delete(this.alerts.keys().next().value!);
      },
    });
  }

  async start(): Promise<void> {
    void this.follower.start().catch((error: unknown) => this.log.error({ err: (error as Error).message }, 'alerts source failed'));
  }

  async recent(sinceMs: number | null, limit: number): Promise<AlertJson[]> {
    return [...this.alerts.values()]
      .filter((a) => sinceMs === null || Date.parse(a.detected_at) >= sinceMs)
      .sort((a, b) => Date.parse(b.detected_at) - Date.parse(a.detected_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async close(): Promise<void> {
    await this.follower.stop();
  }
}

export class KafkaRegistrySource implements RegistrySource {
  private readonly state = new RegistryState(new AvroCodec());
  private readonly follower: TopicFollower;

  constructor(kafka: KafkaClient, topics: TopicNames, log: Logger) {
    this.follower = new TopicFollower(kafka, {
      topic: topics.registry, logger: log, groupPrefix: 'leakscope-serve-registry',
      onMessages: (messages) => {
        for (const m of messages) this.state.applyMessage(m.key, m.value);
        this.state.settle();
      },
    });
  }

  async start(log: Logger): Promise<void> {
    void this.follower.start().catch((error: unknown) => log.error({ err: (error as Error).message }, 'registry source failed'));
  }

  async current(): Promise<Registry | null> {
    return this.state.current?.registry ?? null;
  }

  async close(): Promise<void> {
    await this.follower.stop();
  }
}
