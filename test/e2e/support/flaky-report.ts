/**
 * A reporter for the browser suites, which run with one retry (vitest.e2e.config.ts): a test
 * that failed and then passed is listed at the end of the run with what its first attempt
 * said, so a retry never hides a failure from whoever reads the log.
 */
import type { Reporter, TestCase } from 'vitest/node';

export default class FlakyReport implements Reporter {
  readonly #flaky: TestCase[] = [];

  onTestCaseResult(test: TestCase): void {
    if (test.diagnostic()?.flaky) this.#flaky.push(test);
  }

  onTestRunEnd(): void {
    if (this.#flaky.length === 0) return;
    const lines = [`\n${this.#flaky.length} browser test(s) failed once and passed on the retry:`];
    for (const test of this.#flaky) {
      lines.push(
        `\n  FLAKY ${test.module.moduleId.replace(/^.*\/test\//, 'test/')} > ${test.fullName}`,
      );
      for (const error of test.result().errors ?? []) {
        const text = `${error.name ?? 'Error'}: ${error.message}`.slice(0, 4_000);
        lines.push(...text.split('\n').map((line) => `    ${line}`));
      }
    }
    process.stdout.write(`${lines.join('\n')}\n\n`);
  }
}
