//! ScorePerformanceStream: the take arrives in batches; after a batch the
//! learner hears which notes are settled (provisional verdicts), and after
//! `finish` the whole take is judged and stored exactly as ScorePerformance
//! does ([`scoring::judge_and_store`], same replay scope: a streamed take
//! and the same take sent unary are one request).
//!
//! The stream holds no database connection, let alone a transaction, while
//! it is open: the session is checked once at `start` (connection returned
//! at once) and the one transaction runs after `finish`. The take's limits
//! are checked on every batch, so a bad event ends the stream at once with
//! its field named; the whole stream must end within [`STREAM_LIMIT`].

use std::collections::HashMap;
use std::time::Duration;

use jazz_contract::jazz::content::v1::GetExpectedNotesResponse;
use jazz_contract::jazz::progress::v1::score_performance_stream_request::Message as In;
use jazz_contract::jazz::progress::v1::score_performance_stream_response::Message as Out;
use jazz_contract::jazz::progress::v1::{
    LiveFeedback, ScorePerformanceRequest, ScorePerformanceStreamRequest, ScorePerformanceStreamResponse,
};
use jazz_platform::Principal;
use jazz_platform::ids::parse_id;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};
use uuid::Uuid;

use super::practice::PracticeApi;
use super::{records, scoring, scoring_convert};
use crate::domain::fields;
use crate::domain::scoring::take::{self as take_rules, TakeLimits};
use crate::error::ProgressError;
use crate::peers::ItemFacts;

/// Longest a stream may stay open: the longest take and twenty seconds.
pub const STREAM_LIMIT: Duration = Duration::from_secs(620);
/// Take time (ms) between two live feedbacks, at most.
const FEEDBACK_EVERY_MS: f64 = 500.0;

/// What the server sends (the trait's boxed stream).
pub type Replies =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<ScorePerformanceStreamResponse, Status>> + Send>>;

/// Serves one stream on its own task.
pub fn start(
    api: PracticeApi,
    principal: Principal,
    me: Uuid,
    inbound: Streaming<ScorePerformanceStreamRequest>,
) -> Replies {
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        let outcome = tokio::time::timeout(STREAM_LIMIT, run(&api, &principal, me, inbound, &tx)).await;
        let failure = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(error)) => Status::from(error),
            Err(_) => Status::deadline_exceeded("the stream must finish within ten minutes and twenty seconds"),
        };
        // The client may be gone: nothing to tell then.
        let _ = tx.send(Err(failure)).await;
    });
    Box::pin(ReceiverStream::new(rx))
}

fn out_of_order(what: &str) -> ProgressError {
    ProgressError::field("message", what.to_owned())
}

/// A client stream that broke: its status's code, as the client's problem
/// (never INTERNAL: nothing of ours failed).
fn inbound_failed(status: Status) -> ProgressError {
    ProgressError::field("message", format!("the stream failed: {}", status.message()))
}

