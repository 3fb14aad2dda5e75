//! Scoring one 32-bar take (criterion): a generated 32-bar melody with its
//! left hand, played back with human timing (±20 ms jitter), seven wrong
//! notes, a missed note and an extra one, judged whole — both alignment
//! passes, the tempo map, swing, verdicts. Issue 15 asks for ≤ 5 ms.

use criterion::{Criterion, Throughput, criterion_main};
use jazz_music::{ContentType, Difficulty, GenerationRequest, generate};
use progress::domain::scoring::take::{self, RawEvent, TakeLimits};
use progress::domain::scoring::{ExpectedNote, Piece, score};
use std::hint::black_box;

/// A 32-bar piece and a take of it.
fn fixture() -> Option<(Piece, Vec<RawEvent>, f64)> {
    let mut req = GenerationRequest::new(ContentType::Melody, Difficulty::Advanced);
    req.bars = Some(32);
    req.seed = Some(32);
    let item = generate(&req).ok()?;
    let notes: Vec<ExpectedNote> = jazz_music::expected::expected_notes(&item.score)
        .into_iter()
        .map(|n| ExpectedNote {
            id: n.id,
            pitch: n.pitch,
            onset_beats: n.onset_beats,
            duration_beats: n.duration_beats,
        })
        .collect();
    let beats_per_bar = f64::from(item.score.measure_len()) / f64::from(item.score.divisions);
    let bpm = f64::from(item.score.tempo);
    let beat_ms = 60_000.0 / bpm;
    let mut events = Vec::new();
    let mut jitter = 7_u64;
    for (i, n) in notes.iter().enumerate() {
        if i == 40 {
            continue;
        }
        jitter = jitter.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let offset = ((jitter >> 33) % 41) as f64 - 20.0;
        let on = (4.0 + n.onset_beats) * beat_ms + offset;
        let pitch = i32::from(n.pitch) + i32::from(i % 50 == 7);
        events.push(RawEvent { time_ms: on.max(0.0), pitch, velocity: 80, on: true });
        events.push(RawEvent {
            time_ms: on.max(0.0) + n.duration_beats * beat_ms * 0.8,
            pitch,
            velocity: 0,
            on: false,
        });
        if i == 90 {
            events.push(RawEvent { time_ms: on + 30.0, pitch: 100, velocity: 60, on: true });
        }
    }
    events.sort_by(|a, b| a.time_ms.total_cmp(&b.time_ms));
    Some((Piece { notes, beats_per_bar }, events, bpm))
}

fn bench(c: &mut Criterion) {
    let Some((piece, events, bpm)) = fixture() else { return };
    let Ok(take) = take::parse(&events, bpm, 4, TakeLimits::DEFAULT) else { return };
    let mut group = c.benchmark_group("scoring");
    group.throughput(Throughput::Elements(1));
    let bars = piece.bar_of(piece.notes.iter().map(|n| n.onset_beats).fold(0.0, f64::max));
    let name = format!("take_{bars}_bars_{}_notes", piece.notes.len());
    group.bench_function(name, |b| b.iter(|| black_box(score(&piece, &take, None))));
    group.bench_function("parse_take", |b| b.iter(|| black_box(take::parse(&events, bpm, 4, TakeLimits::DEFAULT))));
    group.finish();
}

/// The benchmark group, written out because `criterion_group!` generates
/// an undocumented function.
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
}

criterion_main!(benches);
