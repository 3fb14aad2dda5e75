// The JazzMaster Pro browser client: sign in, generate an item, engrave its
// MusicXML, play its MIDI — every call over gRPC-Web through the gateway.
//
// What it did is also written into data-* attributes (#session, #item,
// #score, #playback), which the headless browser test reads.
import { ContentType } from "./gen/jazz/common/v1/enums_pb.js";
import { ExportFormat } from "./gen/jazz/content/v1/content_pb.js";
import type { GeneratedContent } from "./gen/jazz/content/v1/resources_pb.js";
import { connect, describe, errorReason, requestId, type Clients } from "./client.js";
import { countNotes, engrave } from "./score.js";
import { play, stop } from "./playback.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const params = new URLSearchParams(location.search);
const gatewayInput = $<HTMLInputElement>("gateway");
gatewayInput.value = params.get("gateway") ?? localStorage.getItem("gateway") ?? "http://localhost:50051";

let token: string | undefined = sessionStorage.getItem("session_token") ?? undefined;
let clients: Clients = connect(gatewayInput.value, () => token);
gatewayInput.addEventListener("change", () => {
  localStorage.setItem("gateway", gatewayInput.value);
  clients = connect(gatewayInput.value, () => token);
});

let item: GeneratedContent | undefined;
let midi: { id: string; bytes: Uint8Array } | undefined;

function status(text: string, error = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

function signedIn(userId: string, name: string) {
  $("session").textContent = `Signed in as ${name}.`;
  $("session").dataset.userId = userId;
  $("signin-panel").hidden = true;
  $("generate-panel").hidden = false;
}

async function busy<T>(button: string, work: () => Promise<T>): Promise<T | undefined> {
  const el = $<HTMLButtonElement>(button);
  el.disabled = true;
  try {
    return await work();
  } catch (e) {
    status(describe(e), true);
    return undefined;
  } finally {
    el.disabled = false;
  }
}

$("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  void busy("signin-button", async () => {
    status("Signing in…");
    const response = await clients.auth.signIn({
      email: $<HTMLInputElement>("email").value,
      password: $<HTMLInputElement>("password").value,
    });
    token = response.sessionToken;
    sessionStorage.setItem("session_token", token);
    const user = response.user;
    signedIn(user?.id ?? "", user ? `${user.firstName} ${user.lastName} (${user.email})` : "");
    status("Signed in.");
  });
});

$("signout-button").addEventListener("click", () => {
  void busy("signout-button", async () => {
    await clients.auth.signOut({}).catch(() => undefined);
    token = undefined;
    sessionStorage.removeItem("session_token");
    $("generate-panel").hidden = true;
    $("item").hidden = true;
    $("signin-panel").hidden = false;
    status("Signed out.");
  });
});

$("generate").addEventListener("submit", (event) => {
  event.preventDefault();
  void busy("generate-button", async () => {
    status("Generating…");
    stop();
    const type = ContentType[$<HTMLSelectElement>("type").value as keyof typeof ContentType];
    const response = await clients.content.generateContent({
      parameters: { type, key: $<HTMLInputElement>("key").value, style: $<HTMLInputElement>("style").value },
      requestId: requestId(),
    });
    const content = response.content;
    if (!content) throw new Error("GenerateContent answered no item");
    item = content;
    midi = undefined;
    const counts = countNotes(content.musicData);
    const section = $("item");
    Object.assign(section.dataset, {
      id: content.id,
      writtenNotes: String(counts.written),
      soundedNotes: String(counts.sounded),
    });
    $("title").textContent = content.title;
    $("description").textContent = content.description;
    setPlayback("idle", "");
    section.hidden = false;
    const score = $("score");
    score.dataset.state = "engraving";
    status("Engraving…");
    const pages = await engrave(content.musicXml, score);
    score.dataset.state = "engraved";
    score.dataset.pages = String(pages);
    status(`${content.title}: ${counts.written} notes engraved.`);
  });
});

function setPlayback(state: string, text: string, extra: Record<string, string> = {}) {
  const el = $("playback");
  el.dataset.state = state;
  for (const key of Object.keys(el.dataset)) if (key !== "state") delete el.dataset[key];
  Object.assign(el.dataset, extra);
  el.textContent = text;
  el.classList.toggle("error", state === "error");
}

$("play-button").addEventListener("click", () => {
  const current = item;
  if (!current) return;
  void busy("play-button", async () => {
    try {
      if (midi?.id !== current.id) {
        setPlayback("fetching", "fetching MIDI…");
        // ExportContent as MIDI consumes one "audio_export" unit; the bytes
        // are kept for replays.
        const file = await clients.content.exportContent({
          id: current.id,
          format: ExportFormat.MIDI,
          requestId: requestId(),
        });
        midi = { id: current.id, bytes: file.data };
      }
      const playback = await play(midi.bytes);
      setPlayback("playing", `playing ${playback.notes} notes (${playback.duration.toFixed(1)} s)`, {
        notes: String(playback.notes),
        bytes: String(midi.bytes.length),
        duration: playback.duration.toFixed(3),
        audio: playback.context.state,
      });
      await playback.ended;
      const el = $("playback");
      if (el.dataset.state === "playing") {
        el.dataset.state = "ended";
        el.dataset.audioTime = playback.context.currentTime.toFixed(3);
        el.textContent = `played ${playback.notes} notes`;
      }
    } catch (e) {
      const reason = errorReason(e) ?? "";
      const text = reason === "PLAN_REQUIRED" ? "MIDI export needs a plan with audio export (Pro or Educator)." : describe(e);
      setPlayback("error", text, { reason });
    }
  });
});

$("stop-button").addEventListener("click", () => stop());

// A session kept from before a reload (sessionStorage, this tab only).
if (token) {
  clients.users
    .getMe({})
    .then(({ user }) => user && signedIn(user.id, `${user.firstName} ${user.lastName} (${user.email})`))
    .catch(() => {
      token = undefined;
      sessionStorage.removeItem("session_token");
    });
}
