export interface ViewStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * A block of lines redrawn in place (e.g. `rollouts watch`). On a terminal each `render` replaces
 * the previous frame; anywhere else (a pipe, a CI log) only lines that changed since the last
 * frame are printed, so the output stays a readable log.
 */
export class LiveView {
  private previous: string[] = [];
  private drawn = 0;

  constructor(
    private readonly stream: ViewStream,
    private readonly tty = Boolean(stream.isTTY),
  ) {}

  render(lines: readonly string[]): void {
    if (this.tty) {
      const width = this.stream.columns && this.stream.columns > 1 ? this.stream.columns - 1 : Infinity;
      const fitted = lines.map((l) => (l.length > width ? l.slice(0, width) : l));
      // Up to the first line of the previous frame, clear to the end of the screen, draw.
      const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
      this.stream.write(`${up}\x1b[J${fitted.join('\n')}${fitted.length ? '\n' : ''}`);
      this.drawn = fitted.length;
    } else {
      const changed = lines.filter((line, i) => this.previous[i] !== line);
      if (changed.length) this.stream.write(changed.join('\n') + '\n');
    }
    this.previous = [...lines];
  }

  /** Leaves the last frame on screen; later output goes below it. */
  done(): void {
    this.drawn = 0;
  }
}
