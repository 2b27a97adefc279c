import { readFileSync } from 'node:fs';
import { MAX_TURN_URLS } from '@kluis/protocol';
import { resolve } from 'node:path';
import { parseRateOverrides, RateOverrideError, type RateOverride } from './limits/configured-rules.js';
import type { LimitName } from './limits/rules.js';
import { configDefaults, serverConfigHelp, type ConfigOption } from './config-options.js';

export { configDefaults, serverConfigHelp, type ConfigOption } from './config-options.js';

/**
 * Everything the server needs, validated once at the edge and then passed explicitly
 * (no module state, so several servers can share one process). Fields after
 * `envelopeTtlMs` are optional so a harness can build a config by hand; startServer
 * fills them with `configDefaults`.
 */
export interface ServerConfig {
  /** Directory holding kluis.db and operator-token (created on first start). */
  dataDir: string;
  host: string;
  /** 0 picks a free port; RunningServer.port tells which. */
  port: number;
  /** Undelivered envelopes are deleted after this long. */
  envelopeTtlMs: number;
  /** SQLite `synchronous`: FULL fsyncs the WAL on every commit (survives power loss). */
  sqliteSync?: 'full' | 'normal';
  /** argon2id cost for device passwords (see auth/password-hasher.ts for the reasoning). */
  argon2MemoryKib?: number;
  argon2Iterations?: number;
  /** Verified device credentials kept in memory so a request does not pay argon2 again. */
  authCacheSize?: number;
  /** How often expired envelopes and link codes are deleted. */
  expiryIntervalMs?: number;
  /** '' = the embedded SQLite file in dataDir; a postgres:// URL = the shared cluster store. */
  database?: string;
  /** '' = in-process bus; comma-separated nats:// URLs = the cluster bus. */
  bus?: string;
  /** This node's name in a cluster (logs, NATS monitoring); defaults to the host name. */
  nodeName?: string;
  /** Where this node runs (e.g. 'eu-nl'), for clients that prefer their region. */
  region?: string;
  /** Attachment blobs; '' = `<dataDir>/blobs`. In a cluster, a path every node shares. */
  blobDir?: string;
  /** Largest attachment (plaintext) a client may send; the padded blob may be up to 5% larger. */
  maxAttachmentBytes?: number;
  /** Attachments are deleted this long after upload, fetched or not. */
  attachmentTtlMs?: number;
  /** Attachment reservations one account may make per hour (in memory, per node); past it 429. */
  attachmentReservationsPerHour?: number;
  /** Declared attachment bytes one account may reserve per day (in memory, per node); past it 429. */
  attachmentBytesPerDay?: number;
  /** Uploads reserved and not complete, store-wide; past it a reservation answers 507 STORAGE_FULL. */
  maxPendingAttachments?: number;
  /** Declared bytes of those uploads, store-wide; past it 507 STORAGE_FULL. */
  maxPendingAttachmentBytes?: number;
  /** Free space kept in the blob directory's filesystem, as bytes (0 = use the percent)… */
  attachmentDiskReserveBytes?: number;
  /** …or as a percent of it; a reservation that would go below it answers 507 STORAGE_FULL. */
  attachmentDiskReservePercent?: number;
  /** The URL clients reach this node at (the nodes list); '' = the listening address. */
  publicUrl?: string;
  /** How often this node writes its row in the nodes registry. */
  heartbeatIntervalMs?: number;
  /** SIGTERM: how long to wait for sockets to move and accepted sends to commit before exiting anyway. */
  drainTimeoutMs?: number;
  /** A server certificate file from `kluis admin trust-root issue`; '' = keys made at the first start. */
  senderCertificate?: string;
  /** Calls: the TURN relay's URLs ([] = none) and coturn's shared secret (use-auth-secret). */
  turnUrls?: string[];
  turnSecret?: string;
  /** In-memory token buckets on abuse-prone routes (limits/rules.ts); off for benchmarks. */
  rateLimits?: boolean;
  /** Exact rate-limit buckets kept per kind; past it new keys share a fixed-size sketch. */
  rateLimitKeys?: number;
  /** `--rate-limit`: any bucket of limits/rules.ts by name, applied after the named flags. */
  rateLimitOverrides?: Partial<Record<LimitName, RateOverride>>;
  /** Failed password checks one device (as named in the credentials) may cause per minute; past it 429. */
  deviceLoginFailuresPerMinute?: number;
  /** Outbound bytes queued for one WebSocket; past it the socket is closed as a slow consumer (4008). */
  socketBufferBytes?: number;
  /** Pings (WebSocket and JSON) one socket may send per second; past it the socket is closed (1008). */
  socketPingsPerSecond?: number;
  /** The server pings every socket this often; a socket that has not echoed the last ping is closed. */
  socketHeartbeatMs?: number;
  /** Open TCP connections for clients; 0 = derived from the open-file limit. A few more serve only health checks. */
  maxConnections?: number;
  /** Open TCP connections from one address (IPv6: one /64), counted in memory only; 0 = no per-address cap. */
  maxConnectionsPerSource?: number;
  /** A connection must send a complete request head within this (and an idle keep-alive one is closed after it). */
  idleTimeoutMs?: number;
  /** Request line and header fields together, bytes; past it 431 HEADERS_TOO_LARGE (414 URI_TOO_LONG for the request line alone). */
  maxHeaderBytes?: number;
  /** Envelopes one device's queue may hold; a send past it answers 507 QUEUE_FULL. */
  maxQueueEnvelopes?: number;
  /** Ciphertext bytes one device's queue may hold; a send past it answers 507 QUEUE_FULL. */
  maxQueueBytes?: number;
  /** One-time EC prekeys, and separately Kyber prekeys, stored per device; more answers 409 TOO_MANY_PREKEYS. */
  maxPreKeys?: number;
  /** Bytes kept free in a reserve file in the data directory (SQLite), released when the disk fills so deletes still work; 0 = none. */
  storageReserveBytes?: number;
  /** While the disk is full: how often free space is checked (and at most one log line written). */
  storageCheckIntervalMs?: number;
  /** Identified sends per second per sending device (burst: ten seconds' worth); past it 429. */
  sendsPerSecond?: number;
  /** Refused renewal codes per account per 10 minutes; past it 429. */
  renewalFailures?: number;
  /** Unknown link codes per source address per 5 minutes; past it 429. */
  linkCodeMisses?: number;
}

