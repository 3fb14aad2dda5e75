// Plays a Standard MIDI File with WebAudio: parsed by @tonejs/midi, each
// note a short two-oscillator voice with a piano-like decay.
import { Midi } from "@tonejs/midi";

export interface Playback {
  /** Notes parsed from the file (every track). */
  notes: number;
  /** Length in seconds. */
  duration: number;
  /** The AudioContext, running once playback started. */
  context: AudioContext;
  /** Resolves when the last note has sounded (or playback was stopped). */
  ended: Promise<void>;
  stop(): void;
}

let current: Playback | undefined;

/** Parses `bytes` and starts playing them at once. */
export async function play(bytes: Uint8Array): Promise<Playback> {
  current?.stop();
  const midi = new Midi(bytes);
  const context = new AudioContext();
  await context.resume();
  const out = context.createGain();
  out.gain.value = 0.25;
  out.connect(context.destination);
  const start = context.currentTime + 0.1;
  let notes = 0;
  for (const track of midi.tracks) {
    for (const note of track.notes) {
      voice(context, out, note.midi, start + note.time, note.duration, note.velocity);
      notes++;
    }
  }
  let finish!: () => void;
  const ended = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, (midi.duration + 0.6) * 1000);
  const playback: Playback = {
    notes,
    duration: midi.duration,
    context,
    ended,
    stop() {
      clearTimeout(timer);
      void context.close();
      finish();
    },
  };
  void ended.then(() => {
    if (current === playback) current = undefined;
  });
  current = playback;
  return playback;
}

export function stop(): void {
  current?.stop();
}

function voice(ctx: AudioContext, out: AudioNode, key: number, at: number, length: number, velocity: number) {
  const frequency = 440 * 2 ** ((key - 69) / 12);
  const gain = ctx.createGain();
  const peak = 0.15 + 0.5 * velocity;
  const release = Math.max(length, 0.08) + 0.25;
  gain.gain.setValueAtTime(0, at);
  gain.gain.linearRampToValueAtTime(peak, at + 0.008);
  gain.gain.exponentialRampToValueAtTime(peak * 0.35, at + Math.min(0.4, length + 0.05));
  gain.gain.exponentialRampToValueAtTime(0.0001, at + release);
  gain.connect(out);
  for (const [type, ratio, level] of [["triangle", 1, 1], ["sine", 2, 0.3]] as const) {
    const osc = ctx.createOscillator();
    osc.type = type;
    osc.frequency.value = frequency * ratio;
    const mix = ctx.createGain();
    mix.gain.value = level;
    osc.connect(mix).connect(gain);
    osc.start(at);
    osc.stop(at + release + 0.05);
  }
}
