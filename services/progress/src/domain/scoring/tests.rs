//! The teacher's cases and property tests over the alignment.

use proptest::prelude::*;

use super::take::{self, RawEvent, TakeLimits};
use super::*;

/// `bars` of 4/4: eighth notes in the right hand walking a deterministic
/// line, and a three-note chord on every bar's first beat.
fn piece(bars: u32) -> Piece {
    let mut notes = Vec::new();
    let line = [60u8, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62];
    for bar in 0..bars {
        for e in 0..8u32 {
            let beat = f64::from(bar * 4) + f64::from(e) * 0.5;
            let pitch = line[((bar * 8 + e) as usize * 3) % line.len()];
            notes.push(ExpectedNote {
                id: format!("m{}.e{e}.p0", bar + 1),
                pitch,
                onset_beats: beat,
                duration_beats: 0.5,
            });
        }
        for (p, pitch) in [48u8, 52, 55].into_iter().enumerate() {
            let id = format!("m{}.e8.p{p}", bar + 1);
            notes.push(ExpectedNote { id, pitch, onset_beats: f64::from(bar * 4), duration_beats: 4.0 });
        }
    }
    Piece { notes, beats_per_bar: 4.0 }
}

/// A played note: (onset ms, pitch, length ms).
type Strike = (f64, u8, f64);

/// The piece played exactly at `bpm` after `count_in` beats.
fn exact(piece: &Piece, bpm: f64, count_in: f64) -> Vec<Strike> {
    let beat = 60_000.0 / bpm;
    piece.notes.iter().map(|n| ((count_in + n.onset_beats) * beat, n.pitch, n.duration_beats * beat * 0.9)).collect()
}

fn events(strikes: &[Strike]) -> Vec<RawEvent> {
    let mut out: Vec<RawEvent> = Vec::new();
    for &(at, pitch, len) in strikes {
        let pitch = i32::from(pitch);
        out.push(RawEvent { time_ms: at.max(0.0), pitch, velocity: 80, on: true });
        out.push(RawEvent { time_ms: (at + len.max(1.0)).max(0.0), pitch, velocity: 0, on: false });
    }
    out.sort_by(|a, b| a.time_ms.total_cmp(&b.time_ms));
    out
}

fn judge(piece: &Piece, strikes: &[Strike], bpm: f64, count_in: i32) -> Judgement {
    let take = take::parse(&events(strikes), bpm, count_in, TakeLimits::DEFAULT);
    let Ok(take) = take else { panic!("take refused: {take:?}") };
    let Ok(j) = score(piece, &take, None) else { panic!("not scored") };
    j
}

fn verdicts(j: &Judgement, verdict: Verdict) -> Vec<String> {
    j.notes.iter().filter(|n| n.verdict == verdict).map(|n| n.id.clone()).collect()
}

#[test]
fn the_items_own_notes_score_100() {
    let p = piece(4);
    let j = judge(&p, &exact(&p, 120.0, 4.0), 120.0, 4);
    assert_eq!(j.summary.score, 100.0);
    assert_eq!(verdicts(&j, Verdict::Correct).len(), p.notes.len());
    assert!(j.extra.is_empty());
    assert!(j.bars.iter().all(|b| b.feel == BarFeel::Steady), "{:?}", j.bars);
    assert_eq!(j.summary.entry_offset_ms.map(f64::round), Some(0.0));
}

#[test]
fn a_generated_item_played_back_scores_100() {
    let mut req =
        jazz_music::GenerationRequest::new(jazz_music::ContentType::CompletePiece, jazz_music::Difficulty::Expert);
    req.seed = Some(5);
    let Ok(item) = jazz_music::generate(&req) else { panic!("generation failed") };
    let notes = jazz_music::expected::expected_notes(&item.score);
    let p = Piece {
        notes: notes
            .iter()
            .map(|n| ExpectedNote {
                id: n.id.clone(),
                pitch: n.pitch,
                onset_beats: n.onset_beats,
                duration_beats: n.duration_beats,
            })
            .collect(),
        beats_per_bar: f64::from(item.score.measure_len()) / f64::from(item.score.divisions),
    };
    let bpm = f64::from(item.score.tempo);
    let j = judge(&p, &exact(&p, bpm, 4.0), bpm, 4);
    assert_eq!(j.summary.score, 100.0, "{:?}", j.summary);
}

