// A page of the WABA lookup: a space's WABA (GET /waba) and its health (GET /waba/health).
//
// What a frontend of this API has to do, and nothing more: send the bearer token; on 401 ask for
// a new one; on 429 wait Retry-After seconds, saying so, then ask again; revalidate with the ETag
// it got (If-None-Match), keeping its copy on 304; and say when an answer is stale.

const MAX_WAITS = 3;
const DEFAULT_API = "http://127.0.0.1:9000";

export class TokenRefused extends Error {
  constructor(challenge, error) {
    super(error?.message ?? "The token was refused.");
    this.challenge = challenge;
  }
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? "HTTP" + status;
  }
}

// Seconds to wait as the answer says (delta-seconds, RFC 9110), at least one.
function retryAfter(response) {
  const seconds = Number.parseInt(response.headers.get("Retry-After") ?? "1", 10);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 1;
}

export class LookupClient {
  // onWait(seconds, path) is awaited before a request is sent again after a 429.
  constructor({ baseUrl, token, onWait }) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.onWait = onWait;
    this.copies = new Map(); // URL -> {etag, body}: what If-None-Match revalidates
  }

  // {body, notModified}: the answer, or the copy the server said is still the answer (304).
  async get(path, query) {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    for (let waits = 0; ; waits += 1) {
      const response = await this.send(url);
      if (response.status === 429 && waits < MAX_WAITS) {
        await this.onWait(retryAfter(response), path);
        continue;
      }
      return this.read(url, response);
    }
  }

  send(url) {
    const headers = { Authorization: `Bearer ${this.token}` };
    const copy = this.copies.get(url.href);
    if (copy) headers["If-None-Match"] = copy.etag;
    // no-store: the page keeps its own copy; the browser's cache would hide the 304 from it.
    return fetch(url, { headers, cache: "no-store" });
  }

  async read(url, response) {
    const copy = this.copies.get(url.href);
    if (response.status === 304 && copy) return { body: copy.body, notModified: true };
    const body = await response.json();
    if (response.status === 401) throw new TokenRefused(response.headers.get("WWW-Authenticate"), body.error);
    if (!response.ok) throw new ApiError(response.status, body.error);
    const etag = response.headers.get("ETag");
    if (etag) this.copies.set(url.href, { etag, body });
    return { body, notModified: false };
  }
}

// The page.

const $ = (id) => document.getElementById(id);

function say(state, text) {
  const status = $("status");
  status.dataset.state = state;
  status.textContent = text;
}

function field(list, name, value) {
  const term = document.createElement("dt");
  term.textContent = name;
  const detail = document.createElement("dd");
  detail.textContent = value ?? "—";
  list.append(term, detail);
}

function showWaba(answer) {
  const { waba, stale, cachedAt } = answer;
  const panel = $("waba");
  panel.dataset.stale = String(stale);
  $("waba-stale").hidden = !stale;
  const list = $("waba-fields");
  list.replaceChildren();
  field(list, "Name", waba.name);
  field(list, "Id", waba.id);
  field(list, "Business", waba.businessName);
  field(list, "Review status", waba.accountReviewStatus);
  field(list, "Currency", waba.currency);
  field(list, "From CAMS at", cachedAt);
}

function showHealth(answer) {
  const { health, stale, checkedAt } = answer;
  const panel = $("health");
  panel.dataset.stale = String(stale);
  panel.dataset.verdict = health.verdict;
  $("health-stale").hidden = !stale;
  $("verdict").textContent = health.verdict;
  const list = $("health-fields");
  list.replaceChildren();
  field(list, "Can send", health.canSendMessage);
  field(list, "Checked at", checkedAt);
  for (const phone of health.phoneNumbers ?? []) {
    field(list, phone.phoneNumber, `${phone.status} · ${phone.qualityRating} · ${phone.messagingLimitTier}`);
  }
  const reasons = $("reasons");
  reasons.replaceChildren(
    ...health.reasons.map((reason) => {
      const item = document.createElement("li");
      item.textContent = `${reason.code}: ${reason.message}`;
      return item;
    }),
  );
}

function showError(panel, failure) {
  $(panel).dataset.error = failure.code;
  $(`${panel}-fields`).replaceChildren();
  field($(`${panel}-fields`), failure.code, failure.message);
  if (panel === "health") {
    $("verdict").textContent = "";
    $("reasons").replaceChildren();
  }
}

async function countDown(seconds, path) {
  for (let left = seconds; left > 0; left -= 1) {
    say("waiting", `429 Too Many Requests on ${path}: asking again in ${left} s (Retry-After: ${seconds}).`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

let client = null;

// A new client for a new API, space or token; the same one keeps its copies to revalidate them.
function clientFor(baseUrl, token) {
  if (!client || client.baseUrl !== baseUrl || client.token !== token) {
    client = new LookupClient({ baseUrl, token, onWait: countDown });
  }
  return client;
}

// {answer} or {failure}: each panel shows its own; a fetch that never got an answer is an ApiError too.
async function settle(asking) {
  try {
    return { answer: await asking };
  } catch (failure) {
    if (failure instanceof TokenRefused || failure instanceof ApiError) return { failure };
    return { failure: new ApiError(0, { code: "Unreachable", message: `no answer: ${failure.message}` }) };
  }
}

async function load() {
  const token = $("token").value.trim();
  const space = $("space").value.trim();
  if (!token) return askForToken(`Paste a token: python -m local token --spaces ${space || "<space>"}`);
  $("token").removeAttribute("aria-invalid");
  const lookup = clientFor($("api").value.trim() || DEFAULT_API, token);
  say("loading", `Asking for ${space}…`);
  const waba = await settle(lookup.get("/waba", { custSpaceId: space }));
  if (waba.failure instanceof TokenRefused) return tokenRefused(waba.failure);
  const health = await settle(lookup.get("/waba/health", { custSpaceId: space }));
  if (health.failure instanceof TokenRefused) return tokenRefused(health.failure);
  show("waba", waba, showWaba);
  show("health", health, showHealth);
  say(...summary(space, [waba, health]));
}

function show(panel, got, render) {
  delete $(panel).dataset.error;
  if (got.answer) render(got.answer.body);
  else showError(panel, got.failure);
}

// The status line: the first error, else whether anything changed, else whether anything is stale.
function summary(space, answers) {
  const failed = answers.find((got) => got.failure);
  if (failed) return ["error", `${failed.failure.status || ""} ${failed.failure.code}: ${failed.failure.message}`.trim()];
  if (answers.every((got) => got.answer.notModified)) {
    return ["not-modified", "304 Not Modified: unchanged, the page kept what it had."];
  }
  if (answers.some((got) => got.answer.body.stale)) {
    return ["stale", "Stale: CAMS could not be asked; these are the last answers it gave."];
  }
  return ["ok", `200: ${space} as CAMS answered it.`];
}

function tokenRefused(failure) {
  client = null;
  askForToken(`401: ${failure.message} (${failure.challenge}). Paste a new token.`);
}

function askForToken(text) {
  say("token-refused", text);
  const token = $("token");
  token.setAttribute("aria-invalid", "true");
  token.focus();
}

function start() {
  const params = new URLSearchParams(location.search);
  $("api").value = params.get("api") ?? DEFAULT_API;
  $("space").value = params.get("space") ?? "demo-approved";
  $("lookup").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  say("idle", "Paste a token and press Look up.");
}

if (typeof document !== "undefined") start();
