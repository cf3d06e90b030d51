import { z } from "zod";
import { describeIssues } from "../api/index.js";

/** A path nginx can take verbatim inside double quotes: absolute, and no quote, `$`, `;`, braces or whitespace. */
const nginxPath = z
  .string()
  .regex(/^\/[^\s"'$;{}\\#]*$/, "must be an absolute path without whitespace, quotes, $, ;, braces, # or backslash");
/**
 * The Fetch standard's "bad ports": fetch() (the agent's stub_status reader and peer fills, and every
 * browser a client plays in) refuses them before connecting, with only "bad port" to say why.
 */
const fetchBadPorts = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);
const port = z
  .int()
  .min(1)
  .max(65535)
  .refine((p) => !fetchBadPorts.has(p), {
    message: "must not be a port fetch() refuses (the Fetch standard's bad ports)",
  });
/** IPv4 literal, bracketed IPv6 literal, or `*`. */
const listenAddress = z
  .string()
  .regex(/^(\*|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])$/, "must be an IPv4 literal, a bracketed IPv6 literal or *");

/**
 * The edge pod's settings: the OCACluster `edge` fields (httpPort, httpsPort, ktls, contentPath; tlsSecret
 * becomes the mounted certPath/keyPath) plus where the pod mounts things. Narrow on purpose, so the
 * operator and the tests render the same text from plain data.
 */
export const EdgeSettings = z
  .object({
    httpPort: port,
    httpsPort: port,
    /** Loopback-only port of stub_status, read by the agent. */
    statusPort: port,
    listen: z.array(listenAddress).min(1).default(["*", "[::]"]),
    contentPath: nginxPath,
    certPath: nginxPath,
    keyPath: nginxPath,
    ktls: z.enum(["auto", "required", "off"]),
    /**
     * The cluster's link keys, `<kid>.key` each (the mounted link-key Secret): read by the verifier on
     * every request, so keys added or removed there count at once, without a reload.
     */
    linkKeysDir: nginxPath,
    /** Where the agent's init writes the njs verifier (link-verifier.ts); never part of the image. */
    linkVerifierPath: nginxPath,
    /** njs, Debian's libnginx-mod-http-js. */
    njsModulePath: nginxPath.default("/usr/lib/nginx/modules/ngx_http_js_module.so"),
    /** pid file and nginx's temp directories. */
    runDir: nginxPath,
    errorLog: z.union([z.literal("stderr"), nginxPath]).default("stderr"),
    workerProcesses: z.union([z.literal("auto"), z.int().min(1).max(256)]).default("auto"),
    /** Off only for the benchmark's userspace-copy baseline. */
    sendfile: z.boolean().default(true),
    /** Where nginx sends one syslog line per request (status, bytes sent) for the agent's byte counters. */
    accessLogUdpPort: port.optional(),
    /** Worker user when the master runs as root (Debian: www-data). */
    workerUser: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*$/, "must be a user name")
      .optional(),
  })
  .refine((s) => new Set([s.httpPort, s.httpsPort, s.statusPort, s.accessLogUdpPort ?? 0]).size === 4, {
    message: "httpPort, httpsPort, statusPort and accessLogUdpPort must all differ",
    path: ["httpPort"],
  });
export type EdgeSettings = z.output<typeof EdgeSettings>;
export type EdgeSettingsInput = z.input<typeof EdgeSettings>;

export class EdgeSettingsError extends Error {
  override name = "EdgeSettingsError";
}

/** Validates at the edge; the message names each bad field and its rule. */
export function parseEdgeSettings(input: unknown): EdgeSettings {
  const r = EdgeSettings.safeParse(input);
  if (!r.success) {
    throw new EdgeSettingsError(`invalid edge settings: ${describeIssues("edge", r.error)}`, { cause: r.error });
  }
  return r.data;
}

export const STATUS_LOCATION = "/nginx_status";
/** On the loopback status server: the kids nginx holds keys for now, comma-separated (the agent reports them). */
export const LINK_KIDS_LOCATION = "/edgefleet/link-kids";
/** Empty when the request's link is good, else why not (link-verifier.ts `denied`). */
const DENIED_VAR = "$edgefleet_link_denied";

