// Drives Switchboard's admin panel in Debian's Chromium (Playwright), as an office
// owner would. Run by tests/tests/admin_panel_configures_calls.rs, which checks the
// calls that follow; this script checks what the panel shows.
//
//   node admin_panel.mjs configure HTTP ADMIN_PASSWORD EXT_PASSWORD ARTIFACTS
//   node admin_panel.mjs wallboard HTTP ADMIN_PASSWORD QUEUE WAITING ARTIFACTS
//   node admin_panel.mjs agents HTTP ADMIN_PASSWORD ARTIFACTS
//   node admin_panel.mjs break HTTP ADMIN_PASSWORD EXTENSION ARTIFACTS   (after today's calls;
//                                                                         then the call log)
//   node admin_panel.mjs languages HTTP ADMIN_PASSWORD ARTIFACTS
//   node admin_panel.mjs voicemail HTTP ADMIN_PASSWORD MAILBOX ARTIFACTS
//   node admin_panel.mjs live-call HTTP ADMIN_PASSWORD CALLER TARGET ARTIFACTS
//   node admin_panel.mjs scenario-name-taken HTTP ADMIN_PASSWORD NAME ARTIFACTS
//   node admin_panel.mjs export-follows-form HTTP ADMIN_PASSWORD NUMBER ARTIFACTS
//   node admin_panel.mjs agent-ringing HTTP ADMIN_PASSWORD QUEUE ARTIFACTS
//   node admin_panel.mjs scenario-back HTTP ADMIN_PASSWORD NAME ARTIFACTS
//   node admin_panel.mjs schedule-errors HTTP ADMIN_PASSWORD ARTIFACTS
//   node admin_panel.mjs layout HTTP ADMIN_PASSWORD ARTIFACTS
//   node admin_panel.mjs publish-problems HTTP ADMIN_PASSWORD NAME BLOCK ARTIFACTS
//   node admin_panel.mjs agent-transfer HTTP EXT_PASSWORD EXTENSION CALLER TARGET ARTIFACTS
//                         (logs in as the agent, not the admin)
//   node admin_panel.mjs server-restart HTTP ADMIN_PASSWORD ARTIFACTS   (the test stops the
//                         server after "live", starts it after "reconnecting")
//
// Prints one JSON line per step; exits non-zero on the first failure.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(new URL("../../ui/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const [phase, http, adminPassword, ...rest] = process.argv.slice(2);
const base = `http://${http}`;
const TIMEOUT = 15000;

function step(name, detail = {}) {
  console.log(JSON.stringify({ step: name, ...detail }));
}

async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (e) => step("page-error", { message: String(e) }));
  return { browser, page };
}

async function logIn(page) {
  await page.goto(base + "/");
  await page.getByLabel("User").fill("admin");
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Wallboard" }).waitFor();
  step("logged-in");
}

async function open(page, menu, heading) {
  await page.getByRole("link", { name: menu, exact: true }).click();
  await page.getByRole("heading", { name: heading ?? menu }).first().waitFor();
}

/** Picks `option` in the Ant Design select `select`, typing it as a person would. */
async function choose(page, select, option) {
  await select.click();
  await page.keyboard.type(option);
  await page.keyboard.press("Enter");
  await select.filter({ hasText: option }).waitFor();
}

async function saveDialog(page) {
  await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
}

async function dialogClosed(page) {
  await page.getByRole("dialog").waitFor({ state: "hidden" });
}

/** Cancels the open dialog and waits until it is gone. A click on Cancel while a tall
 * dialog is still zooming in was once lost in CI (the dialog stayed open, covering the
 * menu): it is tried again, a few times at most. */
