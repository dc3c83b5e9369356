// The mocha globals that web-test-runner provides to `*.test.ts` files (types only; no runtime).
interface MochaContext {
  timeout(ms: number): void;
}
type MochaBody = (this: MochaContext) => void | Promise<unknown>;
declare function describe(name: string, body: () => void): void;
declare function it(name: string, body: MochaBody): void;
declare function before(body: MochaBody): void;
declare function after(body: MochaBody): void;
declare function beforeEach(body: MochaBody): void;
declare function afterEach(body: MochaBody): void;
