//! Items per second per content type (criterion). Each iteration generates
//! one item with a fresh seed, renders nothing else; `render/*` also times
//! MusicXML and MIDI output of a fixed item.

use criterion::{Criterion, Throughput, criterion_main};
use jazz_music::{ContentType, Difficulty, GenerationRequest, generate};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.throughput(Throughput::Elements(1));
    for ct in ContentType::ALL {
        let mut seed = 0u64;
        group.bench_function(ct.as_str(), |b| {
            b.iter(|| {
                seed = seed.wrapping_add(1);
                let mut req = GenerationRequest::new(*ct, Difficulty::Advanced);
                req.key = Some("Bb".into());
                req.seed = Some(seed);
                black_box(generate(&req))
            })
        });
    }
    group.finish();
    let mut req = GenerationRequest::new(ContentType::CompletePiece, Difficulty::Advanced);
    req.seed = Some(1);
    if let Ok(item) = generate(&req) {
        let mut render = c.benchmark_group("render");
        render.throughput(Throughput::Elements(1));
        render.bench_function("musicxml", |b| b.iter(|| black_box(item.score.to_music_xml())));
        render.bench_function("midi", |b| b.iter(|| black_box(item.score.to_midi())));
        render.bench_function("transpose", |b| b.iter(|| black_box(item.score.transpose_to("F#"))));
        render.finish();
    }
}

/// The benchmark group, written out because `criterion_group!` generates
/// an undocumented function.
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
}

criterion_main!(benches);
