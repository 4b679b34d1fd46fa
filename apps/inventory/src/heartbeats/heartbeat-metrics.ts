import { counter, gauge, histogram } from '#lib/telemetry';

export const heartbeatMetrics = {
  received: counter('fleet_inventory_heartbeats_received_total', 'Valid heartbeats taken into the buffer or coalesced'),
  dropped: counter('fleet_inventory_heartbeats_dropped_total', 'Heartbeats dropped, by reason', ['reason']),
  coalesced: counter('fleet_inventory_heartbeats_coalesced_total', 'Heartbeats superseded by a newer one before a flush'),
  flushed: counter('fleet_inventory_heartbeats_flushed_total', 'Heartbeats accounted for by successful flushes'),
  rows: counter('fleet_inventory_heartbeat_rows_flushed_total', 'Node rows written by heartbeat flushes'),
  failures: counter('fleet_inventory_heartbeat_flush_failures_total', 'Heartbeat flushes that failed and were retried'),
  unknown: counter('fleet_inventory_heartbeats_unknown_node_total', 'Heartbeats from nodes the inventory does not know'),
  helloAgain: counter('fleet_inventory_hello_again_sent_total', 'hello-again notices sent to unknown nodes'),
  batchSize: histogram(
    'fleet_inventory_heartbeat_flush_batch_size',
    'Rows per heartbeat flush',
    [],
    [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 25000],
  ),
  flushSeconds: histogram('fleet_inventory_heartbeat_flush_seconds', 'Duration of one heartbeat flush statement'),
  buffered: gauge('fleet_inventory_heartbeats_buffered', 'Distinct nodes waiting in the heartbeat buffer'),
};