#[test]
fn three_wrong_notes_are_wrong_and_nothing_else_is() {
    let p = piece(4);
    let mut s = exact(&p, 120.0, 4.0);
    for i in [3, 14, 25] {
        s[i].1 += 1;
    }
    let j = judge(&p, &s, 120.0, 4);
    let wrong = verdicts(&j, Verdict::WrongPitch);
    let expected: Vec<String> = [3, 14, 25].iter().map(|&i| p.notes[i].id.clone()).collect();
    assert_eq!(wrong, expected);
    assert_eq!(verdicts(&j, Verdict::Correct).len(), p.notes.len() - 3);
    assert!(j.summary.score < 100.0 && j.summary.score > 90.0, "{}", j.summary.score);
}

#[test]
fn a_late_entry_is_late_and_the_rest_in_time() {
    let p = piece(4);
    let s: Vec<Strike> = exact(&p, 120.0, 4.0).into_iter().map(|(t, n, l)| (t + 180.0, n, l)).collect();
    let j = judge(&p, &s, 120.0, 4);
    let late = verdicts(&j, Verdict::Late);
    assert!(late.iter().all(|id| id.starts_with("m1.e0.") || id.starts_with("m1.e8.")), "{late:?}");
    assert_eq!(late.len(), 4, "the first onset (a chord and the melody note): {late:?}");
    assert_eq!(verdicts(&j, Verdict::Correct).len(), p.notes.len() - 4);
    assert!((j.summary.entry_offset_ms.unwrap_or(0.0) - 180.0).abs() < 1.0);
}

#[test]
fn a_rushed_bar_is_rushing_and_the_others_steady() {
    let p = piece(4);
    let beat = 500.0;
    // Bar 2 at 125 % speed: beats 4–8 take 1600 ms instead of 2000.
    let at = |b: f64| {
        let t = if b <= 4.0 {
            b * beat
        } else if b <= 8.0 {
            4.0 * beat + (b - 4.0) * beat / 1.25
        } else {
            4.0 * beat + 4.0 * beat / 1.25 + (b - 8.0) * beat
        };
        t + 4.0 * beat
    };
    let s: Vec<Strike> = p.notes.iter().map(|n| (at(n.onset_beats), n.pitch, 200.0)).collect();
    let j = judge(&p, &s, 120.0, 4);
    let feel: Vec<BarFeel> = j.bars.iter().map(|b| b.feel).collect();
    assert_eq!(feel[1], BarFeel::Rushing, "{:?}", j.bars);
    assert_eq!([feel[0], feel[2], feel[3]], [BarFeel::Steady; 3], "{:?}", j.bars);
    // Its notes come early, and so does the downbeat it rushes into; from
    // there on the pulse is the player's again.
    let off: Vec<String> = j.notes.iter().filter(|n| n.verdict != Verdict::Correct).map(|n| n.id.clone()).collect();
    assert!(off.iter().filter(|id| id.starts_with("m2.")).count() >= 4, "{off:?}");
    let downbeat = |id: &String| id.starts_with("m3.e0.") || id.starts_with("m3.e8.");
    assert!(off.iter().all(|id| id.starts_with("m2.") || downbeat(id)), "{off:?}");
    assert!(j.notes.iter().filter(|n| off.contains(&n.id)).all(|n| n.verdict == Verdict::Early));
    assert!(j.summary.mean_deviation_ms < 0.0, "rushing reads as early on average");
}

#[test]
fn swung_eighths_are_in_time() {
    let p = piece(4);
    let s: Vec<Strike> = exact(&p, 160.0, 4.0)
        .into_iter()
        .zip(&p.notes)
        .map(|((t, n, l), e)| if tempo::is_off_beat(e.onset_beats) { (t + 375.0 / 6.0, n, l) } else { (t, n, l) })
        .collect();
    let j = judge(&p, &s, 160.0, 4);
    assert!((j.summary.swing_ratio - 2.0 / 3.0).abs() < 0.01, "{}", j.summary.swing_ratio);
    assert_eq!(j.summary.score, 100.0, "{:?}", verdicts(&j, Verdict::Late));
}

#[test]
fn a_repeated_bar_is_a_repeat_not_a_mistake() {
    let p = piece(4);
    let beat = 500.0;
    let mut s = Vec::new();
    for n in &p.notes {
        let bar = (n.onset_beats / 4.0).floor();
        let shift = if bar >= 2.0 { 4.0 * beat } else { 0.0 };
        s.push(((4.0 + n.onset_beats) * beat + shift, n.pitch, 200.0));
        if bar == 1.0 {
            s.push(((8.0 + n.onset_beats) * beat, n.pitch, 200.0));
        }
    }
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let j = judge(&p, &s, 120.0, 4);
    assert_eq!(j.summary.repeated, 11, "{:?}", j.extra);
    assert_eq!(j.summary.extra, 0);
    assert_eq!(verdicts(&j, Verdict::Correct).len(), p.notes.len());
    assert_eq!(j.summary.score, 100.0);
}