export type ResolvedServerConfig = Required<ServerConfig>;


const DAY_MS = 24 * 60 * 60 * 1000;
const MIB = 1024 * 1024;

export class ConfigError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}


type Raw = string | number | undefined;

/** Accepts flag keys as the CLI may hand them over: 'envelope-ttl-days', 'envelopeTtlDays' or '--envelope-ttl-days'. */
function flagLookup(flags: Record<string, Raw>): (name: string) => Raw {
  const normalized = new Map<string, Raw>();
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const kebab = key.replace(/^-+/, '').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    normalized.set(kebab, value);
  }
  return (name) => normalized.get(name);
}

interface Source {
  value: Raw;
  /** How the user would recognise where the bad value came from. */
  origin: string;
}

export function loadServerConfig(input: {
  flags: Record<string, Raw>;
  env: NodeJS.ProcessEnv;
}): ResolvedServerConfig {
  const flag = flagLookup(input.flags);
  const pick = (option: ConfigOption): Source | undefined => {
    const name = option.flag.slice(2);
    const fromFlag = flag(name);
    if (fromFlag !== undefined && fromFlag !== '') return { value: fromFlag, origin: option.flag };
    const fromEnv = input.env[option.env];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, origin: option.env };
    return undefined;
  };
  const option = (flagName: string): ConfigOption => serverConfigHelp.find((o) => o.flag === flagName)!;

  const dataSrc = pick(option('--data'));
  const dataDir = resolve(String(dataSrc?.value ?? configDefaults.dataDir));

  const hostSrc = pick(option('--host'));
  const host = String(hostSrc?.value ?? configDefaults.host).trim();
  if (!host || /\s/.test(host)) throw new ConfigError('INVALID_HOST', `${hostSrc?.origin ?? '--host'} must be a host name or IP address`);

  const port = integer(pick(option('--port')), configDefaults.port, 0, 65535, 'INVALID_PORT', '--port / KLUIS_PORT');
  const ttlDays = number(pick(option('--envelope-ttl-days')), configDefaults.envelopeTtlDays, 'INVALID_TTL');
  if (!(ttlDays > 0 && ttlDays <= 3650)) {
    throw new ConfigError('INVALID_TTL', '--envelope-ttl-days / KLUIS_ENVELOPE_TTL_DAYS must be a number of days above 0 and at most 3650');
  }

  const syncSrc = pick(option('--sqlite-sync'));
  const sync = String(syncSrc?.value ?? configDefaults.sqliteSync).toLowerCase();
  if (sync !== 'full' && sync !== 'normal') {
    throw new ConfigError('INVALID_SQLITE_SYNC', `${syncSrc?.origin ?? '--sqlite-sync'} must be 'full' or 'normal' (got '${sync}')`);
  }

  const databaseSrc = pick(option('--database'));
  const database = String(databaseSrc?.value ?? configDefaults.database).trim();
  checkDatabase(database, databaseSrc?.origin ?? '--database');
  const busSrc = pick(option('--bus'));
  const bus = String(busSrc?.value ?? configDefaults.bus).trim();
  checkBus(bus, busSrc?.origin ?? '--bus');
  const nodeName = label(pick(option('--node-name')), configDefaults.nodeName, '--node-name');
  const region = label(pick(option('--region')), configDefaults.region, '--region');
  const blobDirSrc = pick(option('--blob-dir'));
  const blobDir = blobDirSrc ? resolve(String(blobDirSrc.value)) : '';
  const attachmentTtlDays = number(pick(option('--attachment-ttl-days')), configDefaults.attachmentTtlDays, 'INVALID_ATTACHMENT_TTL');
  if (!(attachmentTtlDays > 0 && attachmentTtlDays <= 3650)) {
    throw new ConfigError('INVALID_ATTACHMENT_TTL', '--attachment-ttl-days / KLUIS_ATTACHMENT_TTL_DAYS must be a number of days above 0 and at most 3650');
  }
  const diskReserve = parseDiskReserve(pick(option('--attachment-disk-reserve')));
  const senderCertificateSrc = pick(option('--sender-certificate'));
  const senderCertificate = senderCertificateSrc ? resolve(String(senderCertificateSrc.value)) : '';
  const publicUrlSrc = pick(option('--public-url'));
  const publicUrl = String(publicUrlSrc?.value ?? configDefaults.publicUrl).trim();
  checkPublicUrl(publicUrl, publicUrlSrc?.origin ?? '--public-url');
  const turn = parseTurn(pick(option('--turn-urls')), pick(option('--turn-secret-file')));
  const rateLimitsSrc = pick(option('--rate-limits'));
  const rateLimitsText = String(rateLimitsSrc?.value ?? 'on').trim().toLowerCase();
  if (!['on', 'off', 'true', 'false'].includes(rateLimitsText)) {
    throw new ConfigError('INVALID_RATE_LIMITS', `${rateLimitsSrc?.origin ?? '--rate-limits'} must be 'on' or 'off' (got '${rateLimitsText}')`);
  }

  return {
    rateLimits: rateLimitsText === 'on' || rateLimitsText === 'true',
    rateLimitOverrides: rateOverrides(pick(option('--rate-limit'))),
    rateLimitKeys: integer(pick(option('--rate-limit-keys')), configDefaults.rateLimitKeys, 100, 10_000_000, 'INVALID_RATE_LIMIT_KEYS', '--rate-limit-keys / KLUIS_RATE_LIMIT_KEYS'),
    deviceLoginFailuresPerMinute: integer(
      pick(option('--device-login-failures-per-minute')),
      configDefaults.deviceLoginFailuresPerMinute,
      1,
      1_000_000,
      'INVALID_DEVICE_LOGIN_FAILURES',
      '--device-login-failures-per-minute / KLUIS_DEVICE_LOGIN_FAILURES_PER_MINUTE',
    ),
    socketBufferBytes: integer(pick(option('--socket-buffer-kib')), configDefaults.socketBufferKib, 1024, 1_048_576, 'INVALID_SOCKET_BUFFER', '--socket-buffer-kib / KLUIS_SOCKET_BUFFER_KIB') * 1024,
    socketPingsPerSecond: integer(pick(option('--socket-pings-per-second')), configDefaults.socketPingsPerSecond, 1, 1000, 'INVALID_SOCKET_PINGS', '--socket-pings-per-second / KLUIS_SOCKET_PINGS_PER_SECOND'),
    socketHeartbeatMs:
      integer(pick(option('--socket-heartbeat-seconds')), configDefaults.socketHeartbeatSeconds, 1, 3600, 'INVALID_SOCKET_HEARTBEAT', '--socket-heartbeat-seconds / KLUIS_SOCKET_HEARTBEAT_SECONDS') * 1000,
    maxConnections: integer(pick(option('--max-connections')), configDefaults.maxConnections, 0, 10_000_000, 'INVALID_MAX_CONNECTIONS', '--max-connections / KLUIS_MAX_CONNECTIONS'),
    maxConnectionsPerSource: integer(pick(option('--max-connections-per-source')), configDefaults.maxConnectionsPerSource, 0, 10_000_000, 'INVALID_MAX_CONNECTIONS', '--max-connections-per-source / KLUIS_MAX_CONNECTIONS_PER_SOURCE'),
    idleTimeoutMs: integer(pick(option('--idle-timeout-seconds')), configDefaults.idleTimeoutSeconds, 1, 3600, 'INVALID_IDLE_TIMEOUT', '--idle-timeout-seconds / KLUIS_IDLE_TIMEOUT_SECONDS') * 1000,
    maxHeaderBytes: integer(pick(option('--max-header-kib')), configDefaults.maxHeaderKib, 4, 1024, 'INVALID_MAX_HEADER', '--max-header-kib / KLUIS_MAX_HEADER_KIB') * 1024,
    dataDir,
    host,
    database,
    bus,
    nodeName,
    region,
    blobDir,
    maxAttachmentBytes: integer(pick(option('--max-attachment-bytes')), configDefaults.maxAttachmentBytes, 1024, Number.MAX_SAFE_INTEGER, 'INVALID_MAX_ATTACHMENT', '--max-attachment-bytes / KLUIS_MAX_ATTACHMENT_BYTES'),
    attachmentTtlMs: Math.round(attachmentTtlDays * DAY_MS),
    attachmentReservationsPerHour: integer(pick(option('--attachment-reservations-per-hour')), configDefaults.attachmentReservationsPerHour, 1, 1_000_000, 'INVALID_ATTACHMENT_LIMIT', '--attachment-reservations-per-hour / KLUIS_ATTACHMENT_RESERVATIONS_PER_HOUR'),
    attachmentBytesPerDay: integer(pick(option('--attachment-mib-per-day')), configDefaults.attachmentMibPerDay, 1, 1_048_576, 'INVALID_ATTACHMENT_LIMIT', '--attachment-mib-per-day / KLUIS_ATTACHMENT_MIB_PER_DAY') * ATTACHMENT_MIB,
    maxPendingAttachments: integer(pick(option('--max-pending-attachments')), configDefaults.maxPendingAttachments, 1, 10_000_000, 'INVALID_ATTACHMENT_LIMIT', '--max-pending-attachments / KLUIS_MAX_PENDING_ATTACHMENTS'),
    maxPendingAttachmentBytes: integer(pick(option('--max-pending-attachment-mib')), configDefaults.maxPendingAttachmentMib, 1, 1_073_741_824, 'INVALID_ATTACHMENT_LIMIT', '--max-pending-attachment-mib / KLUIS_MAX_PENDING_ATTACHMENT_MIB') * ATTACHMENT_MIB,
    attachmentDiskReserveBytes: diskReserve.bytes,
    attachmentDiskReservePercent: diskReserve.percent,
    publicUrl,
    senderCertificate,
    turnUrls: turn.urls,
    turnSecret: turn.secret,
    heartbeatIntervalMs:
      integer(pick(option('--heartbeat-seconds')), configDefaults.heartbeatSeconds, 1, 300, 'INVALID_HEARTBEAT', '--heartbeat-seconds / KLUIS_HEARTBEAT_SECONDS') * 1000,
    drainTimeoutMs:
      integer(pick(option('--drain-timeout-seconds')), configDefaults.drainTimeoutSeconds, 0, 3600, 'INVALID_DRAIN_TIMEOUT', '--drain-timeout-seconds / KLUIS_DRAIN_TIMEOUT_SECONDS') * 1000,
    port,
    envelopeTtlMs: Math.round(ttlDays * DAY_MS),
    sqliteSync: sync,
    argon2MemoryKib: integer(pick(option('--argon2-memory-kib')), configDefaults.argon2MemoryKib, 8, 4 * 1024 * 1024, 'INVALID_ARGON2', '--argon2-memory-kib / KLUIS_ARGON2_MEMORY_KIB'),
    argon2Iterations: integer(pick(option('--argon2-iterations')), configDefaults.argon2Iterations, 1, 100, 'INVALID_ARGON2', '--argon2-iterations / KLUIS_ARGON2_ITERATIONS'),
    authCacheSize: integer(pick(option('--auth-cache-size')), configDefaults.authCacheSize, 0, 10_000_000, 'INVALID_AUTH_CACHE_SIZE', '--auth-cache-size / KLUIS_AUTH_CACHE_SIZE'),
    maxQueueEnvelopes: integer(pick(option('--max-queue-messages')), configDefaults.maxQueueEnvelopes, 1, 100_000_000, 'INVALID_MAX_QUEUE', '--max-queue-messages / KLUIS_MAX_QUEUE_MESSAGES'),
    maxQueueBytes: integer(pick(option('--max-queue-mib')), configDefaults.maxQueueMib, 1, 1_048_576, 'INVALID_MAX_QUEUE', '--max-queue-mib / KLUIS_MAX_QUEUE_MIB') * MIB,
    maxPreKeys: integer(pick(option('--max-prekeys')), configDefaults.maxPreKeys, 100, 100_000, 'INVALID_MAX_PREKEYS', '--max-prekeys / KLUIS_MAX_PREKEYS'),
    storageReserveBytes: integer(pick(option('--storage-reserve-mib')), configDefaults.storageReserveMib, 0, 65_536, 'INVALID_STORAGE_RESERVE', '--storage-reserve-mib / KLUIS_STORAGE_RESERVE_MIB') * MIB,
    storageCheckIntervalMs:
      integer(pick(option('--storage-check-seconds')), configDefaults.storageCheckSeconds, 1, 3600, 'INVALID_STORAGE_CHECK', '--storage-check-seconds / KLUIS_STORAGE_CHECK_SECONDS') * 1000,
    sendsPerSecond: integer(pick(option('--sends-per-second')), configDefaults.sendsPerSecond, 1, 1_000_000, 'INVALID_SENDS_PER_SECOND', '--sends-per-second / KLUIS_SENDS_PER_SECOND'),
    renewalFailures: integer(pick(option('--renewal-failures')), configDefaults.renewalFailures, 1, 100_000, 'INVALID_RENEWAL_FAILURES', '--renewal-failures / KLUIS_RENEWAL_FAILURES'),
    linkCodeMisses: integer(pick(option('--link-code-misses')), configDefaults.linkCodeMisses, 1, 100_000, 'INVALID_LINK_CODE_MISSES', '--link-code-misses / KLUIS_LINK_CODE_MISSES'),
    expiryIntervalMs:
      integer(pick(option('--expiry-interval-seconds')), configDefaults.expiryIntervalSeconds, 1, 86_400, 'INVALID_EXPIRY_INTERVAL', '--expiry-interval-seconds / KLUIS_EXPIRY_INTERVAL_SECONDS') * 1000,
  };
}

