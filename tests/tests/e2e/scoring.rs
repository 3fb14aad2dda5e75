//! Practice scoring through the gateway (issue 15): a generated item played
//! back from its own expected notes (ids checked against the item's
//! `music_data`), with a wrong note, judged note by note; the take stored as
//! a practice record that moves the learner's review queue and mastery
//! matrix; `request_id` replay; the bidirectional stream with live
//! feedback; bad takes refused with the field named and nothing stored.

use jazz_contract::jazz::common::v1::KeyMode;
use jazz_contract::jazz::content::v1 as content_pb;
use jazz_contract::jazz::content::v1::content_internal_service_client::ContentInternalServiceClient;
use jazz_contract::jazz::content::v1::content_service_client::ContentServiceClient;
use jazz_contract::jazz::identity::v1 as identity_pb;
use jazz_contract::jazz::identity::v1::user_service_client::UserServiceClient;
use jazz_contract::jazz::progress::v1::practice_service_client::PracticeServiceClient;
use jazz_contract::jazz::progress::v1::progress_service_client::ProgressServiceClient;
use jazz_contract::jazz::progress::v1::score_performance_stream_request::Message as In;
use jazz_contract::jazz::progress::v1::score_performance_stream_response::Message as Out;
use jazz_contract::jazz::progress::v1::*;
use jazz_e2e::{Suite, as_service, bad_fields, bearer, lick_request};
use jazz_platform::ServiceName;
use prost_types::value::Kind;
use tonic::Code;
use tonic::transport::Channel;

const COUNT_IN: i32 = 4;

/// A signed-in learner with an item, its expected notes and an open session.
struct Player {
    token: String,
    channel: Channel,
    item: String,
    notes: content_pb::GetExpectedNotesResponse,
    session: String,
}

impl Player {
    async fn new(suite: &Suite, email: &str) -> anyhow::Result<Self> {
        let token = suite.learner(email).await?;
        let channel = suite.gateway_channel().await?;
        let me = UserServiceClient::new(channel.clone())
            .get_me(bearer(identity_pb::GetMeRequest::default(), &token)?)
            .await?
            .into_inner()
            .user
            .unwrap_or_default()
            .id;
        let item = ContentServiceClient::new(channel.clone())
            .generate_content(bearer(lick_request("Bb", 160, ""), &token)?)
            .await?
            .into_inner()
            .content
            .ok_or_else(|| anyhow::anyhow!("no content"))?;
        // What progress asks content for (the client reads the same notes
        // off the item's music_data; checked below).
        let ask = content_pb::GetExpectedNotesRequest { content_id: item.id.clone(), user_id: me };
        let notes = ContentInternalServiceClient::new(suite.service_channel(ServiceName::Content).await?)
            .get_expected_notes(as_service("progress", ask))
            .await?
            .into_inner();
        assert!(notes.notes.len() >= 4, "{notes:?}");
        check_ids_against_music_data(&notes, item.music_data.as_ref())?;
        let start = StartPracticeSessionRequest::default();
        let session = PracticeServiceClient::new(channel.clone())
            .start_practice_session(bearer(start, &token)?)
            .await?
            .into_inner()
            .session
            .ok_or_else(|| anyhow::anyhow!("no session"))?
            .id;
        Ok(Self { token, channel, item: item.id, notes, session })
    }

    fn practice(&self) -> PracticeServiceClient<Channel> {
        PracticeServiceClient::new(self.channel.clone())
    }

