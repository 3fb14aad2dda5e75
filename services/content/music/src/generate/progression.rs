//! CHORD_PROGRESSION: the progression with a chord symbol and one voiced
//! chord per change, voice-led; left-hand voicings on the bass staff,
//! two-hand voicings split at middle C.

use super::common::{self, Ctx};

/// Writes the progression.
pub fn generate(ctx: &mut Ctx<'_>) {
    let spans = common::changes(ctx);
    common::chord_symbols(ctx, &spans);
    common::sustain(ctx, &spans);
}
