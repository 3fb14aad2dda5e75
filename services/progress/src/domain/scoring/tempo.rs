//! Where the player's beat is: the tempo map the alignment follows, the
//! segments a pause or a repeat cuts the take into, the swing ratio, and
//! the local fit each onset is judged against.
//!
//! An anchor is a written onset matched with at least one right pitch.
//! An onset is judged against the pulse around it: the tempo is the median
//! of the bar tempi within two bars (one rushed bar does not move it), the
//! phase the median of where the anchors of the beat and a half before it
//! say it falls (one stray note does not move it). Slow drift, a pause or
//! a repeat move the pulse along with the player; a late note does not.

use super::align::{Group, Pair, PlayedGroup, matched_pitches};
use super::take::{PlayedNote, Take};

/// A pause or repeat: consecutive anchors further apart than written by
/// more than a beat and at least this many ms start a new segment.
pub const JUMP_MS: f64 = 300.0;
/// Swing ratios below this are read as straight.
pub const STRAIGHT_BELOW: f64 = 0.54;
/// The largest swing ratio recognised (a dotted-eighth feel).
pub const MAX_SWING: f64 = 0.75;

/// Beat → ms, through anchors (piecewise linear) or from the stated tempo.
#[derive(Debug, Clone, PartialEq)]
pub struct TempoMap {
    /// (beat, ms) by beat; empty for the nominal map.
    anchors: Vec<(f64, f64)>,
    /// Ms per beat outside the anchors.
    beat_ms: f64,
    /// Where beat 0 falls when there are no anchors.
    origin_ms: f64,
}

impl TempoMap {
    /// The map the count-in promises: bar 1 starts after `count_in` beats.
    pub fn nominal(take: &Take) -> Self {
        let beat_ms = take.beat_ms();
        Self { anchors: Vec::new(), beat_ms, origin_ms: take.count_in_beats * beat_ms }
    }

    /// The map through the anchors of `pairs`.
    pub fn fit(expected: &[Group], played: &[PlayedGroup], notes: &[PlayedNote], pairs: &[Pair], take: &Take) -> Self {
        let anchors: Vec<(f64, f64)> =
            anchor_points(expected, played, notes, pairs).into_iter().map(|(g, ms)| (expected[g].beat, ms)).collect();
        let nominal = Self::nominal(take);
        let beat_ms = match (anchors.first(), anchors.last()) {
            (Some(a), Some(b)) if b.0 - a.0 >= 1.0 && b.1 > a.1 => (b.1 - a.1) / (b.0 - a.0),
            _ => nominal.beat_ms,
        };
        Self { anchors, beat_ms: clamp_beat(beat_ms, take), origin_ms: nominal.origin_ms }
    }

    /// Where `beat` is expected, ms.
    pub fn ms_at(&self, beat: f64) -> f64 {
        let a = &self.anchors;
        match a.len() {
            0 => self.origin_ms + beat * self.beat_ms,
            _ => {
                let i = a.partition_point(|p| p.0 <= beat);
                if i == 0 {
                    a[0].1 + (beat - a[0].0) * self.beat_ms
                } else if i == a.len() {
                    a[i - 1].1 + (beat - a[i - 1].0) * self.beat_ms
                } else {
                    let (p, q) = (a[i - 1], a[i]);
                    p.1 + (beat - p.0) * (q.1 - p.1) / (q.0 - p.0).max(1e-9)
                }
            }
        }
    }

    /// Ms per beat around `beat` (the scale of the alignment's time term).
    pub fn beat_ms_at(&self, beat: f64) -> f64 {
        let a = &self.anchors;
        let i = a.partition_point(|p| p.0 <= beat);
        if i == 0 || i == a.len() {
            return self.beat_ms;
        }
        let (p, q) = (a[i - 1], a[i]);
        let local = (q.1 - p.1) / (q.0 - p.0).max(1e-9);
        local.clamp(self.beat_ms / 4.0, self.beat_ms * 4.0)
    }
}

