// The console API (docs/console.md): bearer token in Authorization, JSON answers.

const TIMEOUT_MS = 15000;
// A write may take the API's whole integration timeout (29 s: a redrive replays a batch).
const WRITE_TIMEOUT_MS = 35000;

/** A request (its answer's body included) that took longer than its limit. */
export class TimeLimitError extends Error {
  constructor(ms) {
    super(`No answer within ${ms} ms.`);
    this.name = "TimeLimitError";
  }
}

/**
 * fetch bounded in time, the answer's body included: resolves to {status, ok, data} (data: the
 * body's JSON, null if it is not JSON), or rejects with a TimeLimitError after `ms` (the request
 * aborted) or with fetch's own error. The console's every request goes through it.
 */
export async function fetchWithin(url, init, ms, fetchImpl = (...args) => fetch(...args)) {
  const controller = new AbortController();
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new TimeLimitError(ms)); // first: the aborted body read must not pass for "not JSON"
      controller.abort();
    }, ms);
  });
  const exchange = (async () => {
    const answer = await fetchImpl(url, { ...init, signal: controller.signal });
    const data = await answer.json().catch(() => null);
    return { status: answer.status, ok: answer.ok, data };
  })();
  exchange.catch(() => {}); // lost the race: its failure is the abort's
  try {
    return await Promise.race([exchange, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A fresh idempotency key for one change (a composed reply, a submitted form): 32 random hex
 * digits, within what every write of the API takes (letters, digits, - and _; 16 to 64).
 */
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class ApiError extends Error {
  /** `data`: the answer's JSON (a refused start's `problems` name each field). */
  constructor(status, message, data = null) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

export class Api {
  /** `limits`: milliseconds a read (GET) and a write may take, the answer's body included. */
  constructor(config, auth, fetchImpl = (...args) => fetch(...args), limits = { read: TIMEOUT_MS, write: WRITE_TIMEOUT_MS }) {
    this.base = `${config.apiUrl}/console/api`;
    this.auth = auth;
    this.fetch = fetchImpl;
    this.limits = limits;
  }

  /** GET a path under /console/api; segments are URL-encoded, empty query values dropped. */
  async get(segments, query = {}) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
    }
    return this.request("GET", segments, params.size ? `?${params}` : "");
  }

  /** POST a JSON body (a change: the API checks the role). */
  post(segments, body = {}) {
    return this.request("POST", segments, "", body);
  }

  /** PUT a JSON body (a setting replaced). */
  put(segments, body = {}) {
    return this.request("PUT", segments, "", body);
  }

  async request(method, segments, search, body) {
    const path = segments.map((s) => encodeURIComponent(String(s))).join("/");
    const url = `${this.base}/${path}${search}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let answer = await this.send(url, await this.auth.token(), method, payload);
    if (answer.status === 401) {
      answer = await this.send(url, await this.auth.token({ forceRefresh: true }), method, payload);
    }
    const { data } = answer;
    if (!answer.ok) {
      const detail = data && typeof data.message === "string" ? data.message : data?.error;
      throw new ApiError(answer.status, typeof detail === "string" ? detail : `HTTP ${answer.status}`, data);
    }
    return data;
  }

  /** One exchange within its limit: {status, ok, data}, or an ApiError of status 0. */
  async send(url, token, method = "GET", payload = undefined) {
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    const limit = method === "GET" ? this.limits.read : this.limits.write;
    try {
      return await fetchWithin(url, { method, headers, body: payload, cache: "no-store" }, limit, this.fetch);
    } catch (error) {
      if (error instanceof TimeLimitError) throw new ApiError(0, "The console API did not answer in time.");
      throw new ApiError(0, "The console API cannot be reached.");
    }
  }
}
