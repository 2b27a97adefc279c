import { hostname } from 'node:os';
import { resolve } from 'node:path';

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
  /** The URL clients reach this node at (the nodes list); '' = the listening address. */
  publicUrl?: string;
  /** How often this node writes its row in the nodes registry. */
  heartbeatIntervalMs?: number;
  /** SIGTERM: how long to wait for sockets to move and accepted sends to commit before exiting anyway. */
  drainTimeoutMs?: number;
  /** A server certificate file from `kluis admin trust-root issue`; '' = keys made at the first start. */
  senderCertificate?: string;
  /** In-memory token buckets on abuse-prone routes (limits/rules.ts); off for benchmarks. */
  rateLimits?: boolean;
}

export type ResolvedServerConfig = Required<ServerConfig>;

export const configDefaults = {
  dataDir: './data',
  host: '127.0.0.1',
  port: 8470,
  envelopeTtlDays: 30,
  sqliteSync: 'full' as const,
  argon2MemoryKib: 4096,
  argon2Iterations: 2,
  authCacheSize: 50_000,
  expiryIntervalSeconds: 60,
  database: '',
  bus: '',
  nodeName: hostname(),
  region: '',
  blobDir: '',
  maxAttachmentBytes: 100 * 1024 * 1024,
  attachmentTtlDays: 30,
  publicUrl: '',
  heartbeatSeconds: 5,
  drainTimeoutSeconds: 30,
  senderCertificate: '',
  rateLimits: true,
};

const DAY_MS = 24 * 60 * 60 * 1000;

export class ConfigError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigOption {
  flag: string;
  env: string;
  default: string;
  description: string;
}