fn clamp_beat(beat_ms: f64, take: &Take) -> f64 {
    let stated = take.beat_ms();
    beat_ms.clamp(stated / 4.0, stated * 4.0)
}

/// (written group, played ms) of every pair with at least one right pitch.
pub fn anchor_points(
    expected: &[Group],
    played: &[PlayedGroup],
    notes: &[PlayedNote],
    pairs: &[Pair],
) -> Vec<(usize, f64)> {
    pairs
        .iter()
        .filter(|p| {
            let (first, end) = (played[p.played.0].first, played[p.played.1 - 1].end);
            matched_pitches(&expected[p.expected].pitches, notes, first, end) > 0
        })
        .map(|p| (p.expected, played[p.played.0].onset_ms))
        .collect()
}

/// An anchor ready for judging.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    /// Beat, swing-adjusted.
    pub beat: f64,
    /// Played onset, ms.
    pub ms: f64,
    /// Bar, from 1.
    pub bar: u32,
    /// Segment (a pause or repeat starts the next).
    pub segment: usize,
}

/// Segment number of each (beat, ms) point in order: a new one where the
/// played gap differs from the written one by more than a beat and
/// [`JUMP_MS`]. The beat length is the median of consecutive ratios.
pub fn segments(points: &[(f64, f64)], stated_beat_ms: f64) -> Vec<usize> {
    let mut ratios: Vec<f64> =
        points.windows(2).filter(|w| w[1].0 - w[0].0 > 1e-9).map(|w| (w[1].1 - w[0].1) / (w[1].0 - w[0].0)).collect();
    ratios.sort_by(f64::total_cmp);
    let beat_ms = ratios.get(ratios.len() / 2).copied().unwrap_or(stated_beat_ms).max(1.0);
    let mut out = Vec::with_capacity(points.len());
    let mut segment = 0;
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            let q = points[i - 1];
            let excess = (p.1 - q.1) - (p.0 - q.0) * beat_ms;
            if excess.abs() > beat_ms.max(JUMP_MS) {
                segment += 1;
            }
        }
        out.push(segment);
    }
    out
}

/// The swing ratio: where off-beat eighths fall within their beat (0.5
/// straight, ⅔ triplet swing), the median over off-beat anchors whose two
/// surrounding beats are anchors of the same segment.
pub fn swing_ratio(points: &[(f64, f64)], segment: &[usize]) -> f64 {
    let at = |beat: f64, seg: usize| {
        points.iter().zip(segment).find(|(p, s)| (p.0 - beat).abs() < 1e-6 && **s == seg).map(|(p, _)| p.1)
    };
    let mut ratios: Vec<f64> = Vec::new();
    for (p, &seg) in points.iter().zip(segment) {
        if !is_off_beat(p.0) {
            continue;
        }
        if let (Some(before), Some(after)) = (at(p.0.floor(), seg), at(p.0.floor() + 1.0, seg))
            && after > before
        {
            ratios.push((p.1 - before) / (after - before));
        }
    }
    ratios.sort_by(f64::total_cmp);
    match ratios.get(ratios.len() / 2) {
        Some(&r) if r >= STRAIGHT_BELOW => r.min(MAX_SWING),
        _ => 0.5,
    }
}

/// Whether a written beat is an off-beat eighth (half-way through a beat).
pub fn is_off_beat(beat: f64) -> bool {
    (beat - beat.floor() - 0.5).abs() < 1e-6
}

/// A written beat moved to where the swing puts it.
pub fn swung(beat: f64, ratio: f64) -> f64 {
    if is_off_beat(beat) { beat.floor() + ratio } else { beat }
}

