import { trace } from '@opentelemetry/api';
import type { LoggerService } from '@nestjs/common';

type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Structured JSON logs, one line each, carrying the active trace id so a log line can be found
 * from a trace and back. Also serves as Nest's logger.
 */
export class JsonLogger implements LoggerService {
  private static minimum: Level = (process.env.LOG_LEVEL as Level) in RANK ? (process.env.LOG_LEVEL as Level) : 'info';

  constructor(
    private readonly service: string,
    private readonly context?: string,
  ) {}

  static setLevel(level: Level): void {
    JsonLogger.minimum = level;
  }

  child(context: string): JsonLogger {
    return new JsonLogger(this.service, context);
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  info(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (RANK[level] < RANK[JsonLogger.minimum]) return;
    // Nest passes its context as the last string argument.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : this.context;
    const fields = rest.find((r) => r !== null && typeof r === 'object' && !(r instanceof Error)) as
      | Record<string, unknown>
      | undefined;
    const err = [message, ...rest].find((r) => r instanceof Error) as Error | undefined;
    const span = trace.getActiveSpan()?.spanContext();
    const line: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      service: this.service,
      ...(context ? { context } : {}),
      msg: message instanceof Error ? message.message : String(message),
      ...(fields ?? {}),
      ...(span ? { trace_id: span.traceId, span_id: span.spanId } : {}),
      ...(err?.stack ? { stack: err.stack } : {}),
    };
    (RANK[level] >= RANK.warn ? process.stderr : process.stdout).write(JSON.stringify(line) + '\n');
  }
}

/**
 * Logs a recurring problem once per distinct cause, then counts it silently, so a flood of bad
 * messages cannot flood the log.
 */
export class OncePerCause {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly logger: JsonLogger,
    private readonly maxCauses = 1000,
  ) {}

  warn(cause: string, message: string, fields?: Record<string, unknown>): void {
    const count = this.seen.get(cause) ?? 0;
    if (count === 0 && this.seen.size < this.maxCauses) this.logger.warn(message, { cause, ...fields });
    this.seen.set(cause, count + 1);
  }

  count(cause: string): number {
    return this.seen.get(cause) ?? 0;
  }
}
