// The console's entry: config, sign-in, hash routes, today's strip, and polling (docs/console.md).
//   #/inbox/{account}?contact=&number=&text=&since=&until=&channel=
//   #/thread/{account}/{contact}      #/message/{account}/{sid}
//   #/audit/{account}      #/automations/{account}      #/run/{account}/{run_id}
//   #/accounts/{account}
//   #/triggers/{account}  (its modules load when the page opens)
//   #/conversations/{account}?state=all   #/audit/{account}   #/dead-letters

import { renderAccounts } from "./accounts.js";
import { Api, ApiError } from "./api.js";
import { renderAudit } from "./audit.js";
import { Auth, AuthError } from "./auth.js";
import { loadConfig } from "./config.js";
import { renderConversations } from "./conversations.js";
import { renderDeadLetters } from "./deadletters.js";
import { el, route, show } from "./dom.js";
import { renderAutomations, renderRun } from "./automations.js";
import { renderDetail } from "./detail.js";
import { renderInbox } from "./inbox.js";
import { renderSignIn } from "./signin.js";
import { renderThread } from "./thread.js";

const main = document.getElementById("main");
const status = document.getElementById("status");

/** The pages in the navigation, each for the account on screen: [hash page, label]. */
const PAGES = [
  ["inbox", "Inbox"],
  ["triggers", "Triggers"],
  ["conversations", "Conversations"],
  ["dead-letters", "Dead letters"],
  ["audit", "Audit"],
  ["automations", "Automations"],
  ["accounts", "Accounts"],
];
const ROLES = ["viewer", "operator", "admin"];

/** The hash's route: its path segments (decoded) and its query. */
export function parseRoute(hash) {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?");
  const segments = path.split("/").filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return "";
    }
  });
  return { segments, query: Object.fromEntries(new URLSearchParams(search)) };
}

class Console {
  constructor(config) {
    this.config = config;
    this.auth = new Auth(config);
    this.api = new Api(config, this.auth);
    this.account = null;
    this.accountList = null;
    this.whoami = null;
    this.page = {};
    this.timer = null;
    this.generation = 0;
  }

  start() {
    window.addEventListener("hashchange", () => this.go());
    // A hidden tab stops polling; shown again, it refreshes at once, then polls on.
    document.addEventListener("visibilitychange", () => (document.hidden ? this.stop() : this.tick()));
    document.getElementById("sign-out").addEventListener("click", () => this.signOut());
    this.go();
  }

  say(message, error = false) {
    status.textContent = message;
    status.classList.toggle("error", error);
  }

  setAccount(name) {
    this.account = name;
  }

  async accounts() {
    if (!this.accountList) {
      const data = await this.api.get(["accounts"]);
      this.accountList = Array.isArray(data.items) ? data.items : [];
    }
    return this.accountList;
  }

  /** The signed-in user as the API sees them: {email, role, accounts}. */
  async me() {
    if (!this.whoami) this.whoami = await this.api.get(["me"]);
    return this.whoami;
  }

  /** Whether the user's role is at least `least` (to hide controls; the API decides). */
  async may(least) {
    const { role } = await this.me();
    return ROLES.indexOf(role) >= ROLES.indexOf(least);
  }

  /** Run an action; an expired session goes back to sign-in, other failures are said. */
  async guard(action) {
    try {
      return await action();
    } catch (error) {
      if (error instanceof AuthError || (error instanceof ApiError && error.status === 401)) {
        this.auth.forget();
        this.go();
      } else if (error instanceof ApiError && error.status === 403) {
        this.say("You are not allowed to see this.", true);
      } else {
        this.say(error.message || "Something failed.", true);
      }
      return undefined;
    }
  }

  /**
   * A button's change: the button disabled while `action` runs. An ApiError of an `expected`
   * status (someone changed it first, it is gone) is said, or given to `refused`; any other
   * failure goes to guard. `after` runs either way (to reload what changed), then the button is
   * enabled again.
   */
  async act(button, action, { expected = [409, 404], refused = null, after = null } = {}) {
    return this.guard(async () => {
      button.disabled = true;
      try {
        return await action();
      } catch (error) {
        if (!(error instanceof ApiError) || !expected.includes(error.status)) throw error;
        if (refused) await refused(error);
        else this.say(String(error.message), true);
        return undefined;
      } finally {
        try {
          await after?.();
        } finally {
          button.disabled = false;
        }
      }
    });
  }

