// Kafka plumbing shared by every service: the client, topic names and creation, the producer
// (gateway requests, dead-letter records, partner records, alerts) and its partitioner, and
// reading a topic from its beginning (the partner registry) while following it; waiting for
// partition leaders and bounded retries of retryable broker errors (retry.ts).
export { KAFKA_BROKERS_ENV, brokerError, createKafkaClient, parseBrokers } from './client.js';
export type { ClientOptions } from './client.js';
export { TOPIC_PREFIX_ENV, ensureTopics, prepareTopics, topicNames, waitForTopicsReady } from './topics.js';
export type { ReadyOptions, TopicLayout, TopicNames } from './topics.js';
export { BROKER_RETRY, retryDelayMs, withBrokerRetries } from './retry.js';
export type { RetryOptions, RetryPolicy } from './retry.js';
export { TopicFollower, fetchHighWatermarks } from './follow-topic.js';
export type { FollowedMessage, TopicFollowerOptions } from './follow-topic.js';
export { STREAM_FLAGS_USAGE, STREAM_FLAG_OPTIONS, streamConnection } from './config.js';
export type { StreamConnection } from './config.js';
export { ACKS_ALL, DLQ_HEADERS, EncodedRequestsBuilder, MAX_MESSAGES_PER_REQUEST, StreamProducer, chunkTopicMessages, encodeRequests, encodedMessages, kafkajsProducerConfig, poisonMessage, rejectMessage } from './producer.js';
export type { EncodedRequests } from './producer.js';
export type { ProducerOptions, SendOptions } from './producer.js';
export { BROKER_CHECK_TIMEOUT_MS, checkBrokers } from './check.js';
