// Sign-in against the Cognito user pool by its JSON API (InitiateAuth USER_PASSWORD_AUTH, the
// NEW_PASSWORD_REQUIRED challenge of an invited user, REFRESH_TOKEN_AUTH). Tokens live in this
// tab's sessionStorage only: no cookies, so nothing is sent to the API without our code adding it.

import { TimeLimitError, fetchWithin } from "./api.js";

const STORE_KEY = "sms-console-session";
const TIMEOUT_MS = 15000;
const REFRESH_MARGIN_SECONDS = 60;

export class AuthError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export class Auth {
  /** `timeoutMs`: how long one call to the sign-in service may take, its answer's body included. */
  constructor(config, fetchImpl = (...args) => fetch(...args), storage = sessionStorage, timeoutMs = TIMEOUT_MS) {
    this.config = config;
    this.fetch = fetchImpl;
    this.storage = storage;
    this.timeoutMs = timeoutMs;
    this.session = readSession(storage);
  }

  get signedIn() {
    return this.session !== null;
  }

  /** The email and groups the Id token names (shown; the API decides what they may do). */
  get claims() {
    return this.session ? jwtPayload(this.session.idToken) : {};
  }

  /** One call of the user pool's JSON API, within the time limit (a late one is a "Network" error). */
  async call(target, body) {
    let answer;
    try {
      const init = {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
        },
        body: JSON.stringify(body),
        cache: "no-store",
      };
      answer = await fetchWithin(this.config.cognitoEndpoint, init, this.timeoutMs, this.fetch);
    } catch (error) {
      const late = error instanceof TimeLimitError;
      throw new AuthError(`The sign-in service ${late ? "did not answer in time" : "cannot be reached"}.`, "Network");
    }
    const data = answer.data ?? {};
    if (!answer.ok) {
      const code = String(data.__type || "").split("#").pop() || `HTTP ${answer.status}`;
      throw new AuthError(signInMessage(code), code);
    }
    return data;
  }

  /** Returns {done: true} or {challenge: "NEW_PASSWORD_REQUIRED", session, username}. */
  async signIn(username, password) {
    const data = await this.call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.config.userPoolClientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return this.settle(data, username);
  }

  async setNewPassword(challenge, newPassword) {
    const data = await this.call("RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: this.config.userPoolClientId,
      Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
    });
    return this.settle(data, challenge.username);
  }

  settle(data, username) {
    if (data.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      return { challenge: data.ChallengeName, session: data.Session, username };
    }
    if (data.ChallengeName) throw new AuthError(`Unsupported sign-in step ${data.ChallengeName}.`);
    this.keep(data.AuthenticationResult, null);
    return { done: true };
  }

  keep(result, previousRefreshToken) {
    if (!result || typeof result.IdToken !== "string") throw new AuthError("No tokens came back.");
    this.session = {
      idToken: result.IdToken,
      accessToken: result.AccessToken,
      refreshToken: result.RefreshToken || previousRefreshToken,
      expiresAt: Date.now() / 1000 + Number(result.ExpiresIn || 3600),
    };
    this.storage.setItem(STORE_KEY, JSON.stringify(this.session));
  }

  /** The bearer token for the console API, refreshed shortly before it expires. */
  async token({ forceRefresh = false } = {}) {
    if (!this.session) throw new AuthError("Signed out.", "SignedOut");
    const stale = this.session.expiresAt - REFRESH_MARGIN_SECONDS < Date.now() / 1000;
    if (stale || forceRefresh) await this.refresh();
    return this.session.idToken;
  }

  async refresh() {
    const refreshToken = this.session?.refreshToken;
    if (!refreshToken) return this.forget();
    try {
      const data = await this.call("InitiateAuth", {
        AuthFlow: "REFRESH_TOKEN_AUTH",
        ClientId: this.config.userPoolClientId,
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      });
      this.keep(data.AuthenticationResult, refreshToken);
    } catch (error) {
      if (error.code !== "Network") this.forget();
      throw error;
    }
  }

  /** Revoke the refresh token (best effort) and forget every token of this tab. */
  async signOut() {
    const refreshToken = this.session?.refreshToken;
    this.forget();
    if (!refreshToken) return;
    try {
      await this.call("RevokeToken", { Token: refreshToken, ClientId: this.config.userPoolClientId });
    } catch {
      // Signed out here regardless; the refresh token also expires on its own.
    }
  }

  forget() {
    this.session = null;
    this.storage.removeItem(STORE_KEY);
  }
}

function readSession(storage) {
  try {
    const session = JSON.parse(storage.getItem(STORE_KEY) || "null");
    return session && typeof session.idToken === "string" ? session : null;
  } catch {
    return null;
  }
}

/** A JWT's payload, decoded for display only (the API verifies the signature). */
export function jwtPayload(token) {
  try {
    const part = String(token).split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return {};
  }
}

function signInMessage(code) {
  switch (code) {
    case "NotAuthorizedException":
      return "Wrong email or password (or the session expired: sign in again).";
    case "UserNotFoundException":
      return "Wrong email or password.";
    case "InvalidPasswordException":
      return "That password does not meet the pool's password policy.";
    case "PasswordResetRequiredException":
      return "An administrator reset this password: ask them for a new one.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts: wait a minute and try again.";
    default:
      return `Sign-in failed (${code}).`;
  }
}
