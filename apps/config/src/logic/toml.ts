/**
 * A small TOML 1.0 parser, enough to reject a syntactically broken file before publish and to
 * hand the parsed document to a JSON Schema. Supported: comments, bare/quoted/dotted keys, tables,
 * arrays of tables, basic/literal/multi-line strings with escapes, integers (decimal, hex, octal,
 * binary, underscores), floats (incl. inf/nan), booleans, offset/local date-times, dates and times
 * (returned as strings), arrays, inline tables, and the redefinition rules (a key or table defined
 * twice is an error). No package for TOML is installed, hence this file.
 */
export class TomlError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
  }
}

type Table = Record<string, unknown>;
const DEFINED = Symbol('defined'); // explicitly defined by a [header] or key/value
const INLINE = Symbol('inline'); // inline tables and static arrays are sealed

export function parseToml(text: string): Table {
  return new Parser(text.replace(/^\uFEFF/, '')).parse();
}

class Parser {
  private i = 0;
  private line = 1;
  private readonly root: Table = {};
  private current: Table;

  constructor(private readonly s: string) {
    this.current = this.root;
  }

  parse(): Table {
    for (;;) {
      this.skipWsCommentsNewlines();
      if (this.i >= this.s.length) return this.root;
      if (this.s[this.i] === '[') this.header();
      else {
        this.keyValue(this.current);
        this.endOfLine();
      }
    }
  }

  private fail(msg: string): never {
    throw new TomlError(msg, this.line);
  }

  private skipWs(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }

  private skipComment(): void {
    if (this.s[this.i] !== '#') return;
    while (this.i < this.s.length && this.s[this.i] !== '\n') {
      const c = this.s.charCodeAt(this.i);
      if ((c < 0x20 && c !== 9) || c === 0x7f) this.fail('control character in comment');
      this.i++;
    }
  }

  private newline(): boolean {
    if (this.s[this.i] === '\n') {
      this.i++;
      this.line++;
      return true;
    }
    if (this.s[this.i] === '\r' && this.s[this.i + 1] === '\n') {
      this.i += 2;
      this.line++;
      return true;
    }
    return false;
  }

  private skipWsCommentsNewlines(): void {
    for (;;) {
      this.skipWs();
      this.skipComment();
      if (!this.newline()) return;
    }
  }

  private endOfLine(): void {
    this.skipWs();
    this.skipComment();
    if (this.i < this.s.length && !this.newline()) this.fail(`unexpected "${this.s[this.i]}" after value`);
  }

  private header(): void {
    const array = this.s[this.i + 1] === '[';
    this.i += array ? 2 : 1;
    this.skipWs();
    const keys = this.key();
    this.skipWs();
    if (array ? this.s.slice(this.i, this.i + 2) !== ']]' : this.s[this.i] !== ']') this.fail('unterminated table header');
    this.i += array ? 2 : 1;
    this.endOfLine();
    let t = this.root;
    for (const k of keys.slice(0, -1)) t = this.descend(t, k, true);
    const last = keys[keys.length - 1];
    if (array) {
      let arr = t[last];
      if (arr === undefined) {
        arr = [];
        t[last] = arr;
      } else if (!Array.isArray(arr) || (arr as unknown as Record<symbol, boolean>)[INLINE]) this.fail(`cannot append to "${last}"`);
      const table: Table = {};
      (arr as Table[]).push(table);
      this.current = table;
    } else {
      const existing = t[last];
      if (existing === undefined) {
        const table: Table = {};
        mark(table, DEFINED);
        t[last] = table;
        this.current = table;
      } else if (isTable(existing) && !has(existing, DEFINED) && !has(existing, INLINE)) {
        mark(existing, DEFINED);
        this.current = existing;
      } else this.fail(`table "${keys.join('.')}" defined twice`);
    }
  }

  /** Walks into (or creates) a table; arrays of tables resolve to their last element. */
  private descend(t: Table, k: string, viaHeader: boolean): Table {
    const v = t[k];
    if (v === undefined) {
      const table: Table = {};
      t[k] = table;
      return table;
    }
    if (Array.isArray(v) && viaHeader && !(v as unknown as Record<symbol, boolean>)[INLINE]) {
      const last = v[v.length - 1];
      if (isTable(last)) return last;
    }
    if (isTable(v) && !has(v, INLINE) && (viaHeader || !has(v, DEFINED))) return v;
    return this.fail(`key "${k}" is already defined`);
  }

  private keyValue(table: Table): void {
    const keys = this.key();
    this.skipWs();
    if (this.s[this.i] !== '=') this.fail('expected "=" after key');
    this.i++;
    this.skipWs();
    let t = table;
    for (const k of keys.slice(0, -1)) t = this.descend(t, k, false);
    const last = keys[keys.length - 1];
    if (Object.prototype.hasOwnProperty.call(t, last)) this.fail(`key "${keys.join('.')}" defined twice`);
    t[last] = this.value();
  }

