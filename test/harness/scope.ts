// Collects teardown steps so a test can always stop what it started, in reverse order, even when
// an assertion fails half way: `const scope = new Scope(); after(() => scope.close());`
export class Scope {
  private readonly steps: Array<() => unknown> = [];

  defer(step: () => unknown): void {
    this.steps.push(step);
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
  }
}
