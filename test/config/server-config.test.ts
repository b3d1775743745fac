import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { serveHelp } from '../../src/config/help-text.js';
import {
  defaultRoomSettings,
  defaultServerConfig,
  envVarFor,
  parseServeArgs,
  serveFlags,
  wantsHelp,
  type ServerConfig,
} from '../../src/config/server-config.js';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/** One valid, non-default value per flag, the config field it lands in and what that field should read. */
const flagCases: Record<string, { value: string; read: (config: ServerConfig) => unknown; expected: unknown }> = {
  '--host': { value: '0.0.0.0', read: (c) => c.host, expected: '0.0.0.0' },
  '--port': { value: '0', read: (c) => c.port, expected: 0 },
  '--capacity': { value: '12', read: (c) => c.rooms[0]?.capacity, expected: 12 },
  '--heartbeat-timeout': { value: '9000', read: (c) => c.rooms[0]?.heartbeatTimeoutMs, expected: 9000 },
  '--heartbeat-interval': { value: '1500', read: (c) => c.rooms[0]?.heartbeatIntervalMs, expected: 1500 },
  '--queue-ping': { value: '7000', read: (c) => c.rooms[0]?.queuePingMs, expected: 7000 },
  '--resume-window': { value: '0', read: (c) => c.rooms[0]?.resumeWindowMs, expected: 0 },
  '--session-ttl': { value: '60000', read: (c) => c.rooms[0]?.sessionTtlMs, expected: 60_000 },
  '--seat-grace': { value: '4000', read: (c) => c.rooms[0]?.seatGraceMs, expected: 4000 },
  '--history-limit': { value: '20', read: (c) => c.rooms[0]?.historyLimit, expected: 20 },
  '--token-ttl': { value: '120000', read: (c) => c.rooms[0]?.tokenTtlMs, expected: 120_000 },
  '--max-queue': { value: '1000', read: (c) => c.rooms[0]?.maxQueue, expected: 1000 },
  '--site-session-timeout': { value: '60000', read: (c) => c.rooms[0]?.siteSessionTimeoutMs, expected: 60_000 },
  '--max-places-per-ip': { value: '3', read: (c) => c.rooms[0]?.maxPlacesPerIp, expected: 3 },
  '--admission-rate': { value: '25', read: (c) => c.rooms[0]?.admissionRate, expected: 25 },
  '--event-log': { value: 'events.jsonl', read: (c) => c.eventLog, expected: 'events.jsonl' },
  '--data-dir': { value: 'var/anteroom', read: (c) => c.dataDir, expected: 'var/anteroom' },
  '--snapshot-records': { value: '5000', read: (c) => c.snapshotEveryRecords, expected: 5000 },
  '--snapshot-interval': { value: '15000', read: (c) => c.snapshotIntervalMs, expected: 15_000 },
  '--event-ring': { value: '50', read: (c) => c.eventRingSize, expected: 50 },
  '--max-connections': { value: '0', read: (c) => c.maxConnections, expected: 0 },
  '--max-connections-per-ip': { value: '3', read: (c) => c.maxConnectionsPerIp, expected: 3 },
  '--allowed-origins': {
    value: 'https://a.example,http://localhost:3000',
    read: (c) => c.allowedOrigins,
    expected: ['https://a.example', 'http://localhost:3000'],
  },
  '--rate-limit': { value: '5', read: (c) => c.rateLimit, expected: 5 },
  '--log-level': { value: 'debug', read: (c) => c.logLevel, expected: 'debug' },
  '--inspect': { value: 'true', read: (c) => c.inspect, expected: true },
  '--chat': { value: 'true', read: (c) => c.chat, expected: true },
  '--trust-proxy': { value: 'true', read: (c) => c.trustProxy, expected: true },
  '--key-file': { value: 'key.pem', read: (c) => c.keyFile, expected: 'key.pem' },
  '--target-url': { value: 'https://shop.example/checkout', read: (c) => c.targetUrl, expected: 'https://shop.example/checkout' },
  '--admin-token': { value: 's3cret-token', read: (c) => c.adminToken, expected: 's3cret-token' },
  '--max-payload': { value: '1024', read: (c) => c.maxPayload, expected: 1024 },
  '--outbound-budget': { value: '4096', read: (c) => c.outboundBudget, expected: 4096 },
  '--handshake-timeout': { value: '2500', read: (c) => c.handshakeTimeoutMs, expected: 2500 },
  '--max-handshakes-per-ip': { value: '8', read: (c) => c.maxHandshakesPerIp, expected: 8 },
  '--ops-port': { value: '9090', read: (c) => c.opsPort, expected: 9090 },
  '--ops-host': { value: '10.0.0.5', read: (c) => c.opsHost, expected: '10.0.0.5' },
  '--max-event-streams': { value: '5', read: (c) => c.maxEventStreams, expected: 5 },
};

