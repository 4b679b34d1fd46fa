/**
 * Structural validator for Ignition config spec 3.4.0 (https://coreos.github.io/ignition/configuration-v3_4/).
 * It checks what Ignition itself would reject: the version, unknown keys at every level, the type
 * of every field, required fields (`ignition.version`, `passwd.users[].name`, `storage.files[].path`,
 * `systemd.units[].name`, ...), absolute paths, modes in 0..07777 and `data:`/`http(s):`/`s3:`/
 * `tftp:`/`gs:`/`arn:` sources. Nested objects are described by the tables below; anything not
 * listed is an error, as it is in Ignition's own parser.
 */
type Field = 'string' | 'integer' | 'boolean' | 'strings' | Shape | { list: Shape };
interface Shape {
  fields: Record<string, Field>;
  required?: string[];
}

const resource: Shape = {
  fields: {
    source: 'string',
    compression: 'string',
    httpHeaders: { list: { fields: { name: 'string', value: 'string' }, required: ['name'] } },
    verification: { fields: { hash: 'string' } },
  },
};
const nodeUser: Shape = { fields: { id: 'integer', name: 'string' } };
const tang: Shape = { fields: { url: 'string', thumbprint: 'string', advertisement: 'string' }, required: ['url'] };

export const IGNITION_34: Shape = {
  required: ['ignition'],
  fields: {
    ignition: {
      required: ['version'],
      fields: {
        version: 'string',
        config: { fields: { merge: { list: resource }, replace: resource } },
        timeouts: { fields: { httpResponseHeaders: 'integer', httpTotal: 'integer' } },
        security: { fields: { tls: { fields: { certificateAuthorities: { list: resource } } } } },
        proxy: { fields: { httpProxy: 'string', httpsProxy: 'string', noProxy: 'strings' } },
      },
    },
    kernelArguments: { fields: { shouldExist: 'strings', shouldNotExist: 'strings' } },
    passwd: {
      fields: {
        users: {
          list: {
            required: ['name'],
            fields: {
              name: 'string', passwordHash: 'string', sshAuthorizedKeys: 'strings', uid: 'integer', gecos: 'string',
              homeDir: 'string', noCreateHome: 'boolean', primaryGroup: 'string', groups: 'strings', noUserGroup: 'boolean',
              noLogInit: 'boolean', shell: 'string', shouldExist: 'boolean', system: 'boolean',
            },
          },
        },
        groups: { list: { required: ['name'], fields: { name: 'string', gid: 'integer', passwordHash: 'string', shouldExist: 'boolean', system: 'boolean' } } },
      },
    },
    storage: {
      fields: {
        disks: {
          list: {
            required: ['device'],
            fields: {
              device: 'string', wipeTable: 'boolean',
              partitions: { list: { fields: { label: 'string', number: 'integer', sizeMiB: 'integer', startMiB: 'integer', typeGuid: 'string', guid: 'string', wipePartitionEntry: 'boolean', shouldExist: 'boolean', resize: 'boolean' } } },
            },
          },
        },
        raid: { list: { required: ['name', 'level', 'devices'], fields: { name: 'string', level: 'string', devices: 'strings', spares: 'integer', options: 'strings' } } },
        filesystems: {
          list: {
            required: ['device'],
            fields: { device: 'string', format: 'string', path: 'string', wipeFilesystem: 'boolean', label: 'string', uuid: 'string', options: 'strings', mountOptions: 'strings' },
          },
        },
        files: {
          list: {
            required: ['path'],
            fields: { path: 'string', overwrite: 'boolean', contents: resource, append: { list: resource }, mode: 'integer', user: nodeUser, group: nodeUser },
          },
        },
        directories: { list: { required: ['path'], fields: { path: 'string', overwrite: 'boolean', mode: 'integer', user: nodeUser, group: nodeUser } } },
        links: { list: { required: ['path', 'target'], fields: { path: 'string', overwrite: 'boolean', target: 'string', hard: 'boolean', user: nodeUser, group: nodeUser } } },
        luks: {
          list: {
            required: ['name', 'device'],
            fields: {
              name: 'string', device: 'string', keyFile: resource, label: 'string', uuid: 'string', options: 'strings', wipeVolume: 'boolean', discard: 'boolean', openOptions: 'strings',
              clevis: { fields: { custom: { fields: { config: 'string', needsNetwork: 'boolean', pin: 'string' } }, tang: { list: tang }, threshold: 'integer', tpm2: 'boolean' } },
            },
          },
        },
      },
    },
    systemd: {
      fields: {
        units: {
          list: {
            required: ['name'],
            fields: { name: 'string', enabled: 'boolean', mask: 'boolean', contents: 'string', dropins: { list: { required: ['name'], fields: { name: 'string', contents: 'string' } } } },
          },
        },
      },
    },
  },
};

/** Problems with `config` as an Ignition 3.4.0 config, as `<json path>: <reason>`. */
export function ignitionProblems(config: unknown): string[] {
  const out: string[] = [];
  check(IGNITION_34, config, '$', out);
  const version = (config as { ignition?: { version?: unknown } })?.ignition?.version;
  if (typeof version === 'string' && version !== '3.4.0') out.push(`$.ignition.version: must be "3.4.0", found "${version}"`);
  semantic(config, out);
  return out;
}

function check(shape: Shape, value: unknown, at: string, out: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    out.push(`${at}: must be an object`);
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const r of shape.required ?? []) if (obj[r] === undefined || obj[r] === null) out.push(`${at}.${r}: is required`);
  for (const [k, v] of Object.entries(obj)) {
    const field = shape.fields[k];
    if (!field) {
      out.push(`${at}.${k}: unknown key`);
      continue;
    }
    if (v === null) continue; // Ignition accepts null for optional fields
    checkField(field, v, `${at}.${k}`, out);
  }
}

function checkField(field: Field, v: unknown, at: string, out: string[]): void {
  if (field === 'string') {
    if (typeof v !== 'string') out.push(`${at}: must be a string`);
  } else if (field === 'integer') {
    if (!Number.isInteger(v)) out.push(`${at}: must be an integer`);
  } else if (field === 'boolean') {
    if (typeof v !== 'boolean') out.push(`${at}: must be a boolean`);
  } else if (field === 'strings') {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) out.push(`${at}: must be a list of strings`);
  } else if ('list' in field) {
    if (!Array.isArray(v)) out.push(`${at}: must be a list`);
    else v.forEach((x, i) => check(field.list, x, `${at}[${i}]`, out));
  } else check(field, v, at, out);
}

const SOURCE = /^(data:|https?:\/\/|s3:\/\/|tftp:\/\/|gs:\/\/|arn:)/;

function semantic(config: unknown, out: string[]): void {
  const c = config as { storage?: Record<string, unknown>; ignition?: { config?: { merge?: unknown[]; replace?: unknown } } };
  const storage = c?.storage ?? {};
  for (const kind of ['files', 'directories', 'links'] as const) {
    const list = storage[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: Record<string, unknown>, i: number) => {
      const at = `$.storage.${kind}[${i}]`;
      if (typeof entry?.path === 'string' && !entry.path.startsWith('/')) out.push(`${at}.path: must be absolute`);
      if (typeof entry?.mode === 'number' && (entry.mode < 0 || entry.mode > 0o7777)) out.push(`${at}.mode: must be within 0..07777`);
      const contents = entry?.contents as { source?: unknown } | undefined;
      if (typeof contents?.source === 'string' && !SOURCE.test(contents.source)) out.push(`${at}.contents.source: unsupported URL scheme`);
    });
  }
}