const ATTACHMENT_MIB = 1024 * 1024;
const DEFAULT_DISK_RESERVE_PERCENT = 5;

/** `--attachment-disk-reserve`: 'N%' of the filesystem (0–90) or N MiB. */
function parseDiskReserve(src: Source | undefined): { bytes: number; percent: number } {
  const text = String(src?.value ?? configDefaults.attachmentDiskReserve).trim();
  const percent = /^([0-9]{1,2}(?:\.[0-9]+)?)\s*%$/.exec(text);
  if (percent && Number(percent[1]) <= 90) return { bytes: 0, percent: Number(percent[1]) };
  if (/^[0-9]{1,9}$/.test(text)) return { bytes: Number(text) * ATTACHMENT_MIB, percent: 0 };
  throw new ConfigError('INVALID_ATTACHMENT_DISK_RESERVE', `${src?.origin ?? '--attachment-disk-reserve'} must be a percent of the disk like '5%' (at most 90%) or a number of MiB like '1024' (got '${text}')`);
}

/** SQLite needs no URL; anything given must be a PostgreSQL URL (the only other store). */
function checkDatabase(database: string, origin: string): void {
  if (database === '') return;
  let url: URL | undefined;
  try {
    url = new URL(database);
  } catch {
    url = undefined;
  }
  if (!url || !/^postgres(ql)?:$/.test(url.protocol) || !url.hostname) {
    // Never echo the value: it may hold a password.
    throw new ConfigError('INVALID_DATABASE', `${origin} must be a postgres://user:password@host:port/database URL, or unset for SQLite`);
  }
}

