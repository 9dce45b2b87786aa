import { z } from 'zod';

/**
 * The `listen:` entries as written: each a named socket that secretvisor
 * opens once and hands to every child by the socket-activation protocol.
 */

// systemd's FileDescriptorName= rules: printable ASCII, no colon (the separator of LISTEN_FDNAMES), at most 255.
const FD_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,255}$/;
const HOST_PORT_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const MODE_PATTERN = /^0?[0-7]{3}$/;

const fdName = z.string().regex(FD_NAME_PATTERN, { error: 'expected a socket name: letters, digits, _ . - (it becomes a LISTEN_FDNAMES entry)' });

const idOrName = z.union([z.string().min(1), z.number().int().nonnegative()]);

const backlog = z.number().int().min(1).max(65_535).optional().describe('Connections the kernel queues while no child accepts; default 511.');

const tcpSocket = z.strictObject({
  name: fdName,
  tcp: z.string().regex(HOST_PORT_PATTERN, { error: 'expected host:port, such as 127.0.0.1:8080 or [::1]:8080' }).describe('host:port to listen on; [::1]:8080 for IPv6.'),
  backlog,
});

const unixSocket = z.strictObject({
  name: fdName,
  unix: z
    .string()
    .min(1)
    .regex(/^[^\0]*$/, { error: 'expected a path without NUL bytes' })
    .describe('Path of a Unix socket; relative to the config file.'),
  mode: z.string().regex(MODE_PATTERN, { error: 'expected an octal mode in quotes, such as "0660"' }).optional().describe('Default "0660".'),
  user: idOrName.optional().describe("Owner of the socket file; default the child's user."),
  group: idOrName.optional().describe("Group of the socket file; default the child's group."),
  backlog,
});

/** One `listen:` entry: a TCP or a Unix socket. */
export const listenEntry = z.union([tcpSocket, unixSocket]);

/** One `listen:` entry as written. */
export type RawListen = z.infer<typeof listenEntry>;
