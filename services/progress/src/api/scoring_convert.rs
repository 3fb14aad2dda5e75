//! A take's judgement → `PerformanceResult` (the API's) and the JSON stored
//! in `performance_results.result` (the same fields, snake_case, enums by
//! their proto names).

use jazz_contract::jazz::progress::v1 as pb;
use serde_json::{Value, json};

use crate::domain::scoring::{BarFeel, Judgement, NoteResult, Verdict};

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// One note's result.
pub fn note(n: &NoteResult) -> pb::NoteResult {
    let verdict = match n.verdict {
        Verdict::Correct => pb::NoteVerdict::Correct,
        Verdict::Early => pb::NoteVerdict::Early,
        Verdict::Late => pb::NoteVerdict::Late,
        Verdict::WrongPitch => pb::NoteVerdict::WrongPitch,
        Verdict::Missed => pb::NoteVerdict::Missed,
    };
    pb::NoteResult {
        note_id: n.id.clone(),
        verdict: verdict.into(),
        expected_pitch: i32::from(n.expected_pitch),
        played_pitch: n.played_pitch.map(i32::from),
        played_ms: n.played_ms,
        deviation_ms: n.deviation_ms.map(|d| (d * 10.0).round() / 10.0),
    }
}

/// The API's result.
pub fn result(j: &Judgement) -> pb::PerformanceResult {
    let s = &j.summary;
    pb::PerformanceResult {
        score: s.score,
        pitch_accuracy: s.pitch_accuracy,
        timing_accuracy: s.timing_accuracy,
        mean_deviation_ms: s.mean_deviation_ms,
        deviation_spread_ms: s.deviation_spread_ms,
        correct_count: count(s.correct),
        early_count: count(s.early),
        late_count: count(s.late),
        wrong_count: count(s.wrong),
        missed_count: count(s.missed),
        extra_count: count(s.extra),
        repeated_count: count(s.repeated),
        swing_ratio: (s.swing_ratio * 1000.0).round() / 1000.0,
        entry_offset_ms: s.entry_offset_ms.map(|d| (d * 10.0).round() / 10.0),
        played_tempo_bpm: s.played_tempo_bpm.map(|t| (t * 10.0).round() / 10.0),
        notes: j.notes.iter().map(note).collect(),
        extra_notes: j
            .extra
            .iter()
            .map(|e| pb::ExtraNote { pitch: i32::from(e.pitch), onset_ms: e.onset_ms, repeat: e.repeat })
            .collect(),
        bars: j
            .bars
            .iter()
            .map(|b| pb::BarResult {
                bar: i32::try_from(b.bar).unwrap_or(i32::MAX),
                mean_deviation_ms: b.mean_deviation_ms.map(|d| (d * 10.0).round() / 10.0),
                tempo_ratio: b.tempo_ratio.map(|r| (r * 1000.0).round() / 1000.0),
                feel: match b.feel {
                    BarFeel::Unknown => pb::BarFeel::Unspecified,
                    BarFeel::Steady => pb::BarFeel::Steady,
                    BarFeel::Rushing => pb::BarFeel::Rushing,
                    BarFeel::Dragging => pb::BarFeel::Dragging,
                }
                .into(),
            })
            .collect(),
    }
}

/// The stored JSON of a result.
pub fn result_json(r: &pb::PerformanceResult) -> Value {
    let verdict = |v: i32| pb::NoteVerdict::try_from(v).map_or("NOTE_VERDICT_UNSPECIFIED", |v| v.as_str_name());
    let feel = |f: i32| pb::BarFeel::try_from(f).map_or("BAR_FEEL_UNSPECIFIED", |f| f.as_str_name());
    json!({
        "score": r.score,
        "pitch_accuracy": r.pitch_accuracy,
        "timing_accuracy": r.timing_accuracy,
        "mean_deviation_ms": r.mean_deviation_ms,
        "deviation_spread_ms": r.deviation_spread_ms,
        "correct_count": r.correct_count,
        "early_count": r.early_count,
        "late_count": r.late_count,
        "wrong_count": r.wrong_count,
        "missed_count": r.missed_count,
        "extra_count": r.extra_count,
        "repeated_count": r.repeated_count,
        "swing_ratio": r.swing_ratio,
        "entry_offset_ms": r.entry_offset_ms,
        "played_tempo_bpm": r.played_tempo_bpm,
        "notes": r.notes.iter().map(|n| json!({
            "note_id": n.note_id,
            "verdict": verdict(n.verdict),
            "expected_pitch": n.expected_pitch,
            "played_pitch": n.played_pitch,
            "played_ms": n.played_ms,
            "deviation_ms": n.deviation_ms,
        })).collect::<Vec<_>>(),
        "extra_notes": r.extra_notes.iter().map(|e| json!({
            "pitch": e.pitch, "onset_ms": e.onset_ms, "repeat": e.repeat,
        })).collect::<Vec<_>>(),
        "bars": r.bars.iter().map(|b| json!({
            "bar": b.bar,
            "mean_deviation_ms": b.mean_deviation_ms,
            "tempo_ratio": b.tempo_ratio,
            "feel": feel(b.feel),
        })).collect::<Vec<_>>(),
    })
}
