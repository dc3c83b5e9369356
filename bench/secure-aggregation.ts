// Secure aggregation vs plain FedAvg (issue 9): n = 4, 8, 16 participants of a PARAMS-parameter model run whole
// rounds over real HTTP/WebSocket (`createFederationApi`, one port each, so that each counts its own bytes)
// against a server in its own process (bench/secure-aggregation-server.ts), one task secure and one plain.
// The updates are synthetic (no training), so the figures are the protocol's cost: plain = encode the
// float32 delta and PUT it; secure = core's `runSecureRound` (keys, shares, masked input, revealed shares).
// Per round: wall time from the first submission to the new version, bytes each participant sent and
// received (the round's download included), the server's CPU time. Plain and secure rounds alternate in one
// run; the ratios of their medians are the result. Apart, the client's own crypto for one participant
// (fixed-point encoding, the masks of 1M words) and one 1M-word PRG expansion, in this process.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  decodeWeights,
  encodeWeights,
  expandSeed,
  prepareSecureUpdate,
  randomSeed,
  runSecureRound,
  SecureAggregationClient,
  SecureAggregator,
  secureEncoding,
  type FederationApi,
  type RoundState,
  type Task,
} from '@disco/core';
import { createFederationApi } from '@disco/client';
import { median, type BenchResult } from './lib.js';

const PARAMS = Number(process.env.PARAMS ?? 1_000_000);
const SIZES = (process.env.SIZES ?? '4,8,16').split(',').map(Number);
/** Rounds of each kind per n (plain and secure alternate, the first kind alternating too). */
const REPS = Number(process.env.REPS ?? 5);
const KB = 1024;

/** utime + stime of process `pid`, in milliseconds (clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const ORDER = ['open', 'sharing', 'masking', 'unmasking', 'aggregating', 'closed', 'failed'];
const newer = (a: RoundState, b: RoundState) =>
  a.modelVersion !== b.modelVersion ? a.modelVersion > b.modelVersion : a.round !== b.round ? a.round > b.round : ORDER.indexOf(a.phase) >= ORDER.indexOf(b.phase);

/** One participant: its own port (its own byte counts), token, and the freshest round state it has seen. */
class Participant {
  private waiters: { ready: (s: RoundState) => boolean; resolve: (s: RoundState) => void }[] = [];
  private stop: () => void;
  /** When this participant first saw each phase of each round (performance.now()), to show where a round's time goes. */
  readonly seen = new Map<string, number>();

  private constructor(
    readonly api: FederationApi,
    readonly token: string,
    readonly participantId: string,
    readonly task: Task,
    public state: RoundState,
  ) {
    this.stop = api.watchRounds(task.id, token, (s) => this.update(s));
  }

  static async join(url: string, taskId: string): Promise<Participant> {
    const api = createFederationApi(url, { WebSocket });
    const joined = await api.join(taskId);
    return new Participant(api, joined.token, joined.participantId, joined.task, joined.state);
  }

  update(state: RoundState): void {
    if (!newer(state, this.state)) return;
    this.state = state;
    const key = `${state.round}:${state.phase}`;
    if (!this.seen.has(key)) this.seen.set(key, performance.now());
    this.waiters = this.waiters.filter((w) => !(w.ready(state) && (w.resolve(state), true)));
  }

