/**
 * Parses os-release(5): `KEY=value` lines, values optionally quoted with shell-style escapes,
 * `#` comments and blank lines ignored. Malformed lines are skipped, never fatal.
 */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue;
    out[key] = unquote(line.slice(eq + 1).trim());
  }
  return out;
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
    const inner = value.slice(1, -1);
    // Single quotes are literal in shell; double quotes allow \" \\ \$ \` escapes.
    return q === "'" ? inner : inner.replace(/\\([\\"$`])/g, '$1');
  }
  return value;
}

/** Name and version for the hello: NAME / VERSION_ID, with the spec's fallbacks. */
export function osIdentity(fields: Record<string, string>): { name: string; version: string } {
  const name = fields.NAME || fields.ID || 'Linux';
  const version = fields.VERSION_ID || fields.VERSION || fields.BUILD_ID || 'unknown';
  return { name: name.slice(0, 64), version: version.slice(0, 64) };
}