/** Published to clients as is: it must be an absolute http(s) URL. */
/** The TURN relay: both or neither; the secret is read once, at start. */
function parseTurn(urlsSrc: { value: unknown; origin: string } | undefined, secretSrc: { value: unknown; origin: string } | undefined): { urls: string[]; secret: string } {
  const urls = String(urlsSrc?.value ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const u of urls)
    if (!/^(turns?|stuns?):[^\s]+$/.test(u) || u.length > 256) throw new ConfigError('INVALID_TURN', `${urlsSrc!.origin}: '${u}' is not a turn:, turns: or stun: URL`);
  if (urls.length > MAX_TURN_URLS) throw new ConfigError('INVALID_TURN', `${urlsSrc!.origin}: at most ${MAX_TURN_URLS} URLs`);
  if (urls.length > 0 && !secretSrc) throw new ConfigError('INVALID_TURN', `${urlsSrc!.origin} needs --turn-secret-file / KLUIS_TURN_SECRET_FILE (coturn's static-auth-secret)`);
  if (!secretSrc) return { urls, secret: '' };
  if (urls.length === 0) throw new ConfigError('INVALID_TURN', `${secretSrc.origin} is set but --turn-urls / KLUIS_TURN_URLS names no relay`);
  let secret: string;
  try {
    secret = readFileSync(resolve(String(secretSrc.value)), 'utf8').trim();
  } catch (e) {
    throw new ConfigError('INVALID_TURN', `${secretSrc.origin}: cannot read ${String(secretSrc.value)}: ${(e as Error).message}`);
  }
  if (secret.length < 16) throw new ConfigError('INVALID_TURN', `${secretSrc.origin}: the secret must be at least 16 characters`);
  return { urls, secret };
}