describe('parseServeArgs defaults', () => {
  it('gives the documented defaults and one room "main" when nothing is set', () => {
    const config = parseServeArgs([], {});
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8080);
    expect(config.maxConnections).toBe(100_000);
    expect(config.maxConnectionsPerIp).toBe(200);
    expect(config.rateLimit).toBe(20);
    expect(config.logLevel).toBe('info');
    expect(config.allowedOrigins).toBeNull();
    expect(config.eventRingSize).toBe(10_000);
    expect(config.maxPayload).toBe(65_536);
    expect(config.outboundBudget).toBe(1_048_576);
    expect(config.handshakeTimeoutMs).toBe(5000);
    expect([config.inspect, config.trustProxy]).toEqual([false, false]);
    expect([config.eventLog, config.keyFile, config.targetUrl, config.adminToken]).toEqual([null, null, null, null]);
    expect(config.rooms).toEqual([
      {
        name: 'main',
        capacity: 5,
        maxQueue: 0,
        heartbeatTimeoutMs: 3000,
        heartbeatIntervalMs: 2000,
        queuePingMs: 15_000,
        resumeWindowMs: 30_000,
        sessionTtlMs: 0,
        tokenTtlMs: 300_000,
        admissionRate: 0,
        maxPlacesPerIp: 0,
        siteSessionTimeoutMs: 120_000,
        seatGraceMs: 0,
        historyLimit: 1000,
      },
    ]);
    expect(config.chat).toBe(false);
    expect([config.dataDir, config.snapshotEveryRecords, config.snapshotIntervalMs]).toEqual([null, 100_000, 60_000]);
  });

  it('returns a fresh config each time, so changing one cannot change the defaults', () => {
    const first = parseServeArgs([], {});
    first.rooms[0]!.capacity = 99;
    first.host = 'changed';
    const second = parseServeArgs([], {});
    expect(second.rooms[0]?.capacity).toBe(defaultRoomSettings.capacity);
    expect(second.host).toBe(defaultServerConfig.host);
  });
});

