// Browser tests (`*.browser.test.ts`) run under mocha in web-test-runner, which provides `it`/`describe` as globals.
/// <reference types="mocha" />
