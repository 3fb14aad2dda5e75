//! The voicing forms per chord quality, as spelled intervals above the root,
//! bottom up. Placement in a register and the choice between forms happen
//! in the parent module.

use crate::chord::Quality;
use crate::pitch::{Interval, iv};

pub(super) const fn up8(i: Interval) -> Interval {
    Interval::new(i.steps + 7, i.semitones + 12)
}

pub(super) const fn down8(i: Interval) -> Interval {
    Interval::new(i.steps - 7, i.semitones - 12)
}

/// Third, fifth-slot, seventh and ninth-slot of the rootless forms.
pub(super) fn rootless_set(q: Quality) -> [Interval; 4] {
    use Quality::*;
    match q {
        Maj7 => [iv::MA3, iv::P5, iv::MA7, iv::MA9],
        Six | SixNine => [iv::MA3, iv::P5, iv::MA6, iv::MA9],
        Min7 => [iv::MI3, iv::P5, iv::MI7, iv::MA9],
        Min6 => [iv::MI3, iv::P5, iv::MA6, iv::MA9],
        MinMaj7 => [iv::MI3, iv::P5, iv::MA7, iv::MA9],
        Dom7 | Dom9 | Dom13 => [iv::MA3, iv::MA6, iv::MI7, iv::MA9],
        Dom7Flat9 => [iv::MA3, iv::MA6, iv::MI7, iv::MI9],
        Dom7Sharp9 | Alt => [iv::MA3, iv::MI6, iv::MI7, iv::A9],
        HalfDim => [iv::MI3, iv::D5, iv::MI7, iv::P8],
        Dim7 => [iv::MI3, iv::D5, iv::D7, iv::P8],
        Sus4 => [iv::P4, iv::P5, iv::MI7, iv::MA9],
    }
}

/// The four notes a drop-2 voicing is made from, within one octave.
pub(super) fn drop2_set(q: Quality) -> Vec<Interval> {
    use Quality::*;
    let set: Vec<Interval> = match q {
        Dom9 | Dom7Flat9 | Dom7Sharp9 => {
            let t = q.tones();
            vec![t[1], t[2], t[3], t[4]]
        }
        Dom13 => vec![iv::MA3, iv::MA6, iv::MI7, iv::MA9],
        SixNine => vec![iv::MA3, iv::P5, iv::MA6, iv::MA9],
        _ => q.tones().iter().take(4).copied().collect(),
    };
    let mut simple: Vec<Interval> = set.into_iter().map(Interval::simple).collect();
    simple.sort_by_key(|i| i.semitones);
    simple
}

pub(super) fn quartal_form(q: Quality) -> Vec<Interval> {
    use Quality::*;
    match q {
        Min7 => vec![iv::P1, iv::P4, iv::MI7, up8(iv::MI3), up8(iv::P5)],
        MinMaj7 => vec![iv::P1, iv::P4, iv::MA7, up8(iv::MI3), up8(iv::P5)],
        Min6 => vec![iv::MI3, iv::MA6, iv::MA9, up8(iv::P5)],
        Maj7 => vec![iv::MA7, up8(iv::MA3), up8(iv::MA6), up8(iv::MA9)],
        Six | SixNine => vec![iv::MA3, iv::MA6, iv::MA9, up8(iv::P5)],
        Dom7 | Dom9 | Dom13 => vec![iv::MI7, up8(iv::MA3), up8(iv::MA6), up8(iv::MA9)],
        Dom7Flat9 => vec![iv::MI7, up8(iv::MA3), up8(iv::MA6), up8(iv::MI9)],
        Dom7Sharp9 | Alt => vec![iv::MI7, up8(iv::MA3), up8(iv::MI6), up8(iv::A9)],
        HalfDim => vec![iv::P1, iv::P4, iv::MI7, up8(iv::MI3), up8(iv::D5)],
        Dim7 => vec![iv::P1, iv::MI3, iv::D5, iv::D7],
        Sus4 => vec![iv::P1, iv::P4, iv::MI7, iv::MA9],
    }
}

/// A second stack in fourths from the third (or seventh), so consecutive
/// chords can move by step instead of shifting one shape in parallel.
pub(super) fn quartal_alternate(q: Quality) -> Option<Vec<Interval>> {
    use Quality::*;
    match q {
        Maj7 => Some(vec![iv::MA3, iv::MA6, iv::MA9, up8(iv::MA7)]),
        Dom7 | Dom9 | Dom13 => Some(vec![iv::MA3, iv::MA6, iv::MA9, up8(iv::MI7)]),
        Min7 => Some(vec![iv::MI7, up8(iv::MI3), up8(iv::MA6), up8(iv::MA9)]),
        _ => None,
    }
}

/// The right-hand triad of an upper-structure voicing.
pub(super) fn upper_triad(q: Quality) -> [Interval; 3] {
    use Quality::*;
    let aug1 = Interval::new(0, 1);
    match q {
        Dom7 | Dom9 | Dom13 | Six | SixNine => [iv::MA2, iv::A4, iv::MA6],
        Dom7Sharp9 | Alt => [iv::MI6, iv::P1, iv::MI3],
        Dom7Flat9 => [iv::MA6, aug1, iv::MA3],
        Maj7 | MinMaj7 => [iv::P5, iv::MA7, iv::MA2],
        Min7 | Sus4 => [iv::MI7, iv::MA2, iv::P4],
        Min6 => [iv::MA2, iv::P4, iv::MA6],
        HalfDim => [iv::P4, iv::MI6, iv::P1],
        Dim7 => [iv::MA2, iv::P4, iv::MI6],
    }
}