#[test]
fn a_rolled_chord_is_one_chord() {
    let p = piece(2);
    let mut s = exact(&p, 100.0, 4.0);
    // Bar 2's chord rolled upward over 150 ms.
    for (k, i) in (19..22).enumerate() {
        s[i].0 += 50.0 * k as f64;
    }
    let j = judge(&p, &s, 100.0, 4);
    assert_eq!(verdicts(&j, Verdict::Correct).len(), p.notes.len(), "{:?}", j.notes);
    assert!(j.extra.is_empty());
}

#[test]
fn drift_and_a_pause_are_followed() {
    let p = piece(8);
    // From 120 down to 100 bpm over eight bars, and a 2 s pause before bar 5.
    let mut t = 2000.0;
    let mut times = Vec::new();
    let mut beat: f64 = 0.0;
    while beat < 32.0 {
        times.push((beat, t));
        let bpm = 120.0 - 20.0 * beat / 32.0;
        t += 30_000.0 / bpm;
        beat += 0.5;
        if (beat - 16.0).abs() < 1e-9 {
            t += 2000.0;
        }
    }
    let at = |b: f64| times.iter().find(|(x, _)| (x - b).abs() < 1e-9).map_or(0.0, |p| p.1);
    let s: Vec<Strike> = p.notes.iter().map(|n| (at(n.onset_beats), n.pitch, 200.0)).collect();
    let j = judge(&p, &s, 120.0, 4);
    assert_eq!(
        j.summary.score,
        100.0,
        "{:?}",
        j.notes.iter().filter(|n| n.verdict != Verdict::Correct).collect::<Vec<_>>()
    );
}

#[test]
fn missed_notes_are_missed() {
    let p = piece(2);
    let mut s = exact(&p, 120.0, 4.0);
    s.remove(5);
    s.remove(2);
    let j = judge(&p, &s, 120.0, 4);
    assert_eq!(verdicts(&j, Verdict::Missed), [p.notes[2].id.clone(), p.notes[5].id.clone()]);
}

#[test]
fn random_input_scores_low() {
    let p = piece(4);
    let mut state = 12345_u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let s: Vec<Strike> =
        (0..p.notes.len()).map(|i| (2000.0 + i as f64 * 180.0, 36 + (next() % 60) as u8, 100.0)).collect();
    let j = judge(&p, &s, 120.0, 4);
    assert!(j.summary.score < 25.0, "{:?}", j.summary);
}

#[test]
fn bad_events_are_refused_by_field() {
    let ok = RawEvent { time_ms: 10.0, pitch: 60, velocity: 80, on: true };
    let fields = |events: &[RawEvent], bpm: f64, count_in: i32, limits: TakeLimits| -> Vec<String> {
        take::parse(events, bpm, count_in, limits).err().unwrap_or_default().into_iter().map(|v| v.field).collect()
    };
    let d = TakeLimits::DEFAULT;
    assert_eq!(fields(&[RawEvent { pitch: 128, ..ok }], 120.0, 4, d), ["events[0].pitch"]);
    assert_eq!(fields(&[ok, RawEvent { pitch: -1, ..ok }], 120.0, 4, d), ["events[1].pitch"]);
    assert_eq!(fields(&[RawEvent { time_ms: -1.0, ..ok }], 120.0, 4, d), ["events[0].time_ms"]);
    assert_eq!(fields(&[RawEvent { time_ms: f64::NAN, ..ok }], 120.0, 4, d), ["events[0].time_ms"]);
    assert_eq!(fields(&[ok, RawEvent { time_ms: 5.0, ..ok }], 120.0, 4, d), ["events[1].time_ms"]);
    assert_eq!(fields(&[RawEvent { velocity: 200, ..ok }], 120.0, 4, d), ["events[0].velocity"]);
    assert_eq!(fields(&[ok], 10.0, 4, d), ["tempo_bpm"]);
    assert_eq!(fields(&[ok], 120.0, 17, d), ["count_in_beats"]);
    assert_eq!(fields(&[], 120.0, 4, d), ["events"]);
    assert_eq!(fields(&[ok; 3], 120.0, 4, TakeLimits { max_events: 2, ..d }), ["events"]);
    assert_eq!(fields(&[ok; 3], 120.0, 4, TakeLimits { max_events_per_second: 2, ..d }), ["events"]);
    let long = RawEvent { time_ms: 700_000.0, ..ok };
    assert_eq!(fields(&[ok, long], 120.0, 4, d), ["events[1].time_ms"]);
    assert!(fields(&[ok], 120.0, 4, d).is_empty());
}