describe('parseServeArgs flags and environment', () => {
  it('has a case here for every flag it accepts', () => {
    expect(Object.keys(flagCases).sort()).toEqual(serveFlags.map((entry) => entry.flag).filter((f) => f !== '--config').sort());
  });

  for (const [flag, { value, read, expected }] of Object.entries(flagCases)) {
    const isSwitch = serveFlags.find((entry) => entry.flag === flag)?.valueName === null;

    it(`${flag} sets its field as "${flag} value", "${flag}=value" and ${envVarFor(flag)}`, () => {
      const separate = isSwitch ? [flag] : [flag, value];
      expect(read(parseServeArgs(separate, {}))).toEqual(expected);
      expect(read(parseServeArgs([`${flag}=${value}`], {}))).toEqual(expected);
      expect(read(parseServeArgs([], { [envVarFor(flag)]: value }))).toEqual(expected);
      expect(read(parseServeArgs([], {}))).not.toEqual(expected);
    });
  }

  it('names the environment variable after the flag', () => {
    expect(envVarFor('--max-queue')).toBe('ANTEROOM_MAX_QUEUE');
    expect(envVarFor('max-connections-per-ip')).toBe('ANTEROOM_MAX_CONNECTIONS_PER_IP');
  });

  it('lets a flag beat its environment variable', () => {
    const config = parseServeArgs(['--capacity', '7'], { ANTEROOM_CAPACITY: '3', ANTEROOM_PORT: '9000' });
    expect(config.rooms[0]?.capacity).toBe(7);
    expect(config.port).toBe(9000);
  });

  it('lets a later flag override an earlier one', () => {
    expect(parseServeArgs(['--port', '1', '--port=2'], {}).port).toBe(2);
  });

  it('treats an empty environment variable as unset', () => {
    expect(parseServeArgs([], { ANTEROOM_PORT: '', ANTEROOM_ADMIN_TOKEN: '' })).toMatchObject({ port: 8080, adminToken: null });
  });

  it('ignores environment variables that are not its own', () => {
    expect(parseServeArgs([], { ANTEROOM_SOMETHING_ELSE: 'x', PORT: '1' }).port).toBe(8080);
  });

  it('reads switches from the environment as 1, true, 0 or false, and --switch=false turns one off', () => {
    expect(parseServeArgs([], { ANTEROOM_INSPECT: '1' }).inspect).toBe(true);
    expect(parseServeArgs([], { ANTEROOM_INSPECT: 'TRUE' }).inspect).toBe(true);
    expect(parseServeArgs([], { ANTEROOM_TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(parseServeArgs(['--inspect=false'], { ANTEROOM_INSPECT: 'true' }).inspect).toBe(false);
    expect(configError(() => parseServeArgs([], { ANTEROOM_INSPECT: 'yes' })).message).toBe(
      'ANTEROOM_INSPECT must be true, false, 1 or 0, got "yes"',
    );
  });

  it('does not take the next argument as a switch value', () => {
    const config = parseServeArgs(['--inspect', '--port', '0'], {});
    expect(config.inspect).toBe(true);
    expect(config.port).toBe(0);
  });

  it('normalises origins and reads * as any origin', () => {
    expect(parseServeArgs(['--allowed-origins', ' HTTPS://Shop.Example:443/ , http://a.test:8080'], {}).allowedOrigins).toEqual([
      'https://shop.example',
      'http://a.test:8080',
    ]);
    expect(parseServeArgs(['--allowed-origins', '*'], {}).allowedOrigins).toBeNull();
  });

  it('skips --help and -h, which the caller answers', () => {
    expect(wantsHelp(['--port', '1', '--help'])).toBe(true);
    expect(wantsHelp(['-h'])).toBe(true);
    expect(wantsHelp(['--port', '1'])).toBe(false);
    expect(wantsHelp(['--', '--help'])).toBe(false);
    expect(parseServeArgs(['--help', '--port', '1'], {}).port).toBe(1);
  });
});

describe('parseServeArgs errors', () => {
  it.each([
    [['--capacity', 'abc'], {}, '--capacity must be a whole number >= 0, got "abc"'],
    [['--capacity=-1'], {}, '--capacity must be a whole number >= 0, got "-1"'],
    [['--capacity', '-1'], {}, '--capacity must be a whole number >= 0, got "-1"'],
    [['--max-queue', '2.5'], {}, '--max-queue must be a whole number >= 0, got "2.5"'],
    [['--max-queue', '1e3'], {}, '--max-queue must be a whole number >= 0, got "1e3"'],
    [['--port', '65536'], {}, '--port must be a whole number from 0 to 65535, got "65536"'],
    [[], { ANTEROOM_PORT: 'http' }, 'ANTEROOM_PORT must be a whole number from 0 to 65535, got "http"'],
    [['--heartbeat-timeout', '0'], {}, '--heartbeat-timeout must be a whole number from 1 to 2147483647, got "0"'],
    [['--session-ttl', '2147483648'], {}, '--session-ttl must be a whole number from 0 to 2147483647, got "2147483648"'],
    [['--token-ttl', '999'], {}, '--token-ttl must be a whole number from 1000 to 2147483647, got "999"'],
    [['--rate-limit', '0'], {}, '--rate-limit must be a whole number >= 1, got "0"'],
    [['--log-level', 'verbose'], {}, '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    [['--host='], {}, '--host must not be empty'],
    [['--target-url', 'shop.example'], {}, '--target-url must be an absolute http or https URL, got "shop.example"'],
    [['--allowed-origins', ','], {}, '--allowed-origins must list at least one origin (or * for any), got ","'],
    [
      ['--allowed-origins', 'https://a.example/path'],
      {},
      '--allowed-origins entries must be origins like https://example.com (no path), got "https://a.example/path"',
    ],
    [['--allowed-origins', '*,https://a.example'], {}, '--allowed-origins cannot mix * with named origins, got "*,https://a.example"'],
    [['--prot', '1'], {}, 'unknown flag --prot; did you mean --port? (see --help)'],
    [['--colour'], {}, 'unknown flag --colour (see --help)'],
    [['-p', '1'], {}, 'unknown flag -p (see --help)'],
    [['8080'], {}, 'unexpected argument "8080" (flags start with --)'],
    [['--', 'extra'], {}, 'unexpected argument "extra"'],
    [['--port'], {}, '--port needs a value <port>'],
    [['--capacity', '--port', '1'], {}, '--capacity needs a value <n>'],
  ])('%j %j → %s', (argv, env, message) => {
    expect(configError(() => parseServeArgs(argv, env)).message).toBe(message);
  });

  it('refuses --event-log beside --data-dir, which keeps the log itself', () => {
    expect(() => parseServeArgs(['--data-dir', 'var', '--event-log', 'e.jsonl'], {})).toThrow(/--event-log and --data-dir: choose one/);
  });

  it('refuses a heartbeat interval that is not below the timeout, naming where each came from', () => {
    expect(configError(() => parseServeArgs(['--heartbeat-interval', '3000'], {})).message).toBe(
      'heartbeat interval must be less than heartbeat timeout: --heartbeat-interval is 3000, ' +
        '--heartbeat-timeout (default) is 3000',
    );
    expect(
      configError(() => parseServeArgs(['--heartbeat-interval=900'], { ANTEROOM_HEARTBEAT_TIMEOUT: '800' })).message,
    ).toBe('heartbeat interval must be less than heartbeat timeout: --heartbeat-interval is 900, ANTEROOM_HEARTBEAT_TIMEOUT is 800');
  });

  it('derives the heartbeat interval from the timeout unless the interval is set', () => {
    const intervalOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseServeArgs(argv, env).rooms[0]!.heartbeatIntervalMs;
    expect(intervalOf(['--heartbeat-timeout', '1500'])).toBe(1000);
    expect(intervalOf([], { ANTEROOM_HEARTBEAT_TIMEOUT: '600' })).toBe(400);
    expect(intervalOf(['--heartbeat-timeout', '2'])).toBe(1);
    expect(intervalOf([])).toBe(defaultRoomSettings.heartbeatIntervalMs);
    expect(intervalOf(['--heartbeat-timeout', '1500', '--heartbeat-interval', '1400'])).toBe(1400);
    expect(intervalOf(['--heartbeat-interval', '500'], { ANTEROOM_HEARTBEAT_TIMEOUT: '9000' })).toBe(500);
    expect(configError(() => parseServeArgs(['--heartbeat-timeout', '1500', '--heartbeat-interval', '2000'], {})).message).toBe(
      'heartbeat interval must be less than heartbeat timeout: --heartbeat-interval is 2000, --heartbeat-timeout is 1500',
    );
  });

  it('keeps every message on one line', () => {
    const message = configError(() => parseServeArgs(['--capacity', 'a\nb'], {})).message;
    expect(message).not.toContain('\n');
  });

  it('accepts every whole number in range and refuses every other text (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65_535 }), (port) => {
        expect(parseServeArgs(['--port', String(port)], {}).port).toBe(port);
      }),
    );
    fc.assert(
      fc.property(
        fc.string().filter((text) => !/^\s*\d+\s*$/.test(text) && !text.startsWith('--')),
        (text) => {
          expect(configError(() => parseServeArgs(['--capacity', text], {})).message).toMatch(/^--capacity must be/);
        },
      ),
    );
  });
});