function checkPublicUrl(publicUrl: string, origin: string): void {
  if (publicUrl === '') return;
  let url: URL | undefined;
  try {
    url = new URL(publicUrl);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname) {
    throw new ConfigError('INVALID_PUBLIC_URL', `${origin} must be an http(s)://host[:port] URL, got '${publicUrl}'`);
  }
}

/** Each comma-separated entry must be a nats:// (or tls://) URL with a host. */
function checkBus(bus: string, origin: string): void {
  if (bus === '') return;
  for (const entry of bus.split(',').map((s) => s.trim())) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (!url || !/^(nats|tls):$/.test(url.protocol) || !url.hostname) {
      throw new ConfigError('INVALID_BUS', `${origin} must be nats://host:port URLs separated by commas, or unset for the in-process bus`);
    }
  }
}

/** Node names and regions appear in logs and the admin API: short, plain labels. */
function label(src: Source | undefined, fallback: string, names: string): string {
  const text = String(src?.value ?? fallback).trim();
  // Only what the operator typed is checked: a default (the host name) is taken as is.
  if (src && text !== '' && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(text)) {
    throw new ConfigError('INVALID_LABEL', `${names} must be letters, digits, '.', '_' or '-' (at most 63), got '${text}' from ${src?.origin ?? 'default'}`);
  }
  return text;
}