/// Least-squares line (intercept, ms per beat) through `points`; `None`
/// with fewer than two distinct beats.
pub fn line(points: impl Iterator<Item = (f64, f64)> + Clone) -> Option<(f64, f64)> {
    let n = points.clone().count() as f64;
    if n < 2.0 {
        return None;
    }
    let mean_b = points.clone().map(|p| p.0).sum::<f64>() / n;
    let mean_t = points.clone().map(|p| p.1).sum::<f64>() / n;
    let sbb: f64 = points.clone().map(|p| (p.0 - mean_b).powi(2)).sum();
    if sbb < 1e-9 {
        return None;
    }
    let sbt: f64 = points.map(|p| (p.0 - mean_b) * (p.1 - mean_t)).sum();
    let slope = sbt / sbb;
    Some((mean_t - slope * mean_b, slope))
}

/// Beats before an onset whose anchors set its expected phase.
pub const PHASE_BEATS: f64 = 1.5;
/// Bars on each side whose tempi make an onset's reference tempo.
pub const NEIGHBOUR_BARS: u32 = 2;

/// The tempo (ms per beat) of each bar that shows one: a least-squares
/// line through its anchors of one segment spanning at least a beat.
pub fn bar_slopes(anchors: &[Anchor]) -> Vec<(u32, usize, f64)> {
    let mut out: Vec<(u32, usize, f64)> = Vec::new();
    let mut i = 0;
    while i < anchors.len() {
        let (bar, segment) = (anchors[i].bar, anchors[i].segment);
        let mut j = i;
        while j < anchors.len() && anchors[j].bar == bar && anchors[j].segment == segment {
            j += 1;
        }
        let own = &anchors[i..j];
        let span = own.last().map_or(0.0, |l| l.beat) - own.first().map_or(0.0, |f| f.beat);
        if span >= 1.0
            && let Some((_, slope)) = line(own.iter().map(|a| (a.beat, a.ms)))
            && slope > 0.0
        {
            out.push((bar, segment, slope));
        }
        i = j;
    }
    out
}

/// The median tempo of the bars within two of `bar` in `segment`, itself
/// included (so with one neighbour on each side a lone rushed bar is
/// still outvoted), `None` when none shows one.
pub fn reference_slope(slopes: &[(u32, usize, f64)], bar: u32, segment: usize) -> Option<f64> {
    let mut near: Vec<f64> = slopes
        .iter()
        .filter(|(b, s, _)| *s == segment && b.abs_diff(bar) <= NEIGHBOUR_BARS)
        .map(|(_, _, slope)| *slope)
        .collect();
    near.sort_by(f64::total_cmp);
    match near.len() {
        0 => None,
        n if n % 2 == 1 => Some(near[n / 2]),
        n => Some((near[n / 2 - 1] + near[n / 2]) / 2.0),
    }
}

/// Where an onset at `beat` of `segment` is expected, ms: each anchor of
/// the [`PHASE_BEATS`] before it (else after it, else any of the segment)
/// carried to `beat` at `slope` ms per beat, and the median taken, so one
/// stray note does not move its neighbours' expectations.
pub fn expected_ms(anchors: &[Anchor], beat: f64, segment: usize, slope: f64) -> Option<f64> {
    let same = || anchors.iter().filter(|a| a.segment == segment && (a.beat - beat).abs() > 1e-6);
    let mut guesses: Vec<f64> = same()
        .filter(|a| a.beat < beat && a.beat >= beat - PHASE_BEATS)
        .map(|a| a.ms + (beat - a.beat) * slope)
        .collect();
    if guesses.is_empty() {
        guesses = same()
            .filter(|a| a.beat > beat && a.beat <= beat + PHASE_BEATS)
            .map(|a| a.ms + (beat - a.beat) * slope)
            .collect();
    }
    if guesses.is_empty() {
        let nearest = same().min_by(|a, b| (a.beat - beat).abs().total_cmp(&(b.beat - beat).abs()));
        guesses.extend(nearest.map(|a| a.ms + (beat - a.beat) * slope));
    }
    guesses.sort_by(f64::total_cmp);
    match guesses.len() {
        0 => None,
        n if n % 2 == 1 => Some(guesses[n / 2]),
        n => Some((guesses[n / 2 - 1] + guesses[n / 2]) / 2.0),
    }
}