describe('parseServeArgs with a rooms file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'anteroom-config-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the rooms from --config, filling unset fields from flags and environment', () => {
    const file = join(dir, 'rooms.json');
    writeFileSync(file, JSON.stringify({ rooms: [{ name: 'main', capacity: 2 }, { name: 'vip', maxQueue: 10 }] }));
    const config = parseServeArgs(['--config', file, '--capacity', '8'], { ANTEROOM_RESUME_WINDOW: '1000' });
    expect(config.rooms).toEqual([
      { ...defaultRoomSettings, name: 'main', capacity: 2, resumeWindowMs: 1000 },
      { ...defaultRoomSettings, name: 'vip', capacity: 8, maxQueue: 10, resumeWindowMs: 1000 },
    ]);
  });

  it('gives a room that sets only its heartbeat timeout two thirds of it as interval, unless a flag set the interval', () => {
    const file = join(dir, 'slow-room.json');
    writeFileSync(file, JSON.stringify({ rooms: [{ name: 'main' }, { name: 'slow', heartbeatTimeoutMs: 900 }] }));
    const rooms = parseServeArgs(['--config', file, '--heartbeat-timeout', '6000'], {}).rooms;
    expect(rooms.map((room) => [room.heartbeatTimeoutMs, room.heartbeatIntervalMs])).toEqual([
      [6000, 4000],
      [900, 600],
    ]);
    expect(configError(() => parseServeArgs(['--config', file, '--heartbeat-interval', '1000'], {})).message).toBe(
      `--config ${file}: rooms[1] (room "slow"): heartbeatIntervalMs (1000, from flags/defaults) must be less than heartbeatTimeoutMs (900)`,
    );
  });

  it('reads the path from ANTEROOM_CONFIG and names it in errors', () => {
    const file = join(dir, 'missing.json');
    expect(configError(() => parseServeArgs([], { ANTEROOM_CONFIG: file })).message).toMatch(
      new RegExp(`^ANTEROOM_CONFIG ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read the rooms file \\(ENOENT`),
    );
  });

  it('refuses an invalid rooms file with a message naming --config', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ rooms: [{ name: 'Main' }] }));
    expect(configError(() => parseServeArgs([`--config=${file}`], {})).message).toBe(
      `--config ${file}: rooms[0].name must be 1 to 64 of a-z 0-9 _ -, got "Main"`,
    );
  });
});

describe('serveHelp', () => {
  it('lists every flag with its environment variable and default', () => {
    for (const entry of serveFlags) {
      expect(serveHelp).toContain(entry.flag);
      expect(serveHelp).toContain(`env ${entry.env}, default: ${entry.defaultText}`);
    }
    expect(serveHelp).toContain('--help');
  });
});