  async go() {
    const generation = ++this.generation;
    this.stop();
    this.page = {};
    this.say("");
    if (!this.auth.signedIn) {
      document.getElementById("session").hidden = true;
      document.getElementById("today").hidden = true;
      document.getElementById("pages").hidden = true;
      renderSignIn(main, this.auth, () => this.signedIn());
      return;
    }
    this.showSession();
    show(main, el("p", {}, "Loading…"));
    const { segments, query } = parseRoute(location.hash);
    const [page, account, key] = segments;
    const page_ = await this.guard(async () => {
      if (page === "thread" && account && key) return renderThread(main, this, account, key);
      if (page === "message" && account && key) return renderDetail(main, this, account, key);
      if (page === "conversations") return renderConversations(main, this, account || this.account, query);
      if (page === "audit") return renderAudit(main, this, account || this.account);
      if (page === "automations") return renderAutomations(main, this, account || this.account);
      if (page === "run" && account && key) return renderRun(main, this, account, key);
      if (page === "accounts") return renderAccounts(main, this, account || this.account);
      if (page === "triggers") {
        const { renderTriggers } = await import("./triggers.js"); // not in the inbox's first load
        return renderTriggers(main, this, account || this.account);
      }
      if (page === "dead-letters") return renderDeadLetters(main, this);
      return renderInbox(main, this, page === "inbox" ? account : this.account, query);
    });
    if (generation !== this.generation) return; // another route started meanwhile
    if (!page_) {
      if (!this.auth.signedIn) return; // guard went back to sign-in
      const retry = el("button", { type: "button", onclick: () => this.go() }, "Try again");
      show(main, el("h1", { tabindex: "-1" }, "This page could not be loaded"), el("p", {}, status.textContent), retry);
    }
    this.page = page_ || {};
    this.showPages(page === "run" ? "automations" : page || "inbox");
    main.querySelector("h1")?.focus();
    await this.refreshToday();
    this.schedule();
  }

  /** The navigation, its links for the account on screen; the current page marked. */
  showPages(current) {
    const nav = document.getElementById("pages");
    if (!this.account) {
      nav.hidden = true;
      return;
    }
    show(nav, PAGES.map(([page, label]) =>
      el("a", { href: route(page, this.account), "aria-current": page === current ? "page" : null }, label)));
    nav.hidden = false;
  }

  async signedIn() {
    this.accountList = null;
    this.whoami = null;
    await this.go();
  }

  showSession() {
    const claims = this.auth.claims;
    document.getElementById("who").textContent = typeof claims.email === "string" ? claims.email : "";
    document.getElementById("session").hidden = false;
  }

  async refreshToday() {
    const strip = document.getElementById("today");
    if (!this.account) {
      strip.hidden = true;
      return;
    }
    const figures = await this.guard(() => this.api.get(["accounts", this.account, "summary"]));
    if (!figures) return;
    for (const name of ["received", "sent", "failed"]) {
      document.getElementById(`today-${name}`).textContent = String(figures[name] ?? "–");
    }
    document.getElementById("today-open").textContent = String(figures.open_conversations ?? "–");
    strip.setAttribute("aria-label", `today's figures for ${this.account}`);
    strip.hidden = false;
  }

  /** Poll the open page and the strip every pollSeconds while the tab is visible. */
  schedule() {
    this.stop();
    if (document.hidden || !this.auth.signedIn) return;
    this.timer = setTimeout(() => this.tick(), this.config.pollSeconds * 1000);
  }

  async tick() {
    this.stop();
    if (!this.auth.signedIn) return;
    const generation = this.generation;
    await this.guard(async () => {
      await this.page.refresh?.();
      await this.refreshToday();
    });
    if (generation === this.generation) this.schedule(); // a new route schedules its own
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  async signOut() {
    this.stop();
    await this.auth.signOut();
    this.accountList = null;
    this.whoami = null;
    this.account = null;
    location.hash = "#/";
    this.go();
  }
}

async function boot() {
  try {
    new Console(await loadConfig()).start();
  } catch (error) {
    show(main, el("h1", {}, "The console is not configured"), el("p", {}, String(error.message)));
  }
}

if (main) boot();
