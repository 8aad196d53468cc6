// The console API (docs/console.md): bearer token in Authorization, JSON answers.

const TIMEOUT_MS = 15000;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
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
    const path = segments.map((s) => encodeURIComponent(String(s))).join("/");
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
    }
    const url = `${this.base}/${path}${params.size ? `?${params}` : ""}`;
    let answer = await this.send(url, await this.auth.token());
    if (answer.status === 401) {
      answer = await this.send(url, await this.auth.token({ forceRefresh: true }));
    }
    const data = await answer.json().catch(() => null);
    if (!answer.ok) {
      const detail = data && typeof data.message === "string" ? data.message : data?.error;
      throw new ApiError(answer.status, typeof detail === "string" ? detail : `HTTP ${answer.status}`);
    }
    return data;
  }

  async send(url, token) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      return await this.fetch(url, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
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
