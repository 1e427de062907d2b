// Kafka plumbing shared by every service: the client, topic names and creation, the producer
// (gateway requests, dead-letter records, partner records, alerts) and its partitioner, and
// reading a topic from its beginning (the partner registry) while following it.
export { KAFKA_BROKERS_ENV, brokerError, createKafkaClient, parseBrokers } from './client.js';
export type { ClientOptions } from './client.js';
export { TOPIC_PREFIX_ENV, ensureTopics, prepareTopics, topicNames } from './topics.js';
export type { TopicLayout, TopicNames } from './topics.js';
export { TopicFollower, fetchHighWatermarks } from './follow-topic.js';
export type { FollowedMessage, TopicFollowerOptions } from './follow-topic.js';
export { STREAM_FLAGS_USAGE, STREAM_FLAG_OPTIONS, streamConnection } from './config.js';
export type { StreamConnection } from './config.js';
export { DLQ_HEADERS, StreamProducer, poisonMessage, rejectMessage } from './producer.js';
export type { ProducerOptions } from './producer.js';
