// config.json: written next to index.html at deploy time (make deploy, make run), never baked in.

import { TimeLimitError, fetchWithin } from "./api.js";

const TIMEOUT_MS = 15000;
const REQUIRED = ["apiUrl", "region", "userPoolId", "userPoolClientId"];

export class ConfigError extends Error {}

/** Check a parsed config.json; the Cognito endpoint defaults to the region's. */
export function checkedConfig(raw) {
  if (raw === null || typeof raw !== "object") throw new ConfigError("config.json is not an object");
  for (const key of REQUIRED) {
    if (typeof raw[key] !== "string" || raw[key] === "") {
      throw new ConfigError(`config.json lacks ${key}`);
    }
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(raw.region)) throw new ConfigError("config.json: bad region");
  const cognitoEndpoint = raw.cognitoEndpoint || `https://cognito-idp.${raw.region}.amazonaws.com/`;
  return {
    apiUrl: httpUrl(raw.apiUrl, "apiUrl").replace(/\/+$/, ""),
    region: raw.region,
    userPoolId: raw.userPoolId,
    userPoolClientId: raw.userPoolClientId,
    cognitoEndpoint: httpUrl(cognitoEndpoint, "cognitoEndpoint"),
    pollSeconds: Number.isInteger(raw.pollSeconds) && raw.pollSeconds >= 5 ? raw.pollSeconds : 15,
  };
}

function httpUrl(value, key) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`config.json: ${key} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError(`config.json: ${key} is not an http(s) URL`);
  }
  return url.href;
}

/** Fetch and check config.json, within the time limit (its body included). */
export async function loadConfig(fetchImpl = (...args) => fetch(...args), ms = TIMEOUT_MS) {
  let answer;
  try {
    answer = await fetchWithin("config.json", { cache: "no-store" }, ms, fetchImpl);
  } catch (error) {
    throw new ConfigError(`config.json: ${error instanceof TimeLimitError ? "no answer in time" : "cannot be reached"}`);
  }
  if (!answer.ok) throw new ConfigError(`config.json: HTTP ${answer.status}`);
  return checkedConfig(answer.data);
}
