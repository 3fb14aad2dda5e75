// The browser client in headless Chromium (Debian's, driven by
// playwright-core), against a running gateway:
//
//   node test/browser.mjs GATEWAY_URL PAGE_PORT
//
// Serves dist/ at http://127.0.0.1:PAGE_PORT (that origin must be in the
// gateway's CORS_ALLOWED_ORIGINS), signs in as the seeded demo user,
// generates a B♭ bebop lick, and checks that the score is engraved (Verovio
// SVG noteheads, as many as the item's notes) and that its MIDI plays: on
// the Free plan ExportContent(MIDI) is refused with PLAN_REQUIRED, and
// after a signed Stripe webhook (STRIPE_WEBHOOK_SECRET) moves the user to
// Pro the page fetches the MIDI, parses as many notes as the item sounds
// and starts them on a running AudioContext.
import { createHmac, randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../scripts/serve.mjs";

const [gateway, pagePort] = [process.argv[2], Number(process.argv[3] ?? 8080)];
if (!gateway) throw new Error("usage: node test/browser.mjs GATEWAY_URL PAGE_PORT");
const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET;
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = fileURLToPath(new URL("../../build/", import.meta.url));
const DEMO = { email: "demo@jazzmaster.pro", password: "blue-in-green-1959" };

let passed = 0;
function check(condition, what) {
  if (!condition) throw new Error(`browser: FAILED: ${what}`);
  passed++;
  console.log(`browser: ${what}`);
}

const server = await serve(fileURLToPath(new URL("../dist/", import.meta.url)), pagePort);
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // root in a container: no setuid sandbox. Audio without a user gesture,
  // and without a sound card.
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
});
const problems = [];
let page;
try {
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => message.type() === "error" && problems.push(`console: ${message.text()}`));
  const origin = `http://127.0.0.1:${pagePort}`;
  await page.goto(`${origin}/?gateway=${encodeURIComponent(gateway)}`);

  // Sign in (AuthService.SignIn over gRPC-Web, cross-origin).
  await page.fill("#email", DEMO.email);
  await page.fill("#password", DEMO.password);
  await page.click("#signin-button");
  await settled("#session[data-user-id]", 15_000);
  const userId = await page.getAttribute("#session", "data-user-id");
  check(/^[0-9A-HJKMNP-TV-Z]{26}$/.test(userId ?? ""), `signed in as ${DEMO.email} (user ${userId})`);

  // Generate a B♭ bebop lick and engrave it.
  await page.selectOption("#type", "JAZZ_LICK");
  await page.fill("#key", "Bb");
  await page.fill("#style", "bebop");
  await page.click("#generate-button");
  await settled("#score[data-state=engraved]", 60_000);
  const item = await page.$eval("#item", (el) => ({ ...el.dataset, title: document.getElementById("title")?.textContent }));
  const engraved = await page.$eval("#score", (el) => ({
    pages: el.querySelectorAll(":scope > svg").length,
    noteheads: el.querySelectorAll("g.notehead").length,
    notes: el.querySelectorAll("g.note").length,
    chordSymbols: el.querySelectorAll("g.harm").length,
  }));
  const written = Number(item.writtenNotes);
  check(written > 0 && engraved.pages > 0 && engraved.noteheads === written,
    `"${item.title}" engraved: ${engraved.pages} SVG page(s), ${engraved.noteheads} noteheads ` +
      `(${written} notes in the item's music data), ${engraved.chordSymbols} chord symbols`);

  // Play on the Free plan: the MIDI export is refused, and the page says why.
  await page.click("#play-button");
  await page.waitForSelector("#playback:is([data-state=error], [data-state=playing])", { timeout: 15_000 });
  const refused = await page.$eval("#playback", (el) => ({ ...el.dataset }));
  check(refused.state === "error" && refused.reason === "PLAN_REQUIRED",
    `Free plan: ExportContent(MIDI) refused with ${refused.reason || refused.state}`);

  // Pro, the way Stripe says so: a signed customer.subscription.created.
  check(Boolean(webhookSecret), "STRIPE_WEBHOOK_SECRET is set (the gateway's billing verifies the webhook)");
  const status = await upgradeToPro(userId);
  check(status === 200, `signed Stripe webhook moved the user to Pro (HTTP ${status})`);

  // Play: the MIDI is fetched, parsed and scheduled on a running AudioContext.
  await page.click("#play-button");
  await page.waitForSelector("#playback:is([data-state=error], [data-state=playing], [data-state=ended])", { timeout: 15_000 });
  const playing = await page.$eval("#playback", (el) => ({ ...el.dataset, text: el.textContent }));
  const sounded = Number(item.soundedNotes);
  check(playing.state !== "error" && Number(playing.notes) === sounded && playing.audio === "running",
    `MIDI playing: ${playing.bytes} bytes, ${playing.notes} notes parsed and scheduled ` +
      `(${sounded} sounded in the item), ${playing.duration} s, AudioContext ${playing.audio}` +
      (playing.state === "error" ? ` — ${playing.text}` : ""));
  const duration = Number(playing.duration);
  await page.waitForSelector("#playback[data-state=ended]", { timeout: (duration + 10) * 1000 });
  const ended = await page.$eval("#playback", (el) => ({ ...el.dataset }));
  check(Number(ended.audioTime) >= duration, `playback ended; the audio clock ran ${ended.audioTime} s`);

  check(problems.length === 0, `no page or console errors${problems.length ? `: ${problems.join("; ")}` : ""}`);
  await mkdir(shots, { recursive: true });
  await page.screenshot({ path: `${shots}web-browser-test.png`, fullPage: true });
  console.log(`browser: ${passed} passed, 0 failed`);
} catch (error) {
  if (page) {
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: `${shots}web-browser-test.png`, fullPage: true }).catch(() => undefined);
  }
  for (const problem of problems) console.error(problem);
  console.error(error instanceof Error ? error.message : error);
  console.log(`browser: ${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  await browser.close();
  server.close();
}

/** Waits for `selector`, or fails at once with the page's error message. */
async function settled(selector, timeout) {
  await page.waitForSelector(`${selector}, #status.error`, { timeout });
  const error = await page.$eval("#status", (el) => (el.classList.contains("error") ? el.textContent : ""));
  if (error) throw new Error(`the page says: ${error}`);
}

/** POSTs a Stripe-signed subscription event for `userId` (Pro, active). */
async function upgradeToPro(userId) {
  const now = Math.floor(Date.now() / 1000);
  const tag = randomBytes(6).toString("hex");
  const payload = JSON.stringify({
    id: `evt_web_${tag}`,
    object: "event",
    type: "customer.subscription.created",
    created: now,
    data: {
      object: {
        id: `sub_web_${tag}`,
        object: "subscription",
        customer: `cus_web_${tag}`,
        status: "active",
        metadata: { user_id: userId },
        cancel_at_period_end: false,
        items: {
          data: [
            {
              price: { id: "price_jazzmaster_pro_monthly" },
              current_period_start: now,
              current_period_end: now + 30 * 86400,
            },
          ],
        },
      },
    },
  });
  const signature = createHmac("sha256", webhookSecret).update(`${now}.${payload}`).digest("hex");
  const response = await fetch(new URL("/webhooks/stripe", gateway), {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": `t=${now},v1=${signature}` },
    body: payload,
  });
  await response.text();
  return response.status;
}
