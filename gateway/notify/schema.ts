import type { Migration } from '../store/migrations';

/**
 * Migration 11: notifications (issue 10). Subscriptions, the dispatcher's cursor over the outbox,
 * one row per dispatched event (recipients, hospital, ward, restricted), worklist items per
 * recipient, and deliveries (the durable truth; queues only carry delivery ids).
 */
export const NOTIFY_MIGRATION: Migration = {
  version: 11,
  name: 'notifications: subscriptions, dispatched events, worklist items, deliveries',
  sql: `
CREATE TABLE notify_subscription (
  id text PRIMARY KEY,
  owner text NOT NULL,
  created_by text NOT NULL,
  topic text NOT NULL,
  recipient text NOT NULL,
  cancelled_events text[] NOT NULL DEFAULT '{}',
  channel_type text NOT NULL,
  endpoint text NOT NULL,
  content text NOT NULL,
  headers text[] NOT NULL DEFAULT '{}',
  timeout_ms integer NOT NULL,
  secret text NOT NULL,
  status text NOT NULL,
  reason text NOT NULL DEFAULT '',
  end_at timestamptz,
  events_since_start bigint NOT NULL DEFAULT 0,
  last_success_at timestamptz,
  last_error_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX notify_subscription_match_idx ON notify_subscription (recipient, topic) WHERE deleted_at IS NULL;
CREATE INDEX notify_subscription_owner_idx ON notify_subscription (owner) WHERE deleted_at IS NULL;

CREATE TABLE notify_cursor (
  name text PRIMARY KEY,
  outbox_id bigint NOT NULL
);
INSERT INTO notify_cursor (name, outbox_id) VALUES ('dispatch', 0);

CREATE TABLE notify_event (
  outbox_id bigint PRIMARY KEY,
  kind text NOT NULL,
  topic text,
  cancelled text,
  patient_id text,
  person_key text NOT NULL,
  encounter_id text,
  source text NOT NULL,
  event_time timestamptz NOT NULL,
  applied_at timestamptz NOT NULL,
  expected_discharge timestamptz,
  hospital text,
  ward text,
  recipients text[] NOT NULL DEFAULT '{}',
  restricted boolean NOT NULL DEFAULT false,
  superseded boolean NOT NULL DEFAULT false,
  dispatched_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notify_event_encounter_idx ON notify_event (encounter_id, outbox_id);
CREATE INDEX notify_event_topic_time_idx ON notify_event (topic, event_time);

CREATE TABLE notify_worklist_item (
  id bigserial PRIMARY KEY,
  outbox_id bigint NOT NULL,
  recipient text NOT NULL,
  roles text[] NOT NULL DEFAULT '{}',
  acknowledged_at timestamptz,
  acknowledged_by text,
  UNIQUE (outbox_id, recipient)
);
CREATE INDEX notify_worklist_recipient_idx ON notify_worklist_item (recipient, outbox_id);

CREATE TABLE notify_delivery (
  id bigserial PRIMARY KEY,
  subscription_id text NOT NULL,
  outbox_id bigint NOT NULL,
  lane text NOT NULL,
  event_number bigint NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  leased_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (subscription_id, outbox_id)
);
CREATE INDEX notify_delivery_lane_idx ON notify_delivery (lane, outbox_id) WHERE status IN ('pending', 'retry', 'sending');
CREATE INDEX notify_delivery_dead_idx ON notify_delivery (id) WHERE status = 'dead';
CREATE INDEX notify_delivery_outbox_idx ON notify_delivery (outbox_id)
`,
};

/**
 * Migration 14: notifications withheld by the access check. One row per event and recipient not
 * told, with the reason (a code, and the decision's own words when it denied the person; never
 * content), and a per-subscription count of the events it would have been sent.
 */
export const NOTIFY_WITHHELD_MIGRATION: Migration = {
  version: 14,
  name: 'notifications withheld by access rules: reasons per event and recipient, count per subscription',
  sql: `
ALTER TABLE notify_subscription ADD COLUMN withheld_events bigint NOT NULL DEFAULT 0;
CREATE TABLE notify_withheld (
  outbox_id bigint NOT NULL,
  recipient text NOT NULL,
  reason text NOT NULL,
  detail text,
  withheld_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (outbox_id, recipient)
);
CREATE INDEX notify_withheld_recipient_idx ON notify_withheld (recipient, outbox_id)
`,
};

/** Who acknowledged a worklist item, by the name they signed in with, so colleagues see a name rather than a user id. */
export const NOTIFY_ACKNOWLEDGER_NAME_MIGRATION: Migration = {
  version: 16,
  name: 'notification worklist: the acknowledger\'s display name',
  sql: `ALTER TABLE notify_worklist_item ADD COLUMN acknowledged_by_name text`,
};

/**
 * Migration 19: handshakes and heartbeats (Subscriptions Backport IG). A rest-hook subscription
 * made through the API starts `requested` and is told a handshake (`handshake_next_at` set while one
 * is owed); its events wait until the handshake is answered. `heartbeat_seconds` asks for a
 * heartbeat after that long without a notification. `control_leased_until` keeps two processes from
 * sending the same handshake or heartbeat at once. Subscriptions made before this are active already.
 */
export const NOTIFY_HANDSHAKE_MIGRATION: Migration = {
  version: 19,
  name: 'notifications: subscription handshakes and heartbeats',
  sql: `
ALTER TABLE notify_subscription ADD COLUMN heartbeat_seconds integer;
ALTER TABLE notify_subscription ADD COLUMN last_heartbeat_at timestamptz;
ALTER TABLE notify_subscription ADD COLUMN handshake_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE notify_subscription ADD COLUMN handshake_next_at timestamptz;
ALTER TABLE notify_subscription ADD COLUMN control_leased_until timestamptz;
CREATE INDEX notify_subscription_control_idx ON notify_subscription (id) WHERE deleted_at IS NULL AND (handshake_next_at IS NOT NULL OR heartbeat_seconds IS NOT NULL)
`,
};
