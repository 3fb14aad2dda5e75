//! MELODY: motif-based melody over the changes, in four-bar phrases
//! labelled A A′ B A (A′ displaces the motif rhythmically), ending on a held
//! stable tone, with left-hand comping.

use super::common::{self, Ctx};
use super::phrase::{motif, phrase, start_anchor};

/// Writes the melody, chord symbols and comping.
pub fn generate(ctx: &mut Ctx<'_>) {
    let spans = common::changes(ctx);
    common::chord_symbols(ctx, &spans);
    common::comp(ctx, &spans);
    let a = motif(ctx);
    let b = motif(ctx);
    let mut anchor = start_anchor(ctx, &spans);
    let home = anchor;
    let bars = ctx.p.bars;
    let mut bar = 0;
    let mut k = 0;
    while bar < bars {
        let last = bar + 4 >= bars;
        let (m, vary) = match k % 4 {
            0 => (&a, false),
            1 => (&a, true),
            2 => (&b, false),
            _ => (&a, true),
        };
        let start = if k % 4 == 2 { anchor } else { home };
        anchor = phrase(ctx, &spans, bar, m, vary, last, start);
        bar += 4;
        k += 1;
    }
}