  waitForState(ready: (s: RoundState) => boolean): Promise<RoundState> {
    if (ready(this.state)) return Promise.resolve(this.state);
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  bytes(): { sent: number; received: number } {
    return { sent: this.api.stats.bytesSent, received: this.api.stats.bytesReceived };
  }

  close(): void {
    this.stop();
    this.api.close();
  }
}

/** Participant i's synthetic delta (norm about 0.2, below the clipping norm 1): distinct per participant. */
function delta(i: number): Float32Array {
  const values = new Float32Array(PARAMS);
  for (let k = 0; k < PARAMS; k++) values[k] = (((i * 31 + k) % 7) - 3) * 1e-4;
  return values;
}

interface RoundFigures {
  wallMs: number;
  serverCpuMs: number;
  /** Mean per participant, the round's download included. */
  sent: number;
  received: number;
  /** Secure rounds: ms from the first submission to each step as participant 0 saw it announced, then to the version. */
  steps?: Record<'keys' | 'sharing' | 'masking' | 'unmasking' | 'aggregating', number>;
}

/** One round of `participants` (all joined to the same task): download, then submit (plain) or the secure steps. */
async function round(participants: Participant[], deltas: Float32Array[], serverPid: number): Promise<RoundFigures> {
  for (const p of participants) p.update(await p.api.heartbeat(p.token));
  const { round: number, modelVersion } = participants[0].state;
  await Promise.all(participants.map((p) => p.waitForState((s) => s.round === number && s.phase === 'open')));
  const before = participants.map((p) => p.bytes());
  const starts = await Promise.all(participants.map(async (p) => decodeWeights(await p.api.downloadWeights(p.task.id, modelVersion)).weights));
  const secure = participants[0].task.privacy.secureAggregation === true;

  const cpu = cpuMsOf(serverPid);
  const started = performance.now();
  await Promise.all(
    participants.map(async (p, i) => {
      const { values: start, shapes } = starts[i];
      if (!secure) {
        const update = encodeWeights({ values: deltas[i], shapes }, { taskId: p.task.id, modelVersion, meta: { samples: 10 + i } });
        await p.api.submitUpdate(p.token, number, update);
        return;
      }
      const local = new Float32Array(PARAMS);
      for (let k = 0; k < PARAMS; k++) local[k] = start[k] + deltas[i][k];
      const outcome = await runSecureRound(
        {
          api: p.api,
          token: p.token,
          taskId: p.task.id,
          participantId: p.participantId,
          round: number,
          waitForState: (ready) => p.waitForState(ready),
          call: (fn) => fn(),
        },
        (m) => prepareSecureUpdate({ start, local, examples: 10 + i }, secureEncoding(p.task, m, PARAMS)).words,
      );
      if (outcome.status !== 'sent') throw new Error(`secure round ${number}: ${outcome.reason}`);
    }),
  );
  await participants[0].waitForState((s) => s.modelVersion > modelVersion);
  const wallMs = performance.now() - started;
  const serverCpuMs = cpuMsOf(serverPid) - cpu;
  await Promise.all(participants.map((p) => p.waitForState((s) => s.modelVersion > modelVersion)));
  const after = participants.map((p) => p.bytes());
  const mean = (f: (i: number) => number) => participants.reduce((s, _, i) => s + f(i), 0) / participants.length;
  const at = (phase: string) => (participants[0].seen.get(`${number}:${phase}`) ?? NaN) - started;
  const steps = secure
    ? {
        keys: at('sharing'),
        sharing: at('masking') - at('sharing'),
        masking: at('unmasking') - at('masking'),
        unmasking: at('aggregating') - at('unmasking'),
        aggregating: wallMs - at('aggregating'),
      }
    : undefined;
  return { wallMs, serverCpuMs, steps, sent: mean((i) => after[i].sent - before[i].sent), received: mean((i) => after[i].received - before[i].received) };
}

/** One participant's own crypto in a roster of n, timed alone: fixed-point encoding, masking, one PRG expansion; plain: the float32 codec. */
async function clientCrypto(n: number, deltaValues: Float32Array, task: Task): Promise<Record<string, number>> {
  const ids = Array.from({ length: n }, (_, i) => `p${String(i).padStart(2, '0')}`);
  const clients = await Promise.all(ids.map((id) => SecureAggregationClient.create({ id, taskId: 'bench', round: 1 })));
  const aggregator = new SecureAggregator({ taskId: 'bench', round: 1, length: PARAMS + 1 });
  for (const client of clients) aggregator.receiveKeys(client.advertise());
  const roster = aggregator.roster();
  for (const message of await Promise.all(clients.map((client) => client.shareKeys(roster)))) aggregator.receiveShares(message);
  const start = new Float32Array(PARAMS);
  const time = async <T>(work: () => T | Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const value = await work();
    return [value, performance.now() - t0];
  };
  const [words, prepareMs] = await time(() => prepareSecureUpdate({ start, local: deltaValues, examples: 10 }, secureEncoding(task, n, PARAMS)).words);
  const [, maskMs] = await time(() => clients[0].maskInput(aggregator.sharesFor(ids[0]), words));
  const [, expandMs] = await time(() => expandSeed(randomSeed(), PARAMS + 1));
  const [, plainEncodeMs] = await time(() => encodeWeights({ values: deltaValues, shapes: [{ name: 'w', shape: [PARAMS] }] }, { taskId: 'bench', modelVersion: 0, meta: { samples: 10 } }));
  return { prepareMs, maskMs, expandMs, plainEncodeMs };
}

export async function run(): Promise<BenchResult[]> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./secure-aggregation-server.ts', import.meta.url))], {
    env: { ...process.env, PARAMS: String(PARAMS), SIZES: SIZES.join(','), NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const results: BenchResult[] = [];
  const all: Participant[] = [];
  try {
    const line = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the bench server exited (${code})`)));
      createInterface({ input: child.stdout }).once('line', resolve);
    });
    const { url } = JSON.parse(line) as { url: string };
    const pid = child.pid!;
    const deltas = Array.from({ length: Math.max(...SIZES) }, (_, i) => delta(i));

    for (const n of SIZES) {
      const plain: Participant[] = [];
      const secure: Participant[] = [];
      for (let i = 0; i < n; i++) plain.push(await Participant.join(url, `plain-${n}`));
      for (let i = 0; i < n; i++) secure.push(await Participant.join(url, `secure-${n}`));
      all.push(...plain, ...secure);
      const figures: { plain: RoundFigures[]; secure: RoundFigures[] } = { plain: [], secure: [] };
      for (let rep = 0; rep < REPS; rep++) {
        for (const kind of rep % 2 ? (['secure', 'plain'] as const) : (['plain', 'secure'] as const)) {
          figures[kind].push(await round(kind === 'plain' ? plain : secure, deltas, pid));
        }
      }
      // Both tasks applied the same deltas the same number of times: their models agree up to the fixed point.
      const [p, s] = await Promise.all([plain[0], secure[0]].map(async (q) => decodeWeights(await q.api.downloadWeights(q.task.id)).weights.values));
      let maxDiff = 0;
      for (let k = 0; k < PARAMS; k++) maxDiff = Math.max(maxDiff, Math.abs(p[k] - s[k]));
      if (maxDiff > 1e-5) throw new Error(`n = ${n}: the secure model differs from the plain one by ${maxDiff}`);

      const med = (kind: 'plain' | 'secure', f: (r: RoundFigures) => number) => median(figures[kind].map(f));
      const crypto = await clientCrypto(n, deltas[0], secure[0].task);
      const sentOverhead = med('secure', (r) => r.sent) - med('plain', (r) => r.sent);
      results.push(
        {
          name: `n = ${n}: bytes sent per participant, secure / plain`,
          value: med('secure', (r) => r.sent) / med('plain', (r) => r.sent),
          unit: '×',
          target: n === 16 ? '≤ 1.2' : undefined,
          details: {
            overheadKB: sentOverhead / KB,
            plainSentKB: med('plain', (r) => r.sent) / KB,
            secureSentKB: med('secure', (r) => r.sent) / KB,
            receivedRatio: med('secure', (r) => r.received) / med('plain', (r) => r.received),
            receivedOverheadKB: (med('secure', (r) => r.received) - med('plain', (r) => r.received)) / KB,
          },
        },
        {
          name: `n = ${n}: round time (first submission → new version), secure / plain`,
          value: med('secure', (r) => r.wallMs) / med('plain', (r) => r.wallMs),
          unit: '×',
          details: {
            plainMs: med('plain', (r) => r.wallMs),
            secureMs: med('secure', (r) => r.wallMs),
            serverCpuRatio: med('secure', (r) => r.serverCpuMs) / med('plain', (r) => r.serverCpuMs),
            plainServerCpuMs: med('plain', (r) => r.serverCpuMs),
            secureServerCpuMs: med('secure', (r) => r.serverCpuMs),
            ...Object.fromEntries((['keys', 'sharing', 'masking', 'unmasking', 'aggregating'] as const).map((step) => [`${step}StepMs`, med('secure', (r) => r.steps![step])])),
            clientPrepareMs: crypto.prepareMs,
            clientMaskMs: crypto.maskMs,
            prgExpandMs: crypto.expandMs,
            plainEncodeMs: crypto.plainEncodeMs,
            rounds: REPS,
            maxModelDiff: maxDiff,
          },
        },
      );
      for (const q of [...plain, ...secure]) q.close();
      all.length = 0;
    }
    return results;
  } finally {
    for (const q of all) q.close();
    child.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
