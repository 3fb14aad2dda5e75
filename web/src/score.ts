// Engraving with Verovio (WebAssembly, loaded on first use), and the note
// counts of the engine's music data that the engraving and the MIDI are
// checked against.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

type Toolkit = import("verovio/esm").VerovioToolkit;
let toolkit: Promise<Toolkit> | undefined;

function load(): Promise<Toolkit> {
  toolkit ??= (async () => {
    const [{ default: createModule }, { VerovioToolkit }] = await Promise.all([
      import("verovio/wasm"),
      import("verovio/esm"),
    ]);
    return new VerovioToolkit(await createModule());
  })();
  return toolkit;
}

/** Renders MusicXML into `target` as SVG pages; returns the page count. */
export async function engrave(musicXml: string, target: HTMLElement): Promise<number> {
  const vrv = await load();
  const width = Math.max(600, Math.round(target.clientWidth || 900));
  vrv.setOptions({
    pageWidth: Math.round((width * 100) / 55),
    scale: 55,
    adjustPageHeight: true,
    breaks: "auto",
    header: "none",
    footer: "none",
    svgViewBox: true,
  });
  if (!vrv.loadData(musicXml)) throw new Error(`Verovio could not read the MusicXML: ${vrv.getLog()}`);
  const pages = vrv.getPageCount();
  const svg: string[] = [];
  for (let page = 1; page <= pages; page++) svg.push(vrv.renderToSVG(page));
  target.innerHTML = svg.join("");
  return pages;
}

export interface NoteCounts {
  /** Every pitch of every event: the noteheads on the page. */
  written: number;
  /** Pitches that are struck: tie continuations left out, as in the MIDI. */
  sounded: number;
}

/** Counts the notes of the engine's `music_data` ({measures: [{events}]}). */
export function countNotes(musicData: JsonObject | undefined): NoteCounts {
  const counts = { written: 0, sounded: 0 };
  const measures = (musicData?.measures ?? []) as JsonValue[];
  for (const measure of measures) {
    const events = ((measure as JsonObject).events ?? []) as JsonObject[];
    for (const event of events) {
      const pitches = ((event.pitches ?? []) as JsonValue[]).length;
      counts.written += pitches;
      if (event.tie_stop !== true) counts.sounded += pitches;
    }
  }
  return counts;
}