/**
 * nginx.conf for an edge pod. Pure: the same settings give the same text, byte for byte.
 * Signed URLs (steering/sign-url.ts): `?kid=<kid>&exp=<unix s>&net=<client /24 or /48 | any>&sig=<HMAC-SHA256/128>`
 * checked by the njs verifier (link-verifier.ts) against the cluster's keys in `linkKeysDir`; a missing,
 * tampered, expired, foreign (another cluster's key, an unknown kid) or misused (another client
 * network) link gets 403.
 */
export function renderNginxConf(input: EdgeSettingsInput): string {
  const s = parseEdgeSettings(input);
  const ktlsLine = s.ktls === "off" ? "" : "    ssl_conf_command Options KTLS;\n";
  const listens = s.listen
    .flatMap((a) => [`    listen ${a}:${s.httpPort} reuseport;`, `    listen ${a}:${s.httpsPort} ssl reuseport;`])
    .join("\n");
  const accessLog =
    s.accessLogUdpPort === undefined
      ? "  access_log off;"
      : `  log_format edgefleet_bytes '$status $bytes_sent';\n  access_log syslog:server=127.0.0.1:${s.accessLogUdpPort},tag=edgefleet,nohostname edgefleet_bytes;`;
  return `# Generated by edgefleet (operator/src/edge/nginx-config.ts) from the OCACluster edge settings. Do not edit.
load_module "${s.njsModulePath}";
${s.workerUser ? `user ${s.workerUser};\n` : ""}worker_processes ${s.workerProcesses};
pid "${s.runDir}/nginx.pid";
error_log ${s.errorLog === "stderr" ? "stderr" : `"${s.errorLog}"`} warn;

events {
  worker_connections 16384;
}

http {
  default_type application/octet-stream;
  types {
    video/mp4 mp4 m4v m4s;
    audio/mp4 m4a;
    video/mp2t ts;
    video/webm webm;
    application/vnd.apple.mpegurl m3u8;
    application/dash+xml mpd;
  }
  server_tokens off;

  # The kernel moves file pages to the socket (and, with kTLS, encrypts them there); reads that would
  # block go to the thread pool instead of stalling the event loop.
  sendfile ${s.sendfile ? "on" : "off"};
  tcp_nopush on;
  tcp_nodelay on;
  aio threads;
  open_file_cache max=65536 inactive=60s;
  keepalive_timeout 65s;
  keepalive_requests 10000;

  client_body_temp_path "${s.runDir}/client_body";
  proxy_temp_path "${s.runDir}/proxy";
  fastcgi_temp_path "${s.runDir}/fastcgi";
  uwsgi_temp_path "${s.runDir}/uwsgi";
  scgi_temp_path "${s.runDir}/scgi";

${accessLog}

  # Signed links: the verifier reads the cluster's keys from ${s.linkKeysDir} (the mounted Secret).
  js_import edgefleet_link from "${s.linkVerifierPath}";
  js_set ${DENIED_VAR} edgefleet_link.denied;

  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:edgefleet_tls:16m;
  ssl_session_timeout 1h;

  server {
${listens}
    ssl_certificate "${s.certPath}";
    ssl_certificate_key "${s.keyPath}";
${ktlsLine}
    root "${s.contentPath}";
    # Files are only ever renamed into place by the agent; a symlink could point off the content disk.
    disable_symlinks on;

    # Dot paths hold in-progress fills (.edgefleet/) and are never served.
    location ~ "/\\." {
      return 404;
    }

    location / {
      limit_except GET {
        deny all;
      }
      if (${DENIED_VAR}) {
        return 403;
      }
      # Published files never change in place: a new version is a new path.
      add_header Cache-Control "public, max-age=31536000, immutable";
    }
  }

  server {
    listen 127.0.0.1:${s.statusPort};
    # The agent's own polls are not client traffic.
    access_log off;
    location = ${STATUS_LOCATION} {
      stub_status;
      allow 127.0.0.1;
      deny all;
    }
    location = ${LINK_KIDS_LOCATION} {
      allow 127.0.0.1;
      deny all;
      js_content edgefleet_link.kids;
    }
    location / {
      return 404;
    }
  }
}
`;
}