#[test]
fn a_passed_deadline_stops_the_alignment() {
    let p = piece(2);
    let Ok(take) = take::parse(&events(&exact(&p, 120.0, 4.0)), 120.0, 4, TakeLimits::DEFAULT) else { panic!() };
    let past = std::time::Instant::now().checked_sub(std::time::Duration::from_secs(1));
    assert_eq!(score(&p, &take, past).err(), Some(ScoringError::DeadlineExceeded));
}

fn arbitrary_piece() -> impl Strategy<Value = Piece> {
    prop::collection::vec((36u8..96, 1u32..4, 1usize..3), 1..40).prop_map(|steps| {
        let mut notes = Vec::new();
        let mut beat = 0.0;
        for (i, (pitch, len, voices)) in steps.into_iter().enumerate() {
            for v in 0..voices {
                let id = format!("n{i}.{v}");
                notes.push(ExpectedNote { id, pitch: pitch + 4 * v as u8, onset_beats: beat, duration_beats: 0.5 });
            }
            beat += f64::from(len) * 0.5;
        }
        Piece { notes, beats_per_bar: 4.0 }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn exact_playback_is_perfect_at_any_tempo(p in arbitrary_piece(), bpm in 40.0f64..300.0, count_in in 0i32..8) {
        let j = judge(&p, &exact(&p, bpm, f64::from(count_in)), bpm, count_in);
        prop_assert_eq!(j.summary.score, 100.0);
        prop_assert!(j.extra.is_empty());
    }

    #[test]
    fn a_steady_player_at_another_tempo_is_followed(p in arbitrary_piece(), ratio in 0.8f64..1.25, shift in 0.0f64..400.0) {
        // Two onsets show no tempo: the second is judged by the stated one.
        let mut onsets: Vec<f64> = p.notes.iter().map(|n| n.onset_beats).collect();
        onsets.dedup();
        prop_assume!(onsets.len() >= 3);
        let s: Vec<Strike> = exact(&p, 120.0 * ratio, 4.0).into_iter().map(|(t, n, l)| (t + shift, n, l)).collect();
        let j = judge(&p, &s, 120.0, 4);
        prop_assert_eq!(j.summary.pitch_accuracy, 100.0);
        let first = p.notes.iter().map(|n| n.onset_beats).fold(f64::INFINITY, f64::min);
        let firsts: Vec<&String> = p.notes.iter().filter(|n| n.onset_beats == first).map(|n| &n.id).collect();
        for n in j.notes.iter().filter(|n| !firsts.contains(&&n.id)) {
            prop_assert_eq!(n.verdict, Verdict::Correct, "{:?}", n);
        }
    }

    #[test]
    fn every_played_note_is_accounted_for_once(
        p in arbitrary_piece(),
        strikes in prop::collection::vec((0.0f64..20_000.0, 30u8..100, 10.0f64..500.0), 1..80),
    ) {
        let j = judge(&p, &strikes, 120.0, 4);
        prop_assert_eq!(j.notes.len(), p.notes.len());
        let used = j.notes.iter().filter(|n| n.played_pitch.is_some()).count();
        prop_assert_eq!(used + j.extra.len(), strikes.len());
        prop_assert!((0.0..=100.0).contains(&j.summary.score));
        let counted = j.summary.correct + j.summary.early + j.summary.late + j.summary.wrong + j.summary.missed;
        prop_assert_eq!(counted as usize, p.notes.len());
    }

    #[test]
    fn the_alignment_is_monotonic(p in arbitrary_piece(), strikes in prop::collection::vec((0.0f64..20_000.0, 30u8..100, 10.0f64..500.0), 1..80)) {
        let Ok(take) = take::parse(&events(&strikes), 120.0, 4, TakeLimits::DEFAULT) else { return Err(TestCaseError::fail("refused")) };
        let expected = align::expected_groups(&p);
        let played = align::played_groups(&take.notes);
        let map = tempo::TempoMap::nominal(&take);
        let Ok(pairs) = align::align(&expected, &played, &take.notes, &map, align::PASS_ONE, None) else { return Err(TestCaseError::fail("deadline")) };
        for w in pairs.windows(2) {
            prop_assert!(w[0].expected < w[1].expected);
            prop_assert!(w[0].played.1 <= w[1].played.0);
        }
        for pair in &pairs {
            prop_assert!(pair.played.0 < pair.played.1 && pair.played.1 - pair.played.0 <= align::MAX_MERGE);
        }
    }
}
