// Drives Switchboard's desktop window over WebDriver (tauri-driver in front of
// WebKitWebDriver), with the W3C protocol spoken directly: logs in, waits for the
// wallboard, reads it and takes a screenshot; then the window's phone: waits until it
// signs in, waits for a call to ring (the test dials it once told "phone-signed-in"),
// reads the caller's card, clicks Answer, and waits until the caller hangs up.
// Run by tests/tests/desktop_window_opens.rs.
//
//   node desktop_window.mjs DRIVER_PORT APPLICATION ADMIN_PASSWORD ARTIFACTS
import { writeFileSync } from "node:fs";
import path from "node:path";

const [port, application, adminPassword, artifacts] = process.argv.slice(2);
const driver = `http://127.0.0.1:${port}`;
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

async function call(method, url, body) {
  const response = await fetch(driver + url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${url}: ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

const step = (name, detail = {}) => console.log(JSON.stringify({ step: name, ...detail }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function find(session, using, value, timeout = 30000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      const found = await call("POST", `/session/${session}/element`, { using, value });
      return found[ELEMENT];
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(250);
    }
  }
}

// The owner logs in and reads the wallboard.
async function wallboard(session) {
  const password = await find(session, "css selector", "#password");
  await call("POST", `/session/${session}/element/${password}/value`, { text: adminPassword });
  const button = await find(session, "css selector", "button[type=submit]");
  await call("POST", `/session/${session}/element/${button}/click`, {});
  const heading = await find(session, "xpath", "//h3[contains(., 'Wallboard')]");
  step("logged-in", { heading: await call("GET", `/session/${session}/element/${heading}/text`) });
  const card = await find(session, "css selector", "[data-testid=queue-600]");
  const title = () =>
    call("POST", `/session/${session}/execute/sync`, {
      script:
        "return document.querySelector('[data-testid=queue-600]')?.closest('.ant-card')" +
        "?.querySelector('.ant-card-head-title')?.textContent ?? null",
      args: [],
    });
  step("wallboard-shown", {
    title: await title(),
    queue: await call("GET", `/session/${session}/element/${card}/text`),
  });
  const png = await call("GET", `/session/${session}/screenshot`);
  writeFileSync(path.join(artifacts, "desktop-wallboard.png"), Buffer.from(png, "base64"));
  step("screenshot-saved");
}

// The window's phone signs in; then (after a login) a queue call rings it, is
// answered with a click, and ends when the caller hangs up.
async function phone(session) {
  const text = async (css) => {
    const element = await find(session, "css selector", css, 60000);
    return call("GET", `/session/${session}/element/${element}/text`);
  };
  await find(session, "xpath", "//*[@data-testid='phone-sign-in'][contains(., 'signed in')]", 30000);
  step("phone-signed-in", { extension: await text("[data-testid=phone-extension]") });
  if (adminPassword === "-") return;
  const answer = await find(session, "css selector", "[data-testid=phone-answer]", 60000);
  // The card learns the queue from the wallboard within a couple of seconds.
  await find(session, "xpath", "//*[@data-testid='phone-caller-facts'][contains(., 'Sales')]", 10000).catch(() => null);
  step("phone-ringing", {
    party: await text("[data-testid=phone-party]"),
    facts: await text("[data-testid=phone-caller-facts]").catch(() => ""),
  });
  const ringingPng = await call("GET", `/session/${session}/screenshot`);
  writeFileSync(path.join(artifacts, "desktop-phone-ringing.png"), Buffer.from(ringingPng, "base64"));
  await call("POST", `/session/${session}/element/${answer}/click`, {});
  await find(session, "xpath", "//*[@data-testid='phone-line-state'][contains(., 'talking')]", 10000);
  step("phone-answered");
  const deadline = Date.now() + 60000;
  while (
    await call("POST", `/session/${session}/execute/sync`, {
      script: "return document.querySelector('[data-testid=phone-line-0]') !== null",
      args: [],
    })
  ) {
    if (Date.now() > deadline) throw new Error("the call never ended in the window");
    await sleep(250);
  }
  step("phone-call-ended");
}

let session;
try {
  session = (
    await call("POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application } } },
    })
  ).sessionId;
  step("window-opened");
  // "-" for the password: no login, the phone alone.
  if (adminPassword !== "-") await wallboard(session);
  await phone(session);
} catch (e) {
  step("failed", { message: String(e) });
  if (session) {
    const png = await call("GET", `/session/${session}/screenshot`).catch(() => null);
    if (png) writeFileSync(path.join(artifacts, "desktop-failed.png"), Buffer.from(png, "base64"));
  }
  process.exitCode = 1;
} finally {
  if (session) await call("DELETE", `/session/${session}`).catch(() => {});
}