    /// The item played exactly, with `wrong` notes a semitone off.
    fn events(&self, wrong: &[usize]) -> Vec<MidiEvent> {
        let beat_ms = 60_000.0 / f64::from(self.notes.tempo_bpm);
        let mut strikes: Vec<(f64, bool, i32)> = Vec::new();
        for (i, n) in self.notes.notes.iter().enumerate() {
            let pitch = if wrong.contains(&i) { n.pitch + 1 } else { n.pitch };
            let on = (f64::from(COUNT_IN) + n.onset_beats) * beat_ms;
            strikes.push((on, true, pitch));
            strikes.push((on + n.duration_beats * beat_ms * 0.8, false, pitch));
        }
        strikes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        strikes
            .into_iter()
            .map(|(time_ms, on, pitch)| MidiEvent {
                time_ms,
                kind: if on { MidiEventKind::NoteOn } else { MidiEventKind::NoteOff }.into(),
                pitch,
                velocity: if on { 80 } else { 0 },
            })
            .collect()
    }

    fn take(&self, events: Vec<MidiEvent>, request_id: &str) -> ScorePerformanceRequest {
        ScorePerformanceRequest {
            practice_session_id: self.session.clone(),
            content_id: self.item.clone(),
            events,
            tempo_bpm: 0.0,
            count_in_beats: COUNT_IN,
            request_id: request_id.into(),
            practiced_at: None,
        }
    }

    async fn score(&self, req: ScorePerformanceRequest) -> Result<ScorePerformanceResponse, tonic::Status> {
        let request = bearer(req, &self.token).map_err(|e| tonic::Status::internal(e.to_string()))?;
        self.practice().score_performance(request).await.map(tonic::Response::into_inner)
    }

    async fn records(&self) -> anyhow::Result<usize> {
        let get = GetPracticeSessionRequest { id: self.session.clone() };
        let session = self.practice().get_practice_session(bearer(get, &self.token)?).await?.into_inner().session;
        Ok(session.map_or(0, |s| s.records.len()))
    }

    async fn queue(&self) -> anyhow::Result<Vec<ReviewItem>> {
        let message = GetReviewQueueRequest { days_ahead: 30, ..Default::default() };
        let queue =
            ProgressServiceClient::new(self.channel.clone()).get_review_queue(bearer(message, &self.token)?).await?;
        Ok(queue.into_inner().items)
    }
}

/// Each id `m<n>.e<i>.p<j>` names measure n's event i's pitch j in the
/// item's music_data, and that pitch is the note's.
fn check_ids_against_music_data(
    notes: &content_pb::GetExpectedNotesResponse,
    music: Option<&prost_types::Struct>,
) -> anyhow::Result<()> {
    let field = |s: &prost_types::Struct, name: &str| s.fields.get(name).and_then(|v| v.kind.clone());
    let list = |k: Option<Kind>| match k {
        Some(Kind::ListValue(l)) => l.values,
        _ => Vec::new(),
    };
    let strukt = |v: &prost_types::Value| match &v.kind {
        Some(Kind::StructValue(s)) => Some(s.clone()),
        _ => None,
    };
    let number = |k: Option<Kind>| match k {
        Some(Kind::NumberValue(n)) => n,
        _ => f64::NAN,
    };
    let music = music.ok_or_else(|| anyhow::anyhow!("no music_data"))?;
    let measures = list(field(music, "measures"));
    for n in &notes.notes {
        let parts: Vec<usize> = n.note_id.split('.').filter_map(|p| p.get(1..).and_then(|d| d.parse().ok())).collect();
        let [m, e, p] = parts[..] else { anyhow::bail!("bad id {}", n.note_id) };
        let event = measures.get(m - 1).and_then(strukt).map(|s| list(field(&s, "events")));
        let pitch = event.and_then(|events| events.get(e).and_then(strukt)).map(|s| list(field(&s, "pitches")));
        let pitch = pitch.and_then(|pitches| pitches.get(p).and_then(strukt));
        let pitch = pitch.ok_or_else(|| anyhow::anyhow!("{} is not in music_data", n.note_id))?;
        let step = match field(&pitch, "step") {
            Some(Kind::StringValue(s)) => s,
            _ => String::new(),
        };
        let natural = match step.as_str() {
            "C" => 0,
            "D" => 2,
            "E" => 4,
            "F" => 5,
            "G" => 7,
            "A" => 9,
            _ => 11,
        };
        let midi = (number(field(&pitch, "octave")) as i32 + 1) * 12 + natural + number(field(&pitch, "alter")) as i32;
        anyhow::ensure!(midi == n.pitch, "{}: music_data has {midi}, notes say {}", n.note_id, n.pitch);
    }
    Ok(())
}

