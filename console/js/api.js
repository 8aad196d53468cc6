// The console API (docs/console.md): bearer token in Authorization, JSON answers.

const TIMEOUT_MS = 15000;
// A write may take the API's whole integration timeout (29 s: a redrive replays a batch).
const WRITE_TIMEOUT_MS = 35000;

export class ApiError extends Error {
  /** `data`: the answer's JSON (a refused start's `problems` name each field). */
  constructor(status, message, data = null) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

export class Api {
  constructor(config, auth, fetchImpl = (...args) => fetch(...args)) {
    this.base = `${config.apiUrl}/console/api`;
    this.auth = auth;
    this.fetch = fetchImpl;
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
    const data = await answer.json().catch(() => null);
    if (!answer.ok) {
      const detail = data && typeof data.message === "string" ? data.message : data?.error;
      throw new ApiError(answer.status, typeof detail === "string" ? detail : `HTTP ${answer.status}`, data);
    }
    return data;
  }

  async send(url, token, method = "GET", payload = undefined) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), method === "GET" ? TIMEOUT_MS : WRITE_TIMEOUT_MS);
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await this.fetch(url, {
        method,
        headers,
        body: payload,
        cache: "no-store",
        signal: controller.signal,
      });
    } catch {
      throw new ApiError(0, "The console API cannot be reached.");
    } finally {
      clearTimeout(timer);
    }
  }
}
