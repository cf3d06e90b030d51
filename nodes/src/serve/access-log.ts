import { createSocket, type Socket } from "node:dgram";

export type AccessLine = Readonly<{ status: number; bytesSent: number }>;

/**
 * Parses one syslog datagram from nginx's `edgefleet_bytes` log format ("$status $bytes_sent"), e.g.
 * `<190>Nov  1 12:00:00 edgefleet: 206 2097152`. Returns undefined for anything else.
 */
export function parseAccessLine(msg: string): AccessLine | undefined {
  const m = /edgefleet: (\d{3}) (\d+)\s*$/.exec(msg);
  if (!m) return undefined;
  return { status: Number(m[1]), bytesSent: Number(m[2]) };
}

/** Sums what nginx reports per request over syslog/UDP on loopback: no log file to rotate on the edge. */
export class AccessLogCounter {
  readonly #socket: Socket;
  #bytes = 0;
  readonly #byClass = new Map<string, number>();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("message", (b) => {
      const l = parseAccessLine(b.toString());
      if (!l) return;
      this.#bytes += l.bytesSent;
      const c = `${Math.floor(l.status / 100)}xx`;
      this.#byClass.set(c, (this.#byClass.get(c) ?? 0) + 1);
    });
  }

  static async listen(port: number): Promise<AccessLogCounter> {
    const s = createSocket("udp4");
    await new Promise<void>((res, rej) => {
      s.once("error", rej);
      s.bind(port, "127.0.0.1", () => res());
    });
    return new AccessLogCounter(s);
  }

  get bytesSent(): number {
    return this.#bytes;
  }

  /** Requests by status class ("2xx", "4xx", …). */
  get requests(): ReadonlyMap<string, number> {
    return this.#byClass;
  }

  close(): Promise<void> {
    return new Promise((res) => this.#socket.close(() => res()));
  }
}