  private key(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.skipWs();
      const c = this.s[this.i];
      if (c === '"') keys.push(this.basicString());
      else if (c === "'") keys.push(this.literalString());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(this.s.slice(this.i, this.i + 256));
        if (!m) this.fail('expected a key');
        keys.push(m[0]);
        this.i += m[0].length;
      }
      this.skipWs();
      if (this.s[this.i] !== '.') return keys;
      this.i++;
    }
  }

  private value(): unknown {
    const c = this.s[this.i];
    if (c === '"') return this.s.startsWith('"""', this.i) ? this.multiBasic() : this.basicString();
    if (c === "'") return this.s.startsWith("'''", this.i) ? this.multiLiteral() : this.literalString();
    if (c === '[') return this.array();
    if (c === '{') return this.inlineTable();
    const rest = this.s.slice(this.i, this.i + 64);
    let m = /^(true|false)(?![A-Za-z0-9_])/.exec(rest);
    if (m) return this.take(m[0], m[0] === 'true');
    m = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?/.exec(rest);
    if (m && (m[1] === undefined || /:\d{2}/.test(m[1]))) return this.take(m[0], m[0]);
    m = /^\d{2}:\d{2}:\d{2}(\.\d+)?/.exec(rest);
    if (m) return this.take(m[0], m[0]);
    m = /^0x[0-9A-Fa-f](_?[0-9A-Fa-f])*|^0o[0-7](_?[0-7])*|^0b[01](_?[01])*/.exec(rest);
    if (m) return this.take(m[0], Number(m[0].replace(/_/g, '')));
    m = /^[+-]?(inf|nan)(?![A-Za-z0-9_])/.exec(rest);
    if (m) return this.take(m[0], m[1] === 'inf' ? (m[0].startsWith('-') ? -Infinity : Infinity) : NaN);
    m = /^[+-]?(0|[1-9](_?\d)*)(\.\d(_?\d)*)?([eE][+-]?\d(_?\d)*)?(?![A-Za-z0-9_.:-])/.exec(rest);
    if (m) return this.take(m[0], Number(m[0].replace(/_/g, '')));
    return this.fail(`invalid value starting at "${rest.slice(0, 12)}"`);
  }

  private take<T>(token: string, value: T): T {
    this.i += token.length;
    return value;
  }

  private basicString(): string {
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '\n' || c === '\r') this.fail('unterminated string');
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\\') out += this.escape();
      else {
        this.control(c);
        out += c;
        this.i++;
      }
    }
  }

  private multiBasic(): string {
    this.i += 3;
    this.newline();
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated multi-line string');
      if (this.s.startsWith('"""', this.i)) {
        let n = 3;
        while (this.s[this.i + n] === '"' && n < 5) n++;
        out += '"'.repeat(n - 3);
        this.i += n;
        return out;
      }
      const c = this.s[this.i];
      if (c === '\\') {
        const after = /^\\[ \t]*\r?\n/.exec(this.s.slice(this.i, this.i + 64));
        if (after) {
          this.i++;
          this.skipWs();
          while (this.newline() || this.s[this.i] === ' ' || this.s[this.i] === '\t') if (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
        } else out += this.escape();
      } else if (this.newline()) out += '\n';
      else {
        this.control(c);
        out += c;
        this.i++;
      }
    }
  }

  private literalString(): string {
    this.i++;
    const start = this.i;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '\n' || c === '\r') this.fail('unterminated literal string');
      if (c === "'") return this.s.slice(start, this.i++);
      this.control(c);
      this.i++;
    }
  }

  private multiLiteral(): string {
    this.i += 3;
    this.newline();
    const end = this.s.indexOf("'''", this.i);
    if (end < 0) this.fail('unterminated multi-line literal string');
    let stop = end + 3;
    while (this.s[stop] === "'" && stop - end < 5) stop++;
    const body = this.s.slice(this.i, stop - 3);
    this.line += body.split('\n').length - 1;
    this.i = stop;
    return body;
  }

  private control(c: string): void {
    const code = c.charCodeAt(0);
    if ((code < 0x20 && code !== 9) || code === 0x7f) this.fail('control character in string');
  }

  private escape(): string {
    const e = this.s[this.i + 1];
    const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
    if (e in simple) {
      this.i += 2;
      return simple[e];
    }
    if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      const hex = this.s.slice(this.i + 2, this.i + 2 + len);
      if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) this.fail('bad unicode escape');
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail('invalid unicode scalar');
      this.i += 2 + len;
      return String.fromCodePoint(cp);
    }
    return this.fail(`invalid escape "\\${e ?? ''}"`);
  }

  private array(): unknown[] {
    this.i++;
    const out: unknown[] = [];
    for (;;) {
      this.skipWsCommentsNewlines();
      if (this.s[this.i] === ']') break;
      out.push(this.value());
      this.skipWsCommentsNewlines();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.s[this.i] !== ']') this.fail('expected "," or "]" in array');
      break;
    }
    this.i++;
    mark(out as unknown as Table, INLINE);
    return out;
  }

  private inlineTable(): Table {
    this.i++;
    const t: Table = {};
    this.skipWs();
    if (this.s[this.i] === '}') {
      this.i++;
      return mark(t, INLINE);
    }
    for (;;) {
      this.keyValue(t);
      this.skipWs();
      if (this.s[this.i] === ',') {
        this.i++;
        this.skipWs();
        continue;
      }
      if (this.s[this.i] !== '}') this.fail('expected "," or "}" in inline table');
      this.i++;
      return mark(t, INLINE);
    }
  }
}

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mark<T extends object>(t: T, flag: symbol): T {
  Object.defineProperty(t, flag, { value: true, enumerable: false });
  return t;
}

function has(t: object, flag: symbol): boolean {
  return (t as Record<symbol, unknown>)[flag] === true;
}
