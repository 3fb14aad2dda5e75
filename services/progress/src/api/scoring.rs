//! ScorePerformance: a take judged note by note and stored as a practice
//! record (through [`records::write`], AddPracticeRecord's own path) with
//! the judgement beside it. Order: validate everything the request alone
//! can tell; replay; check the session; ask content for the expected notes
//! (which also checks visibility); judge off the runtime under a deadline
//! with no connection held; then one transaction. The streamed variant
//! (`scoring_stream`) ends in [`judge_and_store`] too.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jazz_contract::jazz::content::v1::GetExpectedNotesResponse;
use jazz_contract::jazz::progress::v1::{MidiEventKind, ScorePerformanceRequest, ScorePerformanceResponse};
use jazz_platform::Principal;
use jazz_platform::blocking::blocking;
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::ids::parse_id;
use uuid::Uuid;

use super::practice::PracticeApi;
use super::records::{self, NewRecord};
use super::{convert, replay, scoring_convert, scoring_stream};
use crate::domain::fields;
use crate::domain::scoring::{self, ExpectedNote, Piece, RawEvent, ScoringError, Take, TakeLimits};
use crate::error::ProgressError;
use crate::store::models::RecordRow;
use crate::store::scoring::ResultRow;

/// Longest a take may take to judge.
pub const SCORING_DEADLINE: Duration = Duration::from_secs(2);

/// A request checked as far as it can be without content.
pub(super) struct Checked {
    /// The open session.
    pub session_id: Uuid,
    /// The item.
    pub content_id: Uuid,
    /// The take (tempo 0 until the item's is known).
    pub take: Take,
    /// Events received.
    pub event_count: i32,
    /// Count-in beats.
    pub count_in_beats: i32,
    /// The client's idempotency key.
    pub request_id: Option<String>,
    /// When it was played.
    pub practiced_at: DateTime<Utc>,
    /// The call's time.
    pub now: DateTime<Utc>,
}

/// The events as the domain takes them; an unset kind is refused.
pub(super) fn raw_events(
    events: &[jazz_contract::jazz::progress::v1::MidiEvent],
    offset: usize,
) -> Result<Vec<RawEvent>, FieldViolation> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let on = match MidiEventKind::try_from(e.kind) {
                Ok(MidiEventKind::NoteOn) => true,
                Ok(MidiEventKind::NoteOff) => false,
                _ => {
                    let field = format!("events[{}].kind", i + offset);
                    return Err(FieldViolation::new(field, "must be NOTE_ON or NOTE_OFF"));
                }
            };
            Ok(RawEvent { time_ms: e.time_ms, pitch: e.pitch, velocity: e.velocity, on })
        })
        .collect()
}

/// Every rule the request alone can be checked against.
pub(super) fn check(req: &ScorePerformanceRequest) -> Result<Checked, ProgressError> {
    let ScorePerformanceRequest {
        practice_session_id,
        content_id,
        events,
        tempo_bpm,
        count_in_beats,
        request_id,
        practiced_at,
    } = req;
    let mut v = Violations::new();
    let session_id = v.check(parse_id("practice_session_id", practice_session_id));
    let content_id = v.check(parse_id("content_id", content_id));
    let request_id = v.check(jazz_platform::fields::request_id("request_id", request_id)).flatten();
    let now = Utc::now();
    let practiced_at = v.check(fields::event_time("practiced_at", practiced_at.as_ref(), now));
    let raw = v.check(raw_events(events, 0));
    let take = match raw.map(|raw| scoring::take::parse(&raw, *tempo_bpm, *count_in_beats, TakeLimits::DEFAULT)) {
        Some(Ok(take)) => Some(take),
        Some(Err(violations)) => {
            violations.into_iter().for_each(|violation| v.push(violation));
            None
        }
        None => None,
    };
    v.finish().map_err(ProgressError::Invalid)?;
    let (Some(session_id), Some(content_id), Some(take), Some(practiced_at)) =
        (session_id, content_id, take, practiced_at)
    else {
        return Err(ProgressError::Invalid(Vec::new()));
    };
    let event_count = i32::try_from(events.len()).unwrap_or(i32::MAX);
    let count_in_beats = *count_in_beats;
    Ok(Checked { session_id, content_id, take, event_count, count_in_beats, request_id, practiced_at, now })
}