function number(src: Source | undefined, fallback: number, code: string): number {
  if (!src) return fallback;
  const text = String(src.value).trim();
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) throw new ConfigError(code, `${src.origin} must be a number (got '${text}')`);
  return n;
}

function integer(src: Source | undefined, fallback: number, min: number, max: number, code: string, names: string): number {
  if (!src) return fallback;
  const text = String(src.value).trim();
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new ConfigError(code, `${names} must be an integer from ${min} to ${max} (got '${text}' from ${src.origin})`);
  }
  return Number(text);
}

/** Fills the optional fields of a hand-built config and checks the required ones. */
export function resolveConfig(config: ServerConfig): ResolvedServerConfig {
  if (!config.dataDir) throw new ConfigError('INVALID_DATA_DIR', 'dataDir is required');
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new ConfigError('INVALID_PORT', `port must be an integer from 0 to 65535 (got ${config.port})`);
  }
  if (!(config.envelopeTtlMs > 0)) throw new ConfigError('INVALID_TTL', 'envelopeTtlMs must be above 0');
  checkDatabase(config.database ?? '', 'database');
  checkBus(config.bus ?? '', 'bus');
  checkPublicUrl(config.publicUrl ?? '', 'publicUrl');
  return {
    dataDir: resolve(config.dataDir),
    host: config.host || configDefaults.host,
    port: config.port,
    envelopeTtlMs: config.envelopeTtlMs,
    sqliteSync: config.sqliteSync ?? configDefaults.sqliteSync,
    argon2MemoryKib: config.argon2MemoryKib ?? configDefaults.argon2MemoryKib,
    argon2Iterations: config.argon2Iterations ?? configDefaults.argon2Iterations,
    authCacheSize: config.authCacheSize ?? configDefaults.authCacheSize,
    expiryIntervalMs: config.expiryIntervalMs ?? configDefaults.expiryIntervalSeconds * 1000,
    database: config.database ?? configDefaults.database,
    bus: config.bus ?? configDefaults.bus,
    nodeName: config.nodeName ?? configDefaults.nodeName,
    region: config.region ?? configDefaults.region,
    blobDir: config.blobDir ? resolve(config.blobDir) : '',
    maxAttachmentBytes: config.maxAttachmentBytes ?? configDefaults.maxAttachmentBytes,
    attachmentTtlMs: config.attachmentTtlMs ?? configDefaults.attachmentTtlDays * DAY_MS,
    attachmentReservationsPerHour: config.attachmentReservationsPerHour ?? configDefaults.attachmentReservationsPerHour,
    attachmentBytesPerDay: config.attachmentBytesPerDay ?? configDefaults.attachmentMibPerDay * ATTACHMENT_MIB,
    maxPendingAttachments: config.maxPendingAttachments ?? configDefaults.maxPendingAttachments,
    maxPendingAttachmentBytes: config.maxPendingAttachmentBytes ?? configDefaults.maxPendingAttachmentMib * ATTACHMENT_MIB,
    // A hand-built config that names neither gets the default percent.
    attachmentDiskReserveBytes: config.attachmentDiskReserveBytes ?? 0,
    attachmentDiskReservePercent: config.attachmentDiskReservePercent ?? (config.attachmentDiskReserveBytes ? 0 : DEFAULT_DISK_RESERVE_PERCENT),
    publicUrl: config.publicUrl ?? configDefaults.publicUrl,
    heartbeatIntervalMs: config.heartbeatIntervalMs ?? configDefaults.heartbeatSeconds * 1000,
    drainTimeoutMs: config.drainTimeoutMs ?? configDefaults.drainTimeoutSeconds * 1000,
    senderCertificate: config.senderCertificate ? resolve(config.senderCertificate) : '',
    turnUrls: config.turnUrls ?? [],
    turnSecret: config.turnSecret ?? '',
    rateLimits: config.rateLimits ?? configDefaults.rateLimits,
    rateLimitKeys: config.rateLimitKeys ?? configDefaults.rateLimitKeys,
    rateLimitOverrides: config.rateLimitOverrides ?? {},
    deviceLoginFailuresPerMinute: config.deviceLoginFailuresPerMinute ?? configDefaults.deviceLoginFailuresPerMinute,
    socketBufferBytes: config.socketBufferBytes ?? configDefaults.socketBufferKib * 1024,
    socketPingsPerSecond: config.socketPingsPerSecond ?? configDefaults.socketPingsPerSecond,
    socketHeartbeatMs: config.socketHeartbeatMs ?? configDefaults.socketHeartbeatSeconds * 1000,
    maxConnections: config.maxConnections ?? configDefaults.maxConnections,
    maxConnectionsPerSource: config.maxConnectionsPerSource ?? configDefaults.maxConnectionsPerSource,
    idleTimeoutMs: config.idleTimeoutMs ?? configDefaults.idleTimeoutSeconds * 1000,
    maxHeaderBytes: config.maxHeaderBytes ?? configDefaults.maxHeaderKib * 1024,
    maxQueueEnvelopes: config.maxQueueEnvelopes ?? configDefaults.maxQueueEnvelopes,
    maxQueueBytes: config.maxQueueBytes ?? configDefaults.maxQueueMib * MIB,
    maxPreKeys: config.maxPreKeys ?? configDefaults.maxPreKeys,
    storageReserveBytes: config.storageReserveBytes ?? configDefaults.storageReserveMib * MIB,
    storageCheckIntervalMs: config.storageCheckIntervalMs ?? configDefaults.storageCheckSeconds * 1000,
    sendsPerSecond: config.sendsPerSecond ?? configDefaults.sendsPerSecond,
    renewalFailures: config.renewalFailures ?? configDefaults.renewalFailures,
    linkCodeMisses: config.linkCodeMisses ?? configDefaults.linkCodeMisses,
  };
}

function rateOverrides(src: Source | undefined): Partial<Record<LimitName, RateOverride>> {
  if (!src) return {};
  try {
    return parseRateOverrides(String(src.value), src.origin);
  } catch (err) {
    if (err instanceof RateOverrideError) throw new ConfigError('INVALID_RATE_LIMIT', err.message);
    throw err;
  }
}