async function cancelDialog(page) {
  const dialog = page.getByRole("dialog");
  for (let attempt = 1; ; attempt++) {
    await dialog.getByRole("button", { name: "Cancel" }).click();
    try {
      await dialog.waitFor({ state: "hidden", timeout: 3000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

async function configure(page, extensionPassword, artifacts) {
  // An extension, first with a wrong number: the server's message shows by the field.
  await open(page, "Extensions");
  await page.getByRole("button", { name: "Add" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Number").fill("10a");
  await dialog.getByLabel("Name").fill("Sales Anna");
  await dialog.getByLabel("New password").fill(extensionPassword);
  await saveDialog(page);
  const error = dialog.locator(".ant-form-item-explain-error").filter({ hasText: "must be 1 to 15 digits" });
  await error.waitFor();
  step("field-error-shown", { text: await error.innerText() });
  await page.screenshot({ path: path.join(artifacts, "extension-field-error.png") });
  await dialog.getByLabel("Number").fill("105");
  await saveDialog(page);
  await dialogClosed(page);
  await page.getByRole("cell", { name: "Sales Anna" }).waitFor();
  step("extension-created", { number: "105" });

  // A queue whose agents have different priorities: 105 rings before 101.
  await open(page, "Queues");
  await page.getByRole("button", { name: "Add" }).click();
  await dialog.getByLabel("Number").fill("600");
  await dialog.getByLabel("Name").fill("Sales");
  for (const [i, extension, tier] of [[0, "105", "0"], [1, "101", "1"]]) {
    await dialog.getByRole("button", { name: "Add agent" }).click();
    await page.locator(`#agents_${i}_extension`).fill(extension);
    await page.locator(`#agents_${i}_tier`).fill(tier);
  }
  await saveDialog(page);
  await dialogClosed(page);
  await page.getByRole("cell", { name: "Sales" }).waitFor();
  step("queue-created", { number: "600", agents: ["105/0", "101/1"] });

  // A VIP list pasted from a spreadsheet column.
  await open(page, "Number lists");
  await page.getByRole("button", { name: "Add" }).click();
  await dialog.getByLabel("Name").fill("VIP");
  await dialog.getByLabel("Caller priority (1–100, higher is answered first)").fill("80");
  await dialog.getByRole("textbox", { name: "Numbers" }).fill("100\n+48 601 000 000\n(22) 333-44-55");
  await saveDialog(page);
  await dialogClosed(page);
  const row = page.getByRole("row").filter({ hasText: "VIP" });
  await row.getByRole("cell", { name: "3", exact: true }).waitFor();
  step("vip-list-pasted", { numbers: 3 });

  // A scenario: VIP callers get priority 80, everyone goes to the queue.
  await open(page, "Scenarios");
  await page.getByRole("button", { name: "New scenario" }).click();
  await page.getByRole("dialog").getByRole("textbox").fill("Main");
  await page.getByRole("dialog").getByRole("button", { name: "OK" }).click();
  await page.getByTestId("block-start").waitFor();
  const addBlock = async (id, type) => {
    await page.getByRole("button", { name: "Add block" }).click();
    const d = page.getByRole("dialog");
    await d.getByLabel("Block id").fill(id);
    await choose(page, d.locator(".ant-select"), type);
    await d.getByRole("button", { name: "OK" }).click();
    await d.waitFor({ state: "hidden" });
    await page.getByTestId(`block-${id}`).waitFor();
  };
  const exit = async (name, to) => {
    await choose(page, page.locator(".ant-form-item").filter({ hasText: new RegExp(`^${name} →`) }).locator(".ant-select"), to);
  };
  const done = () => page.getByRole("button", { name: "OK", exact: true }).click();
  await addBlock("sales-queue", "queue");
  await page.getByRole("textbox", { name: "queue" }).fill("600");
  for (const name of ["timeout", "empty", "full", "key"]) await exit(name, "start");
  await done();
  await addBlock("prio", "set-priority");
  await page.getByRole("spinbutton", { name: "priority" }).fill("80");
  await exit("next", "sales-queue");
  await done();
  await addBlock("vip-check", "number-check");
  await page.getByRole("textbox", { name: "list" }).fill("VIP");
  await exit("listed", "prio");
  await exit("not-listed", "sales-queue");
  await done();
  step("blocks-added", { blocks: ["sales-queue", "prio", "vip-check"] });
  await choose(page, page.locator(".ant-space-item .ant-select").first(), "vip-check");
  await page.getByRole("button", { name: "Arrange" }).click();
  await page.getByRole("button", { name: "Publish" }).click();
  await page.getByText("Published version 1").first().waitFor();
  await page.screenshot({ path: path.join(artifacts, "scenario-published.png") });
  step("scenario-published", { name: "Main", version: 1 });

  // The inbound number callers dial.
  await open(page, "Inbound numbers");
  await page.getByRole("button", { name: "Add" }).click();
  await dialog.getByLabel("Number").fill("5550100");
  await dialog.getByLabel("Scenario").fill("Main");
  await saveDialog(page);
  await dialogClosed(page);
  await page.getByRole("cell", { name: "5550100" }).waitFor();
  step("inbound-number-added", { number: "5550100", scenario: "Main" });
}

async function wallboard(page, queue, waiting, artifacts) {
  const card = page.getByTestId(`queue-${queue}`);
  await card.waitFor();
  const value = card.getByTestId("waiting").locator(".ant-statistic-content-value");
  await value.filter({ hasText: new RegExp(`^${waiting}$`) }).waitFor();
  const calls = await callsNow(page, Number(waiting));
  await page.screenshot({ path: path.join(artifacts, `wallboard-${waiting}-waiting.png`) });
  step("wallboard-shows-waiting", { queue, waiting: Number(await value.innerText()), calls });
}

/** The rows of the calls-in-progress table once it lists `count` calls, cell by cell. */
async function callsNow(page, count) {
  const rows = "[data-testid=calls-now] tbody tr.ant-table-row";
  await page.waitForFunction(([selector, n]) => document.querySelectorAll(selector).length === n, [rows, count]);
  return page.locator(rows).evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.innerText.trim())));
}

async function agents(page, artifacts) {
  const card = page.getByTestId("agents");
  for (const extension of ["105", "101"]) {
    await card.getByText(`${extension}: on a call`).waitFor();
  }
  const calls = await callsNow(page, 2);
  await page.screenshot({ path: path.join(artifacts, "wallboard-agents-on-calls.png") });
  step("wallboard-shows-agents", { onCall: ["105", "101"], calls });
}

/** A queue card's count of today's calls, and how many "answered" figures the card
 * shows (one is all a reader can trust). */
async function todaysCalls(page, queue, line) {
  const card = page.getByTestId(`queue-${queue}`);
  await card.getByTestId("queue-today").filter({ hasText: line }).waitFor();
  const answeredFigures = ((await card.innerText()).match(/(?<!not )answered/gi) ?? []).length;
  step("todays-calls", { queue, line, answeredFigures });
}

/** An agent on the wallboard is put on a break, then logged out, from their tag's menu. */
async function agentBreak(page, extension, artifacts) {
  const tag = page.getByTestId(`agent-${extension}`);
  for (const [action, shown] of [
    ["Take a break", `${extension}: on break (break)`],
    ["Log out of the queues", `${extension}: logged out`],
  ]) {
    await tag.click();
    await page.getByRole("menuitem", { name: action }).click();
    await page.getByTestId("agents").getByText(shown, { exact: true }).waitFor();
  }
  await page.screenshot({ path: path.join(artifacts, "wallboard-agent-logged-out.png") });
  step("agent-logged-out", { extension });
}

/** The call log lists today's answered calls, their outcome in words (not the API's). */
async function callLog(page, answered, artifacts) {
  await open(page, "Call log");
  const tags = page.locator(".ant-table-row .ant-tag", { hasText: /^Answered$/ });
  await tags.nth(answered - 1).waitFor();
  await page.screenshot({ path: path.join(artifacts, "call-log.png") });
  step("call-log", { answered: await tags.count() });
}

/** The panel in Polish and Russian, then back in English: the wallboard and menu follow. */
async function languages(page, artifacts) {
  const shown = {};
  for (const [language, wallboard, queues, callsNow] of [
    ["Polski", "Tablica", "Kolejki", "Trwające połączenia"],
    ["Русский", "Табло", "Очереди", "Текущие звонки"],
    ["English", "Wallboard", "Queues", "Calls in progress"],
  ]) {
    await page.getByLabel("Language").click();
    await page.getByTitle(language, { exact: true }).click();
    await page.getByRole("heading", { name: wallboard }).waitFor();
    await page.getByRole("menuitem", { name: queues, exact: true }).waitFor();
    await page.getByTestId("calls-now").getByText(callsNow).waitFor();
    await page.screenshot({ path: path.join(artifacts, `wallboard-${language}.png`) });
    shown[language] = { wallboard, lang: await page.evaluate(() => document.documentElement.lang) };
  }
  step("languages", shown);
}

/** The Voicemail page opens a queue's box with the panel's session (none left here). */
async function voicemail(page, mailbox, artifacts) {
  await page.getByRole("menuitem", { name: "Voicemail", exact: true }).click();
  await page.getByLabel("Box").click();
  await page.locator(`.ant-select-item-option[title^="${mailbox} · "]`).click();
  const box = page.getByTestId(`voicemail-${mailbox}`);
  await box.getByText("No messages.").waitFor();
  await page.screenshot({ path: path.join(artifacts, "voicemail-box.png") });
  step("voicemail-box", { mailbox, messages: 0 });
}

/** Changes one setting on the Settings page and saves. */
async function settings(page, banSeconds, artifacts) {
  await open(page, "Settings");
  const ban = page.getByLabel("Ban (s)");
  await ban.fill(banSeconds);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("Saved").first().waitFor();
  await page.screenshot({ path: path.join(artifacts, "settings-saved.png") });
  step("settings-saved", { banSeconds });
}

/** Feature codes on the Settings page: a park code that does not end in 0 is refused on
 * its field; then the voicemail code becomes *98. */
async function featureCodes(page, artifacts) {
  await open(page, "Settings");
  const codes = page.getByTestId("feature-codes");
  const park = codes.getByLabel("Park (ends in 0; slots end in 1–9)");
  await park.fill("*75");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const error = codes.locator(".ant-form-item-explain-error").filter({ hasText: "must end in 0" });
  await error.waitFor();
  const refused = await error.innerText();
  await park.fill("*70");
  await codes.getByLabel("Voicemail (alone: own box; then a box)").fill("*98");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("Saved").first().waitFor();
  await page.screenshot({ path: path.join(artifacts, "settings-feature-codes.png") });
  step("codes-saved", { refused });
}

/** Has calls between extensions recorded, on the Settings page. */
async function recordingSettings(page, artifacts) {
  await open(page, "Settings");
  const card = page.getByTestId("recording");
  await card.getByLabel("Calls between extensions").click();
  await page.locator('.ant-select-item-option[title="Always"]').click();
  // A rule of its own for an extension the office does not have is refused, named.
  await card.getByRole("button", { name: "Add a rule" }).click();
  const rule = card.getByTestId("recording-rule");
  await rule.getByLabel("Rule for").click();
  await page.locator('.ant-select-item-option[title="Extension"]').click();
  await rule.getByLabel("Number or trunk").fill("999");
  await rule.getByLabel("Recorded").click();
  await page.locator('.ant-select-item-option[title="Never"]').last().click();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const refusal = page.locator(".ant-alert").filter({ hasText: "there is no extension 999" });
  await refusal.waitFor();
  const refused = await refusal.innerText();
  await rule.getByLabel("Number or trunk").fill("103");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("Saved").first().waitFor();
  await page.screenshot({ path: path.join(artifacts, "settings-recording.png") });
  step("recording-on", { refused });
}

/** The call log's player for the recorded call loads it (Chromium decodes the Opus)
 * and seeks into it. */
async function recordingPlayed(page, artifacts) {
  await open(page, "Call log");
  const player = page.getByLabel("Listen to the recording").first();
  await player.waitFor();
  const heard = await player.evaluate(
    (audio) =>
      new Promise((resolve, reject) => {
        audio.addEventListener("error", () => reject(new Error(`audio error ${audio.error?.code}`)));
        audio.addEventListener(
          "loadedmetadata",
          () => {
            const duration = audio.duration;
            audio.addEventListener("seeked", () => resolve({ duration, at: audio.currentTime }), { once: true });
            audio.currentTime = duration / 2;
          },
          { once: true },
        );
        audio.preload = "auto";
        audio.load();
      }),
  );
  await page.screenshot({ path: path.join(artifacts, "call-log-recording.png") });
  step("recording-played", heard);
}

/** The Reports page: the last seven days by day as a chart and a table, then by queue,
 * exported as CSV. */
async function reports(page, artifacts) {
  await open(page, "Reports");
  await page.getByTestId("report-chart").locator(".recharts-bar-rectangle").first().waitFor();
  const table = page.getByTestId("report-table");
  const days = await table.locator(".ant-table-tbody tr.ant-table-row").count();
  const total = await table.locator(".ant-table-summary td").nth(1).innerText();
  await page.screenshot({ path: path.join(artifacts, "reports-by-day.png") });
  await page.getByLabel("Rows").click();
  await page.locator('.ant-select-item-option[title="Queue"]').click();
  // With first-call resolution within a day.
  await page.getByLabel("Repeat within (h)").fill("24");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByRole("cell", { name: "600", exact: true }).waitFor();
  await page.getByRole("columnheader", { name: "First-call resolution %" }).waitFor();
  // The agents' figures for the same days, below.
  const agents = page.getByTestId("agents-report").locator(".ant-table-tbody tr.ant-table-row");
  await agents.first().waitFor();
  const agentRows = await agents.allInnerTexts();
  const downloading = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export CSV" }).click();
  const download = await downloading;
  const csv = fs.readFileSync(await download.path(), "utf8");
  await page.screenshot({ path: path.join(artifacts, "reports-by-queue.png") });
  step("reports", { days, total, csv, agentRows });
}

/** Sets up the SMTP server on the Settings page and an address on 101's voicemail box;
 * the password given is not shown back. */
async function email(page, smtp, password, artifacts) {
  await open(page, "Settings");
  await page.getByLabel("SMTP server (host:port)").fill(smtp);
  await page.getByLabel("Encryption").click();
  await page.locator('.ant-select-item-option[title="None (a server in the office only)"]').click();
  await page.getByLabel("SMTP login").fill("pbx@office.example");
  await page.getByLabel("SMTP password").fill(password);
  await page.getByLabel("Sender").fill("Switchboard <pbx@office.example>");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("Saved").first().waitFor();
  const shownPassword = await page.getByLabel("SMTP password").inputValue();
  await page.screenshot({ path: path.join(artifacts, "settings-email.png") });

  await open(page, "Voicemail boxes");
  await page.getByRole("button", { name: "Add" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Box").fill("101");
  await dialog.getByLabel("E-mail new messages to").fill("anna at the office");
  await saveDialog(page);
  const error = dialog.locator(".ant-form-item-explain-error").filter({ hasText: "must be an e-mail address" });
  await error.waitFor();
  const fieldError = await error.innerText();
  await dialog.getByLabel("E-mail new messages to").fill("anna@office.example");
  await saveDialog(page);
  await dialogClosed(page);
  await page.getByRole("cell", { name: "anna@office.example" }).waitFor();
  await page.screenshot({ path: path.join(artifacts, "voicemail-box-email.png") });
  step("email-set-up", { shownPassword, fieldError });
}

/** A webhook receiver added on the Settings page: a URL without a scheme is refused on
 * its field; then the receiver takes missed calls only, with the secret the panel made. */
async function webhookSetup(page, url, artifacts) {
  await open(page, "Settings");
  const card = page.getByTestId("webhooks");
  await card.getByRole("button", { name: "Add receiver" }).click();
  const endpoint = card.getByTestId("webhook-endpoint");
  await endpoint.getByLabel("Receiver URL").fill(url.replace(/^http:\/\//, ""));
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const error = endpoint.locator(".ant-form-item-explain-error").filter({ hasText: "http://" });
  await error.waitFor();
  const fieldError = await error.innerText();
  await endpoint.getByLabel("Receiver URL").fill(url);
  await endpoint.getByLabel("Events").click();
  await page.locator('.ant-select-item-option[title="call.missed"]').click();
  await page.keyboard.press("Escape");
  const secret = await endpoint.getByLabel("Signing secret").inputValue();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("Saved").first().waitFor();
  // The refusal of the last save is gone from the corrected field.
  const explain = endpoint.locator(".ant-form-item-explain-error");
  await explain.waitFor({ state: "detached", timeout: 5000 }).catch(() => {});
  const stale = await explain.count();
  await card.screenshot({ path: path.join(artifacts, "settings-webhooks.png") });
  step("webhook-set-up", { secret, fieldError, stale });
}

/** The Settings page lists the webhook deliveries and what became of them. */
async function webhookLog(page, event, artifacts) {
  await open(page, "Settings");
  const row = page.getByTestId("recent-webhooks").getByRole("row").filter({ hasText: event });
  await row.getByText(/delivered/).waitFor();
  await page.getByTestId("recent-webhooks").screenshot({ path: path.join(artifacts, "settings-webhook-log.png") });
  step("webhook-shown", { row: await row.innerText() });
}

/** The Settings page lists the e-mail waiting to go, with its last error. */
async function mailLog(page, recipient, artifacts) {
  await open(page, "Settings");
  const row = page.getByTestId("recent-mail").getByRole("row").filter({ hasText: recipient });
  await row.getByText(/waiting, next try/).waitFor();
  await page.getByTestId("recent-mail").screenshot({ path: path.join(artifacts, "settings-recent-mail.png") });
  step("mail-shown", { row: await row.innerText() });
}

/** Adds an outbound route for mobile numbers through the trunk "Provider", shown as
 * `callerId`, and lets each extension have one call out at a time. */
async function outboundRoute(page, callerId) {
  await open(page, "Outbound routes");
  await page.getByRole("button", { name: "Add" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name", { exact: true }).fill("Mobiles");
  await dialog.getByLabel("Numbers").click();
  await page.keyboard.type("0XXXXXXXXX");
  await page.keyboard.press("Enter");
  await dialog.getByLabel("Digits taken off the front").fill("1");
  await dialog.getByLabel("Put before the rest").fill("48");
  await dialog.getByLabel("What the call costs").click();
  await page.locator('.ant-select-item-option[title="Mobile"]').click();
  await dialog.getByLabel("Trunks").click();
  await page.locator('.ant-select-item-option[title="Provider"]').click();
  await dialog.getByLabel("Number shown to the called party").fill(callerId);
  await saveDialog(page);
  await dialogClosed(page);
  await page.getByRole("row", { name: /Mobiles/ }).getByText("Provider").waitFor();
  step("route-saved");
  await open(page, "Settings");
  const card = page.getByTestId("calling-out");
  await card.getByText("Mobile", { exact: true }).waitFor();
  await card.getByLabel("Calls out at once per extension").fill("1");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("Saved").first().waitFor();
  step("calling-out-saved");
}

/** Adds conference room 800 with a PIN, after trying the number of an extension,
 * which is refused on the field. */
async function conferenceRoom(page) {
  await open(page, "Conference rooms");
  await page.getByRole("button", { name: "Add" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Number", { exact: true }).fill("101");
  await dialog.getByLabel("Name", { exact: true }).fill("Team");
  await dialog.getByLabel("PIN", { exact: true }).fill("2468");
  await saveDialog(page);
  const error = dialog.locator(".ant-form-item-explain-error").filter({ hasText: "already an extension" });
  await error.waitFor();
  step("number-refused", { text: await error.innerText() });
  await dialog.getByLabel("Number", { exact: true }).fill("800");
  await saveDialog(page);
  await dialogClosed(page);
  await page.getByRole("row", { name: /800/ }).getByText("2468").waitFor();
  step("room-saved");
}

/** Pastes a VIP list as an office has it in a spreadsheet (words around the numbers,
 * a number twice, a line with none) and saves what the preview shows as kept. */
async function vipPaste(page, artifacts) {
  await open(page, "Number lists");
  await page.getByRole("button", { name: "Add" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name").fill("Customers");
  await dialog
    .getByRole("textbox", { name: "Numbers" })
    .fill("tel. 22 555 01 04\n601234570 (mobile)\n+48 22 555 01 04\ncall Anna");
  const preview = page.getByTestId("numbers-preview");
  await preview.getByText("2 kept, 1 repeated (left out), 1 refused").waitFor();
  await preview.getByText("Same as line 1").waitFor();
  await preview.screenshot({ path: path.join(artifacts, "vip-paste-preview.png") });
  step("previewed", { text: await preview.innerText() });
  await saveDialog(page);
  await dialogClosed(page);
  await page.getByRole("row").filter({ hasText: "Customers" }).getByRole("cell", { name: "2", exact: true }).waitFor();
  step("saved");
}

/** A new office is asked its country on the first page, and answers it there. */
async function country(page, artifacts) {
  const question = page.getByTestId("country-question");
  await question.waitFor();
  await question.screenshot({ path: path.join(artifacts, "country-question.png") });
  await question.getByLabel("Country").click();
  await page.locator('.ant-select-item-option[title="Polska (+48)"]').click();
  // The browser's own time zone is offered first; the office is in Warsaw.
  const zone = question.getByLabel("Time zone");
  const browserZone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const offered = (await question.innerText()).includes(browserZone.replaceAll("_", " ")) ? browserZone : "";
  await zone.click();
  await zone.fill("Warsaw");
  await page.locator('.ant-select-item-option[title="Europe/Warsaw"]').click();
  await question.getByRole("button", { name: "Set the country" }).click();
  await question.waitFor({ state: "detached" });
  step("country-set", { offered });
}

/** The wallboard shows the call out that `caller` was kept from making to `number`. */
async function outAlert(page, caller, number, artifacts) {
  await open(page, "Wallboard");
  const card = page.getByTestId("out-alerts");
  await card.getByText(`${caller} → ${number}`).waitFor();
  await card.screenshot({ path: path.join(artifacts, "wallboard-out-alert.png") });
  step("out-alert-shown", { text: await card.innerText() });
}

/** Adds the office's provider on the Trunks page and waits for its registration, there
 * and on the wallboard; the password given is not shown back when the trunk is opened.
 * With `certificate` (a PEM file) the trunk goes over TLS, trusting it, and requires
 * encryption. */
async function trunk(page, host, password, artifacts, certificate) {
  await open(page, "Trunks");
  await page.getByRole("button", { name: "Add" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name", { exact: true }).fill("Provider");
  await dialog.getByLabel("Provider's host").fill(host);
  if (certificate) {
    await dialog.getByLabel("Signalling").click();
    await page.locator('.ant-select-item-option[title^="TLS (port 5061"]').click();
    await dialog.getByLabel("Encryption").click();
    await page.locator('.ant-select-item-option[title="TLS and SRTP only"]').click();
    await dialog.getByLabel("Trusted certificates (PEM)").fill(fs.readFileSync(certificate, "utf8"));
  }
  await dialog.getByLabel("Register to the provider").click();
  await dialog.getByLabel("Account", { exact: true }).fill("48225550100");
  await dialog.getByLabel("Login (when not the account)").fill("office");
  await dialog.getByLabel("Password").fill(password);
  await saveDialog(page);
  await dialogClosed(page);
  const state = page.getByTestId("trunk-state-Provider");
  await state.filter({ hasText: "Registered" }).waitFor({ timeout: 20000 });
  await page.screenshot({ path: path.join(artifacts, "trunk-registered.png") });
  step("trunk-registered");
  await page.getByRole("row", { name: /Provider/ }).getByRole("button", { name: "Edit" }).click();
  const shown = await page.getByRole("dialog").getByLabel("Password").inputValue();
  step("trunk-password-shown", { shown });
  await cancelDialog(page);
  await open(page, "Wallboard");
  await page.getByTestId("trunks").getByText("Registered").waitFor();
  step("wallboard-shows-trunk");
}

/** The call from `caller` on the wallboard: a number that is none is refused on the
 * field; then the call is put through to `target`, who is shown talking, and hung up. */
async function liveCall(page, caller, target, artifacts) {
  const row = page.getByTestId("calls-now").locator("tr.ant-table-row", { hasText: caller });
  await row.getByText("talking", { exact: true }).waitFor();
  const transferTo = async (number) => {
    await row.getByRole("button", { name: "Transfer" }).click();
    const popover = page.locator(".ant-popover:visible");
    await popover.getByLabel("Number").fill(number);
    await popover.getByRole("button", { name: "Transfer" }).click();
    return popover;
  };
  const popover = await transferTo("12a");
  const refused = popover.locator(".ant-form-item-explain-error");
  await refused.waitFor();
  step("transfer-refused", { number: "12a", message: await refused.innerText() });
  await popover.getByLabel("Number").fill(target);
  await popover.getByRole("button", { name: "Transfer" }).click();
  await row.getByRole("cell", { name: target, exact: true }).waitFor();
  await page.screenshot({ path: path.join(artifacts, "wallboard-call-transferred.png") });
  step("transferred", { caller, target });
  await row.getByRole("button", { name: "Hang up" }).click();
  await page.locator(".ant-popconfirm:visible").getByRole("button", { name: "Hang up" }).click();
  await row.waitFor({ state: "detached" });
  step("hung-up", { caller });
}

/** From the wallboard the admin listens to `caller`'s call through `phone`'s phone,
 * after an extension with no phone is refused on the field. */
async function listenIn(page, caller, phone, artifacts) {
  const row = page.getByTestId("calls-now").locator("tr.ant-table-row", { hasText: caller });
  await row.getByText("talking", { exact: true }).waitFor();
  await row.getByRole("button", { name: "Listen" }).click();
  const popover = page.locator(".ant-popover:visible");
  await popover.getByLabel("Extension").fill("103");
  await popover.getByRole("button", { name: "Listen" }).click();
  const refused = popover.locator(".ant-form-item-explain-error");
  await refused.waitFor();
  step("listen-refused", { message: await refused.innerText() });
  await popover.getByLabel("Extension").fill(phone);
  await popover.getByRole("button", { name: "Listen" }).click();
  const listening = page.getByTestId("calls-now").locator("tr.ant-table-row", { hasText: "supervising" });
  await listening.waitFor();
  await page.screenshot({ path: path.join(artifacts, "wallboard-listening.png") });
  step("listening", { caller, phone });
}

/** "New scenario" with the name of one that exists is refused on the name field. */
async function scenarioNameTaken(page, name, artifacts) {
  await open(page, "Scenarios");
  await page.getByRole("button", { name: "New scenario" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "OK" }).click();
  const refused = dialog.locator(".ant-form-item-explain-error");
  await refused.waitFor();
  await page.screenshot({ path: path.join(artifacts, "scenario-name-taken.png") });
  step("scenario-name-refused", { name, message: await refused.innerText(), url: page.url() });
}

/** The wallboard while the server stops and starts again: no longer "Live" once the
 * connection drops, then the login page, the old session being gone. */
async function serverRestart(page, artifacts) {
  const state = page.getByTestId("live-state");
  await state.getByText("Live").waitFor();
  step("live");
  await state.getByText("Reconnecting…").waitFor({ timeout: 30000 });
  await page.getByTestId("stale").waitFor();
  await page.screenshot({ path: path.join(artifacts, "wallboard-reconnecting.png") });
  step("reconnecting");
  await page.getByLabel("User").waitFor({ timeout: 60000 });
  step("login-again");
}

/** The call log's "Export CSV" takes the filters the form shows, searched or not. */
async function exportFollowsForm(page, number) {
  await open(page, "Call log");
  await page.getByLabel("Number").fill(number);
  const link = page.getByRole("link", { name: "Export CSV" });
  await page.waitForFunction(
    ([n]) => [...document.querySelectorAll("a")].some((a) => a.href.includes(`number=${n}`)),
    [number],
  );
  step("export-link", { href: await link.getAttribute("href") });
}

/** A queue's card while its one agent's phone rings: ringing, not on a call. */
async function agentRinging(page, queue, artifacts) {
  const card = page.getByTestId(`queue-${queue}`);
  const value = (id) => card.getByTestId(id).locator(".ant-statistic-content-value");
  await value("agents-ringing").filter({ hasText: /^1$/ }).waitFor();
  await page.screenshot({ path: path.join(artifacts, "wallboard-agent-ringing.png") });
  step("agents", { ringing: await value("agents-ringing").innerText(), onCall: await value("agents-on-call").innerText() });
}

/** The scenario editor, left for the wallboard, comes back with the browser's Back. */
async function scenarioBack(page, name, artifacts) {
  await open(page, "Scenarios");
  await page.getByRole("row", { name: new RegExp(name) }).getByRole("button", { name: "Open" }).click();
  await page.getByTestId("block-start").waitFor();
  await open(page, "Wallboard");
  await page.goBack();
  await page.getByTestId("block-start").waitFor();
  await page.screenshot({ path: path.join(artifacts, "scenario-after-back.png") });
  step("editor-after-back", { url: page.url() });
}

/** A change to a scenario's start, then the menu: the panel asks before the change is
 * lost; Stay keeps it, Leave drops it; once saved, nothing is asked. */
async function scenarioUnsaved(page, name, other, artifacts) {
  const editor = async () => {
    await open(page, "Scenarios");
    await page.getByRole("row", { name: new RegExp(name) }).getByRole("button", { name: "Open" }).click();
    await page.getByTestId("block-start").waitFor();
  };
  const start = page.locator(".ant-select", { has: page.getByLabel("Start block") });
  await editor();
  await choose(page, start, other);
  await page.getByRole("link", { name: "Wallboard", exact: true }).click();
  const asked = page.getByRole("dialog");
  await asked.waitFor();
  await page.screenshot({ path: path.join(artifacts, "scenario-unsaved.png") });
  step("asked", { text: await asked.innerText() });
  await asked.getByRole("button", { name: "Stay" }).click();
  await asked.waitFor({ state: "detached" });
  step("stayed", { url: page.url(), start: await start.innerText() });
  await page.getByRole("link", { name: "Wallboard", exact: true }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Leave" }).click();
  await page.getByRole("heading", { name: "Wallboard" }).first().waitFor();
  step("left", { url: page.url() });
  await editor();
  await choose(page, start, other);
  await page.getByRole("button", { name: "Save draft" }).click();
  await page.getByText("Draft saved").waitFor();
  await open(page, "Wallboard");
  step("saved-left-freely", { url: page.url() });
}

/** A schedule saved with a wrong closing time, then corrected with a wrong holiday:
 * each save shows the errors of that save only, and an edited field loses its own. */
async function scheduleErrors(page, artifacts) {
  await open(page, "Schedules");
  await page.getByRole("button", { name: "Add" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name", { exact: true }).first().fill("Office");
  await dialog.getByLabel("To").fill("25:00");
  await dialog.getByRole("button", { name: "Save" }).click();
  const errors = dialog.locator(".ant-form-item-explain-error");
  await errors.first().waitFor();
  const first = await errors.allInnerTexts();
  await dialog.getByLabel("To").fill("17:00");
  await errors.first().waitFor({ state: "detached" });
  step("corrected-field-clear", { first });
  await dialog.getByRole("button", { name: "Add holiday" }).click();
  await dialog.getByLabel("Date").fill("2026-13-45");
  await dialog.getByRole("button", { name: "Save" }).click();
  await errors.first().waitFor();
  await page.screenshot({ path: path.join(artifacts, "schedule-errors.png") });
  step("second-save", { errors: await errors.allInnerTexts() });
}

/** The language and log-out controls clear a list page's "Add" button, and at 800 px
 * the menu is still there, labelled. */
async function layout(page, artifacts) {
  await open(page, "Extensions");
  const add = await page.getByRole("button", { name: "Add" }).boundingBox();
  const controls = await page.getByTestId("session-controls").boundingBox();
  const overlap =
    add.x < controls.x + controls.width && controls.x < add.x + add.width &&
    add.y < controls.y + controls.height && controls.y < add.y + add.height;
  step("controls-clear-add", { overlap });
  await page.setViewportSize({ width: 800, height: 900 });
  await page.getByRole("link", { name: "Queues", exact: true }).waitFor();
  await page.screenshot({ path: path.join(artifacts, "panel-800px.png") });
  step("menu-at-800", { visible: await page.getByRole("link", { name: "Queues", exact: true }).isVisible() });
}

/** An agent logs in to their own panel and transfers their call from `caller` to
 * `target`; the call leaves their list. */
async function agentTransfer(page, extension, caller, target, artifacts) {
  await page.goto(base + "/");
  await page.getByLabel("User").fill(extension);
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Log in" }).click();
  const row = page.getByTestId("my-calls").locator("tr.ant-table-row", { hasText: caller });
  await row.waitFor();
  step("agent-sees-call", { extension, caller });
  await row.getByRole("button", { name: "Transfer" }).click();
  const popover = page.locator(".ant-popover:visible");
  await popover.getByLabel("Number").fill(target);
  await popover.getByRole("button", { name: "Transfer" }).click();
  await row.waitFor({ state: "detached", timeout: 20000 });
  await page.screenshot({ path: path.join(artifacts, "agent-transferred.png") });
  step("agent-transferred", { target });
}

/** Publishing a scenario with a block nothing leads to marks that block. */
async function publishProblems(page, name, block, artifacts) {
  await open(page, "Scenarios");
  await page.getByRole("row", { name: new RegExp(name) }).getByRole("button", { name: "Open" }).click();
  await page.getByTestId(`block-${block}`).waitFor();
  await page.getByRole("button", { name: "Publish" }).click();
  const marked = page.getByTestId(`block-${block}`).getByText(/no exit leads here/);
  await marked.waitFor();
  await page.screenshot({ path: path.join(artifacts, "scenario-problem-on-block.png") });
  step("problem-on-block", { block, text: await marked.innerText() });
}

const { browser, page } = await launch();
let failed = false;
try {
  if (phase !== "agent-transfer") await logIn(page);
  if (phase === "configure") {
    const [extensionPassword, artifacts] = rest;
    await configure(page, extensionPassword, artifacts);
  } else if (phase === "wallboard") {
    const [queue, waiting, artifacts] = rest;
    await wallboard(page, queue, waiting, artifacts);
  } else if (phase === "agents") {
    await agents(page, rest[0]);
  } else if (phase === "break") {
    await todaysCalls(page, "600", "Today: 2 calls, 2 answered, 0 not answered");
    await agentBreak(page, rest[0], rest[1]);
    await callLog(page, 2, rest[1]);
  } else if (phase === "languages") {
    await languages(page, rest[0]);
  } else if (phase === "voicemail") {
    await voicemail(page, rest[0], rest[1]);
  } else if (phase === "outbound-route") {
    await outboundRoute(page, rest[0]);
  } else if (phase === "conference") {
    await conferenceRoom(page);
  } else if (phase === "vip-paste") {
    await vipPaste(page, rest[0]);
  } else if (phase === "country") {
    await country(page, rest[0]);
  } else if (phase === "out-alert") {
    await outAlert(page, rest[0], rest[1], rest[2]);
  } else if (phase === "trunk") {
    await trunk(page, rest[0], rest[1], rest[2], rest[3]);
  } else if (phase === "server-restart") {
    await serverRestart(page, rest[0]);
  } else if (phase === "agent-transfer") {
    await agentTransfer(page, rest[0], rest[1], rest[2], rest[3]);
  } else if (phase === "publish-problems") {
    await publishProblems(page, rest[0], rest[1], rest[2]);
  } else if (phase === "layout") {
    await layout(page, rest[0]);
  } else if (phase === "schedule-errors") {
    await scheduleErrors(page, rest[0]);
  } else if (phase === "scenario-back") {
    await scenarioBack(page, rest[0], rest[1]);
  } else if (phase === "scenario-unsaved") {
    await scenarioUnsaved(page, rest[0], rest[1], rest[2]);
  } else if (phase === "agent-ringing") {
    await agentRinging(page, rest[0], rest[1]);
  } else if (phase === "export-follows-form") {
    await exportFollowsForm(page, rest[0]);
  } else if (phase === "scenario-name-taken") {
    await scenarioNameTaken(page, rest[0], rest[1]);
  } else if (phase === "listen-in") {
    await listenIn(page, rest[0], rest[1], rest[2]);
  } else if (phase === "live-call") {
    await liveCall(page, rest[0], rest[1], rest[2]);
  } else if (phase === "reports") {
    await reports(page, rest[0]);
  } else if (phase === "recording-settings") {
    await recordingSettings(page, rest[0]);
  } else if (phase === "recording-played") {
    await recordingPlayed(page, rest[0]);
  } else if (phase === "feature-codes") {
    await featureCodes(page, rest[0]);
  } else if (phase === "settings") {
    await settings(page, rest[0], rest[1]);
  } else if (phase === "webhook-setup") {
    await webhookSetup(page, rest[0], rest[1]);
  } else if (phase === "webhook-log") {
    await webhookLog(page, rest[0], rest[1]);
  } else if (phase === "mail-log") {
    await mailLog(page, rest[0], rest[1]);
  } else if (phase === "email") {
    await email(page, rest[0], rest[1], rest[2]);
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
} catch (e) {
  failed = true;
  step("failed", { message: String(e) });
  const artifacts = rest[rest.length - 1];
  await page.screenshot({ path: path.join(artifacts, `failure-${phase}.png`) }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