fn verdicts(result: &PerformanceResult, verdict: NoteVerdict) -> Vec<String> {
    result.notes.iter().filter(|n| n.verdict == verdict as i32).map(|n| n.note_id.clone()).collect()
}

#[tokio::test]
async fn a_played_take_is_judged_note_by_note_and_moves_the_review_queue() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let player = Player::new(&suite, "wynton@example.com").await?;
    assert!(player.queue().await?.iter().all(|i| i.content_id != player.item), "nothing due before playing");

    // One wrong note: that note is WRONG_PITCH, the rest CORRECT.
    let wrong = 2;
    let take = player.take(player.events(&[wrong]), "take-1");
    let answer = player.score(take.clone()).await?;
    let result = answer.result.clone().unwrap_or_default();
    assert_eq!(result.notes.len(), player.notes.notes.len());
    assert_eq!(verdicts(&result, NoteVerdict::WrongPitch), [player.notes.notes[wrong].note_id.clone()]);
    assert_eq!(verdicts(&result, NoteVerdict::Correct).len(), player.notes.notes.len() - 1);
    assert!(result.score > 80.0 && result.score < 100.0, "{}", result.score);
    let record = answer.record.clone().unwrap_or_default();
    assert_eq!(record.performance, Some(result.score));
    assert_eq!(record.content_id, player.item);

    // The take moved the review queue and the mastery matrix.
    let queue = player.queue().await?;
    let card = queue.iter().find(|i| i.content_id == player.item);
    assert_eq!(card.map(|c| (c.last_performance, c.review_count)), Some((Some(result.score), 1)), "{queue:?}");
    let matrix = ProgressServiceClient::new(player.channel.clone())
        .get_mastery_matrix(bearer(GetMasteryMatrixRequest { mode: KeyMode::Major.into() }, &player.token)?)
        .await?
        .into_inner();
    let cell = matrix.cells.iter().find(|c| c.key == "Bb" && c.skill_area == "improvisation");
    assert_eq!(cell.and_then(|c| c.recent_average_score), Some(result.score), "{:?}", matrix.cells);

    // The same request_id answers the first result and stores nothing more.
    let again = player.score(take).await?;
    assert_eq!(again.record.map(|r| r.id), Some(record.id.clone()));
    assert_eq!(player.records().await?, 1);

    // The item's own notes played back score 100.
    let perfect = player.score(player.take(player.events(&[]), "take-2")).await?;
    assert_eq!(perfect.result.map(|r| (r.score, r.wrong_count, r.extra_count)), Some((100.0, 0, 0)));
    Ok(())
}