async fn run(
    api: &PracticeApi,
    principal: &Principal,
    me: Uuid,
    mut inbound: Streaming<ScorePerformanceStreamRequest>,
    tx: &mpsc::Sender<Result<ScorePerformanceStreamResponse, Status>>,
) -> Result<(), ProgressError> {
    let first = inbound.message().await.map_err(inbound_failed)?;
    let Some(ScorePerformanceStreamRequest { message: Some(In::Start(mut req)) }) = first else {
        return Err(out_of_order("the first message must be start"));
    };
    let (session_id, content_id) =
        (parse_id("practice_session_id", &req.practice_session_id)?, parse_id("content_id", &req.content_id)?);
    let practiced_at = fields::event_time("practiced_at", req.practiced_at.as_ref(), chrono::Utc::now())?;
    {
        let mut conn = api.context.pool.get().await?;
        records::check_session(&mut conn, me, session_id, practiced_at).await?;
    }
    let fetched = api.peers.expected_notes(me, content_id).await?;
    let mut live = Live::new(&fetched.1);
    live.feedback(&req, tx).await?;
    loop {
        let message = inbound.message().await.map_err(inbound_failed)?;
        match message.and_then(|m| m.message) {
            Some(In::Events(batch)) => {
                if req.events.len() + batch.events.len() > TakeLimits::DEFAULT.max_events {
                    let max = TakeLimits::DEFAULT.max_events;
                    return Err(ProgressError::field("events", format!("must hold at most {max} events")));
                }
                req.events.extend(batch.events);
                live.feedback(&req, tx).await?;
            }
            Some(In::Finish(_)) => break,
            Some(In::Start(_)) => return Err(out_of_order("start may be sent only once")),
            None => return Err(out_of_order("the stream ended without finish")),
        }
    }
    let checked = scoring::check(&req)?;
    let response = scoring::judge_and_store(api, principal, me, &req, checked, Some(fetched)).await?;
    let _ = tx.send(Ok(ScorePerformanceStreamResponse { message: Some(Out::Result(response)) })).await;
    Ok(())
}

/// The live side of a stream: which notes were sent, when feedback was last
/// computed.
struct Live {
    piece: crate::domain::scoring::Piece,
    tempo_bpm: f64,
    onsets: HashMap<String, f64>,
    sent: std::collections::HashSet<String>,
    last_ms: f64,
}

impl Live {
    fn new(expected: &GetExpectedNotesResponse) -> Self {
        let piece = scoring::piece(expected);
        let onsets = piece.notes.iter().map(|n| (n.id.clone(), n.onset_beats)).collect();
        let tempo_bpm = f64::from(expected.tempo_bpm);
        Self { piece, tempo_bpm, onsets, sent: Default::default(), last_ms: f64::NEG_INFINITY }
    }

    /// Checks the events so far (a bad one ends the stream) and, at most
    /// every [`FEEDBACK_EVERY_MS`] of take time, sends the notes a bar
    /// behind the player that were not sent yet.
    async fn feedback(
        &mut self,
        req: &ScorePerformanceRequest,
        tx: &mpsc::Sender<Result<ScorePerformanceStreamResponse, Status>>,
    ) -> Result<(), ProgressError> {
        if req.events.is_empty() {
            return Ok(());
        }
        let raw = scoring::raw_events(&req.events, 0)?;
        let take = take_rules::parse(&raw, req.tempo_bpm, req.count_in_beats, TakeLimits::DEFAULT)
            .map_err(ProgressError::Invalid)?
            .at_tempo(self.tempo_bpm);
        if take.length_ms - self.last_ms < FEEDBACK_EVERY_MS {
            return Ok(());
        }
        self.last_ms = take.length_ms;
        let judgement = scoring::judge(self.piece.clone(), take).await?;
        let reached = judgement
            .notes
            .iter()
            .filter(|n| n.played_ms.is_some())
            .filter_map(|n| self.onsets.get(&n.id))
            .fold(f64::NEG_INFINITY, |a, b| a.max(*b));
        let settled_before = reached - self.piece.beats_per_bar;
        let notes: Vec<_> = judgement
            .notes
            .iter()
            .filter(|n| self.onsets.get(&n.id).is_some_and(|b| *b <= settled_before) && !self.sent.contains(&n.id))
            .map(scoring_convert::note)
            .collect();
        self.sent.extend(notes.iter().map(|n| n.note_id.clone()));
        let feedback = LiveFeedback { notes, events_received: i32::try_from(req.events.len()).unwrap_or(i32::MAX) };
        // A client that stopped reading ends the stream at the next receive.
        let _ = tx.send(Ok(ScorePerformanceStreamResponse { message: Some(Out::Feedback(feedback)) })).await;
        Ok(())
    }
}

/// The facts and notes fetched once at `start`.
pub type Fetched = (ItemFacts, GetExpectedNotesResponse);