/// `ScorePerformance`.
pub async fn score(
    api: &PracticeApi,
    principal: &Principal,
    me: Uuid,
    req: ScorePerformanceRequest,
) -> Result<ScorePerformanceResponse, ProgressError> {
    let checked = check(&req)?;
    judge_and_store(api, principal, me, &req, checked, None).await
}

/// The expected notes as the domain takes them.
pub(super) fn piece(expected: &GetExpectedNotesResponse) -> Piece {
    let notes = expected
        .notes
        .iter()
        .map(|n| ExpectedNote {
            id: n.note_id.clone(),
            pitch: n.pitch.clamp(0, 127) as u8,
            onset_beats: n.onset_beats,
            duration_beats: n.duration_beats,
        })
        .collect();
    Piece { notes, beats_per_bar: expected.beats_per_bar }
}

/// Judges `take` against `piece` off the runtime, within [`SCORING_DEADLINE`].
pub(super) async fn judge(piece: Piece, take: Take) -> Result<scoring::Judgement, ProgressError> {
    let deadline = Instant::now() + SCORING_DEADLINE;
    match blocking(move || scoring::score(&piece, &take, Some(deadline))).await {
        Ok(Ok(judgement)) => Ok(judgement),
        Ok(Err(ScoringError::DeadlineExceeded)) => Err(ProgressError::ScoringDeadline),
        Ok(Err(ScoringError::TooLarge)) => Err(ProgressError::field("events", "too many notes for this item")),
        Err(panicked) => Err(ProgressError::Corrupt(panicked.to_string())),
    }
}

/// Replay, session, expected notes (unless `fetched` already), judgement,
/// one transaction: the common end of ScorePerformance and its stream
/// (`req` is the whole take, the replay's arguments).
pub(super) async fn judge_and_store(
    api: &PracticeApi,
    principal: &Principal,
    me: Uuid,
    req: &ScorePerformanceRequest,
    checked: Checked,
    fetched: Option<scoring_stream::Fetched>,
) -> Result<ScorePerformanceResponse, ProgressError> {
    let Checked { session_id, content_id, take, event_count, count_in_beats, request_id, practiced_at, now } = checked;
    let replay = replay::of("ScorePerformance", me, request_id, req);
    {
        let mut conn = api.context.pool.get().await?;
        if let Some(first) = replay.first(&mut conn).await? {
            return Ok(first);
        }
        records::check_session(&mut conn, me, session_id, practiced_at).await?;
    }
    // No connection is held while content answers and the take is judged.
    let (item, expected) = match fetched {
        Some(fetched) => fetched,
        None => api.peers.expected_notes(me, content_id).await?,
    };
    if expected.notes.is_empty() {
        return Err(ProgressError::field("content_id", "the item has no notes to play"));
    }
    let take = take.at_tempo(f64::from(expected.tempo_bpm));
    let tempo_bpm = take.tempo_bpm;
    let minutes = ((take.length_ms / 60_000.0).ceil() as i32).clamp(1, 600);
    let judgement = judge(piece(&expected), take).await?;
    let result = scoring_convert::result(&judgement);
    let scored = ResultRow {
        practice_record_id: Uuid::nil(),
        user_id: me,
        score: judgement.summary.score,
        event_count,
        tempo_bpm,
        count_in_beats,
        result: scoring_convert::result_json(&result),
        created_at: now,
    };
    let new = NewRecord {
        session_id,
        content_id,
        minutes,
        repetitions: 1,
        difficulty: None,
        performance: Some(judgement.summary.score),
        notes: None,
        practiced_at,
        now,
    };
    let respond =
        |row: &RecordRow| ScorePerformanceResponse { record: Some(convert::record(row)), result: Some(result) };
    let conn = api.context.pool.get().await?;
    records::write(api, principal, me, conn, &replay, new, &item, Some(scored), respond).await
}