#[tokio::test]
async fn the_stream_gives_live_feedback_and_stores_like_the_unary_call() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let player = Player::new(&suite, "esperanza@example.com").await?;
    let events = player.events(&[]);
    let start = player.take(Vec::new(), "stream-1");
    let mut messages = vec![ScorePerformanceStreamRequest { message: Some(In::Start(start)) }];
    for chunk in events.chunks(4) {
        let batch = MidiEventBatch { events: chunk.to_vec() };
        messages.push(ScorePerformanceStreamRequest { message: Some(In::Events(batch)) });
    }
    messages.push(ScorePerformanceStreamRequest { message: Some(In::Finish(ScorePerformanceFinish {})) });
    let request = bearer(tokio_stream::iter(messages), &player.token)?;
    let mut replies = player.practice().score_performance_stream(request).await?.into_inner();
    let (mut live, mut last) = (Vec::new(), None);
    while let Some(reply) = replies.message().await? {
        match reply.message {
            Some(Out::Feedback(f)) => live.extend(f.notes),
            Some(Out::Result(r)) => last = Some(r),
            None => anyhow::bail!("empty reply"),
        }
    }
    assert!(!live.is_empty(), "feedback arrives while playing");
    assert!(live.iter().all(|n| n.verdict == NoteVerdict::Correct as i32), "{live:?}");
    let result = last.and_then(|r| r.result).ok_or_else(|| anyhow::anyhow!("no final result"))?;
    assert_eq!(result.score, 100.0);
    assert_eq!(player.records().await?, 1);
    // The whole take sent unary with the same request_id is the same request.
    let unary = player.score(player.take(events, "stream-1")).await?;
    assert_eq!(unary.result.map(|r| r.score), Some(100.0));
    assert_eq!(player.records().await?, 1);

    // Out of order: events before start.
    let bad = vec![ScorePerformanceStreamRequest { message: Some(In::Finish(ScorePerformanceFinish {})) }];
    let status = match player.practice().score_performance_stream(bearer(tokio_stream::iter(bad), &player.token)?).await
    {
        Ok(response) => response.into_inner().message().await.err(),
        Err(status) => Some(status),
    };
    let status = status.ok_or_else(|| anyhow::anyhow!("out-of-order stream accepted"))?;
    assert_eq!((status.code(), bad_fields(&status)), (Code::InvalidArgument, vec!["message".to_owned()]));
    Ok(())
}

#[tokio::test]
async fn bad_takes_are_refused_with_the_field_named_and_nothing_stored() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let player = Player::new(&suite, "chick@example.com").await?;
    let good = player.events(&[]);
    let with = |i: usize, change: &dyn Fn(&mut MidiEvent)| {
        let mut events = good.clone();
        change(&mut events[i]);
        events
    };
    let cases: Vec<(Vec<MidiEvent>, &str)> = vec![
        (with(1, &|e| e.pitch = 128), "events[1].pitch"),
        (with(0, &|e| e.pitch = -3), "events[0].pitch"),
        (with(2, &|e| e.time_ms = -1.0), "events[2].time_ms"),
        (with(3, &|e| e.time_ms = 0.5), "events[3].time_ms"),
        (with(0, &|e| e.time_ms = f64::NAN), "events[0].time_ms"),
        (with(0, &|e| e.kind = 0), "events[0].kind"),
        (with(0, &|e| e.velocity = 300), "events[0].velocity"),
        (vec![good[0]; 10_001], "events"),
        (vec![good[0]; 101], "events"),
        (Vec::new(), "events"),
    ];
    for (events, field) in cases {
        let status = player.score(player.take(events, "")).await.err();
        let status = status.ok_or_else(|| anyhow::anyhow!("{field}: accepted"))?;
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(bad_fields(&status).iter().any(|f| f == field), "{field}: {status:?}");
    }
    let tempo = ScorePerformanceRequest { tempo_bpm: 900.0, ..player.take(good.clone(), "") };
    let status = player.score(tempo).await.err().map(|s| bad_fields(&s));
    assert_eq!(status, Some(vec!["tempo_bpm".to_owned()]));

    // An unknown item and another learner's private one: NOT_FOUND naming content_id.
    let other = Player::new(&suite, "herbie@example.com").await?;
    for item in [jazz_platform::ids::to_api(jazz_platform::ids::new_id()), other.item.clone()] {
        let take = ScorePerformanceRequest { content_id: item, ..player.take(good.clone(), "") };
        let status = player.score(take).await.err().ok_or_else(|| anyhow::anyhow!("accepted"))?;
        assert_eq!((status.code(), bad_fields(&status)), (Code::NotFound, vec!["content_id".to_owned()]));
    }
    assert_eq!(player.records().await?, 0, "nothing stored");
    assert!(player.queue().await?.is_empty());
    Ok(())
}
