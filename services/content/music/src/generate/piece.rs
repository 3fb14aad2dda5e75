//! COMPLETE_PIECE: a head on two staves — melody with chord symbols over
//! left-hand comping in the style's rhythm. Blues forms are riff blues
//! (A, A over the IV, B to the cadence); 32-bar forms are AABA with
//! eight-bar sections; anything else is built from A A′ B A phrases.

use super::common::{self, Ctx};
use super::phrase::{motif, phrase, start_anchor};

/// Writes the head.
pub fn generate(ctx: &mut Ctx<'_>) {
    let spans = common::changes(ctx);
    common::chord_symbols(ctx, &spans);
    common::comp(ctx, &spans);
    let a = motif(ctx);
    let b = motif(ctx);
    let home = start_anchor(ctx, &spans);
    let bars = ctx.p.bars;
    let name = ctx.p.progression.map_or("", |p| p.name);
    // (motif, vary) per four-bar phrase
    let plan: Vec<(bool, bool)> = if name.ends_with("blues") {
        vec![(true, false), (true, false), (false, true)]
    } else if bars == 32 {
        vec![
            (true, false),
            (true, true),
            (true, false),
            (true, true),
            (false, false),
            (false, true),
            (true, false),
            (true, true),
        ]
    } else {
        vec![(true, false), (true, true), (false, false), (true, true)]
    };
    let mut bar = 0;
    let mut k = 0;
    let mut anchor = home;
    while bar < bars {
        let (use_a, vary) = plan.get(k % plan.len().max(1)).copied().unwrap_or((true, false));
        let last = bar + 4 >= bars;
        let m = if use_a { &a } else { &b };
        let start = if use_a { home } else { anchor };
        anchor = phrase(ctx, &spans, bar, m, vary, last, start);
        bar += 4;
        k += 1;
    }
}