export const serverConfigHelp: ConfigOption[] = [
  { flag: '--data', env: 'KLUIS_DATA', default: configDefaults.dataDir, description: 'data directory (SQLite database, operator token)' },
  { flag: '--host', env: 'KLUIS_HOST', default: configDefaults.host, description: 'address to listen on' },
  { flag: '--port', env: 'KLUIS_PORT', default: String(configDefaults.port), description: 'TCP port to listen on (0 = any free port)' },
  { flag: '--envelope-ttl-days', env: 'KLUIS_ENVELOPE_TTL_DAYS', default: String(configDefaults.envelopeTtlDays), description: 'days an undelivered message is kept before it expires' },
  { flag: '--sqlite-sync', env: 'KLUIS_SQLITE_SYNC', default: configDefaults.sqliteSync, description: "'full': a message is acknowledged only once fsynced (survives power loss); 'normal': once written (survives a server crash, not power loss)" },
  { flag: '--argon2-memory-kib', env: 'KLUIS_ARGON2_MEMORY_KIB', default: String(configDefaults.argon2MemoryKib), description: 'argon2id memory cost for device passwords, KiB' },
  { flag: '--argon2-iterations', env: 'KLUIS_ARGON2_ITERATIONS', default: String(configDefaults.argon2Iterations), description: 'argon2id time cost (passes) for device passwords' },
  { flag: '--auth-cache-size', env: 'KLUIS_AUTH_CACHE_SIZE', default: String(configDefaults.authCacheSize), description: 'verified device credentials kept in memory' },
  { flag: '--expiry-interval-seconds', env: 'KLUIS_EXPIRY_INTERVAL_SECONDS', default: String(configDefaults.expiryIntervalSeconds), description: 'how often expired messages and link codes are deleted' },
  { flag: '--bus', env: 'KLUIS_BUS', default: '(in-process)', description: 'nats://host:4222[,nats://…] to wake sockets on other nodes (cluster mode)' },
  { flag: '--node-name', env: 'KLUIS_NODE_NAME', default: '(host name)', description: "this node's name in a cluster" },
  { flag: '--region', env: 'KLUIS_REGION', default: '(none)', description: 'region this node serves (clients prefer nodes in their own region)' },
  { flag: '--public-url', env: 'KLUIS_PUBLIC_URL', default: '(the listening address)', description: 'the https URL clients reach this node at, published in the nodes list (cluster mode)' },
  { flag: '--heartbeat-seconds', env: 'KLUIS_HEARTBEAT_SECONDS', default: String(configDefaults.heartbeatSeconds), description: 'how often this node refreshes its row in the nodes registry (3 missed = down)' },
  { flag: '--drain-timeout-seconds', env: 'KLUIS_DRAIN_TIMEOUT_SECONDS', default: String(configDefaults.drainTimeoutSeconds), description: 'on SIGTERM, the longest wait for clients to move and accepted sends to commit' },
  { flag: '--blob-dir', env: 'KLUIS_BLOB_DIR', default: '(blobs in the data directory)', description: 'directory for encrypted attachments; in a cluster, a path every node shares (e.g. NFS)' },
  { flag: '--max-attachment-bytes', env: 'KLUIS_MAX_ATTACHMENT_BYTES', default: String(configDefaults.maxAttachmentBytes), description: 'largest attachment (file) a client may send, bytes; its encrypted blob may be up to 5% larger (padding)' },
  { flag: '--attachment-ttl-days', env: 'KLUIS_ATTACHMENT_TTL_DAYS', default: String(configDefaults.attachmentTtlDays), description: 'days an attachment is kept before it expires (sooner once every recipient fetched it)' },
  { flag: '--sender-certificate', env: 'KLUIS_SENDER_CERTIFICATE', default: '(made at the first start)', description: "sealed sender: a server certificate file from 'kluis admin trust-root issue' (the trust root's private key stays offline)" },
  { flag: '--rate-limits', env: 'KLUIS_RATE_LIMITS', default: 'on', description: "'on': per-node, in-memory token buckets on sealed sends, prekey fetches and uploads, link codes, invites and username lookups (429 + Retry-After); 'off' for benchmarks" },
  { flag: '--database', env: 'KLUIS_DATABASE', default: '(SQLite in the data directory)', description: 'postgres://user:pass@host:port/db to share one PostgreSQL between nodes (cluster mode)' },
];

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
  const senderCertificateSrc = pick(option('--sender-certificate'));
  const senderCertificate = senderCertificateSrc ? resolve(String(senderCertificateSrc.value)) : '';
  const publicUrlSrc = pick(option('--public-url'));
  const publicUrl = String(publicUrlSrc?.value ?? configDefaults.publicUrl).trim();
  checkPublicUrl(publicUrl, publicUrlSrc?.origin ?? '--public-url');
  const rateLimitsSrc = pick(option('--rate-limits'));
  const rateLimitsText = String(rateLimitsSrc?.value ?? 'on').trim().toLowerCase();
  if (!['on', 'off', 'true', 'false'].includes(rateLimitsText)) {
    throw new ConfigError('INVALID_RATE_LIMITS', `${rateLimitsSrc?.origin ?? '--rate-limits'} must be 'on' or 'off' (got '${rateLimitsText}')`);
  }

  return {
    rateLimits: rateLimitsText === 'on' || rateLimitsText === 'true',
    dataDir,
    host,
    database,
    bus,
    nodeName,
    region,
    blobDir,
    maxAttachmentBytes: integer(pick(option('--max-attachment-bytes')), configDefaults.maxAttachmentBytes, 1024, Number.MAX_SAFE_INTEGER, 'INVALID_MAX_ATTACHMENT', '--max-attachment-bytes / KLUIS_MAX_ATTACHMENT_BYTES'),
    attachmentTtlMs: Math.round(attachmentTtlDays * DAY_MS),
    publicUrl,
    senderCertificate,
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
    expiryIntervalMs:
      integer(pick(option('--expiry-interval-seconds')), configDefaults.expiryIntervalSeconds, 1, 86_400, 'INVALID_EXPIRY_INTERVAL', '--expiry-interval-seconds / KLUIS_EXPIRY_INTERVAL_SECONDS') * 1000,
  };
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
    publicUrl: config.publicUrl ?? configDefaults.publicUrl,
    heartbeatIntervalMs: config.heartbeatIntervalMs ?? configDefaults.heartbeatSeconds * 1000,
    drainTimeoutMs: config.drainTimeoutMs ?? configDefaults.drainTimeoutSeconds * 1000,
    senderCertificate: config.senderCertificate ? resolve(config.senderCertificate) : '',
    rateLimits: config.rateLimits ?? configDefaults.rateLimits,
  };
}
