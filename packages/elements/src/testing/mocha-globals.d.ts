// The mocha globals that web-test-runner provides to `*.test.ts` files (types only; no runtime).
type MochaDone = (error?: unknown) => void;
type MochaFn = (this: { timeout(ms: number): void }, done: MochaDone) => void | Promise<unknown>;
declare function describe(name: string, body: () => void): void;
declare function it(name: string, body: MochaFn | (() => void | Promise<unknown>)): void;
declare function before(body: MochaFn | (() => void | Promise<unknown>)): void;
declare function after(body: MochaFn | (() => void | Promise<unknown>)): void;
declare function beforeEach(body: MochaFn | (() => void | Promise<unknown>)): void;
declare function afterEach(body: MochaFn | (() => void | Promise<unknown>)): void;
