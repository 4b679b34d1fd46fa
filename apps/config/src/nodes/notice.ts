/**
 * A desired-state notice as bytes, built without JSON.stringify per node: at 10,000 nodes the
 * files' JSON (when the bundle travels inline) is encoded once per distinct bundle by the caller.
 */
export function noticeBytes(revision: number, hash: string, filesJson?: string | null): Buffer {
  const head = `{"v":1,"revision":${revision},"hash":"${hash}"`;
  return Buffer.from(filesJson ? `${head},"files":${filesJson}}` : `${head}}`);
}
