import { z } from 'zod';

const HOST_PORT_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

const address = z.string().regex(HOST_PORT_PATTERN, { error: 'expected host:port, such as 127.0.0.1:9464 or [::1]:9464' });

/** The `metrics:` section as written: the health listener (/metrics, /healthz, /status). */
export const metricsSchema = z
  .strictObject({
    listen: address.describe('Loopback host:port of the listener, such as 127.0.0.1:9464.'),
    services: z.record(z.string().min(1), address).optional().describe('host:port per service, for configs run as several services on one host (each needs its own port).'),
    pools: z
      .record(z.string().min(1), z.record(z.string().min(1), address))
      .optional()
      .describe('host:port per pool of a service (pools.SERVICE.POOL), for pools run side by side on one host.'),
    allowNonLoopback: z.boolean().optional().describe('Listen on a non-loopback address too. The listener has no authentication: put it behind a firewall or a proxy.'),
  })
  .describe('Health listener: Prometheus /metrics, /healthz and /status (docs/operations.md).');

export type RawMetrics = z.infer<typeof metricsSchema>;
