//! The six content generators and what they share. Each generator writes
//! notes and chord symbols into a [`Timeline`]; the timeline lays them out
//! in bars. Titles, descriptions and tags are derived in `describe.rs`.

pub(crate) mod common;
mod describe;
mod harmony;
mod lick;
mod melody;
mod phrase;
mod piece;
mod progression;
pub mod scale_pattern;

use crate::defaults::Resolved;
use crate::params::ContentType;
use crate::rng::{Rng, Stream};
use crate::score::Score;
use crate::timeline::{ScoreMeta, Timeline};
use common::Ctx;

pub(crate) use describe::describe;

/// Generates the score for resolved parameters (pure and deterministic).
pub(crate) fn run(p: &Resolved, title: &str) -> Score {
    let mut ctx = Ctx { p, rng: Rng::new(p.seed, Stream::Music), tl: Timeline::new(p.ts, p.bars) };
    match p.content_type {
        ContentType::JazzLick => lick::generate(&mut ctx),
        ContentType::ChordProgression => progression::generate(&mut ctx),
        ContentType::ScalePattern => scale_pattern::generate(&mut ctx),
        ContentType::HarmonyExercise => harmony::generate(&mut ctx),
        ContentType::Melody => melody::generate(&mut ctx),
        ContentType::CompletePiece => piece::generate(&mut ctx),
    }
    let meta = ScoreMeta { title: title.to_string(), key: p.key, tempo: p.tempo, swing: p.style.swings() };
    ctx.tl.into_score(&meta)
}
