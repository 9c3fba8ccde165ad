/**
 * A stack of teardown steps: each resource registers its own release as soon as it exists,
 * and `run()` releases them newest first, even when some fail, then reports every failure.
 */
export class Cleanup {
  readonly #steps: Array<{ name: string; step: () => unknown }> = [];

  add(name: string, step: () => unknown): void {
    this.#steps.push({ name, step });
  }

  /** Idempotent: steps run once; later calls find nothing left to do. */
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (let entry = this.#steps.pop(); entry !== undefined; entry = this.#steps.pop()) {
      try {
        await entry.step();
      } catch (error) {
        errors.push(new Error(`cleanup step "${entry.name}" failed`, { cause: error }));
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'several cleanup steps failed');
  }
}
