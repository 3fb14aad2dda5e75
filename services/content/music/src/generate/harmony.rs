//! HARMONY_EXERCISE: a voicing drill through the progression with a
//! guide-tone line on top. The left hand plays the voicing (rootless A/B
//! alternate by themselves through voice leading); the right hand plays the
//! 3rd or 7th of each chord nearest the previous one, so 7ths fall to 3rds
//! by step. From INTERMEDIATE, chords of a bar or longer get both guide tones.

use super::common::{self, Ctx, nearest};
use crate::params::Difficulty;
use crate::pitch::NoteName;

/// Writes the drill.
pub fn generate(ctx: &mut Ctx<'_>) {
    let p = ctx.p;
    let spans = common::changes(ctx);
    common::chord_symbols(ctx, &spans);
    let two_handed = p.voicing.two_handed();
    common::sustain(ctx, &spans);
    if two_handed {
        return; // the right hand is busy with the upper voices
    }
    let (lo, hi) = (p.range.0.midi().max(60), p.range.1.midi().min(79).max(p.range.0.midi() + 12));
    let mlen = p.ts.measure_len();
    let mut prev: Option<i32> = None;
    for s in &spans {
        let guides: Vec<(i32, NoteName)> = (lo..=hi)
            .filter_map(|m| s.chord.guide_tones().into_iter().find(|g| g.pc() == m.rem_euclid(12)).map(|g| (m, g)))
            .collect();
        let first = match prev {
            Some(m) => guides.iter().copied().filter(|g| g.0 != m).min_by_key(|g| ((g.0 - m).abs(), g.0)),
            None => nearest(&guides, (lo + hi) / 2),
        };
        let Some(first) = first.or_else(|| guides.first().copied()) else { continue };
        let split = p.difficulty != Difficulty::Beginner && s.len >= mlen;
        if split {
            let half = s.len / 2;
            ctx.tl.note(1, s.start, half, vec![common::pitch(first.0, first.1)]);
            let other = guides.iter().copied().filter(|g| g.1 != first.1).min_by_key(|g| ((g.0 - first.0).abs(), g.0));
            let second = other.unwrap_or(first);
            ctx.tl.note(1, s.start + half, s.len - half, vec![common::pitch(second.0, second.1)]);
            prev = Some(second.0);
        } else {
            ctx.tl.note(1, s.start, s.len, vec![common::pitch(first.0, first.1)]);
            prev = Some(first.0);
        }
    }
}
