//! ExportContent (MusicXML free, MIDI one "audio_export" unit) and
//! TransposeContent (one new private item per key, "transpose" units all or
//! nothing; transposition and MusicXML writing run in `spawn_blocking`, as
//! twelve keys take a few milliseconds in debug builds).

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::content::v1::*;
use jazz_music::Score;
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::Violations;
use jazz_platform::ids::{new_id, parse_id, to_api};
use serde_json::json;
use uuid::Uuid;

use super::content::ContentApi;
use super::{library, replay};
use crate::billing::{self, feature};
use crate::domain::{fields, params};
use crate::error::ContentError;
use crate::store::content;
use crate::store::models::{ContentRow, Listed, NewContent};
use jazz_platform::blocking::blocking;

/// The visible item and its score.
async fn item_and_score(
    api: &ContentApi,
    me: Uuid,
    id: Uuid,
) -> Result<(ContentRow, Score, Option<String>), ContentError> {
    let mut conn = api.context.pool.get().await?;
    let item = content::visible(&mut conn, me, id).await?.ok_or(ContentError::NotFound)?;
    let music = content::music_of(&mut conn, id).await?.ok_or(ContentError::NotFound)?;
    let score: Score = serde_json::from_value(music.music_data).map_err(|e| ContentError::Corrupt(e.to_string()))?;
    Ok((item.row, score, music.music_xml))
}

/// A file name from the title: ASCII letters, digits and `-` only.
fn file_name(title: &str, extension: &str) -> String {
    let mut out = String::new();
    for c in title.replace('♭', "b").replace('♯', "#").chars() {
        let c = if c.is_ascii_alphanumeric() {
            c
        } else if c == '#' {
            's'
        } else {
            '-'
        };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    let stem: String = out.trim_end_matches('-').chars().take(100).collect();
    format!("{}.{extension}", if stem.is_empty() { "content" } else { &stem })
}

/// `ExportContent`.
pub async fn export(
    api: &ContentApi,
    _principal: &Principal,
    me: Uuid,
    req: ExportContentRequest,
) -> Result<ExportContentResponse, ContentError> {
    let ExportContentRequest { id, format, request_id } = req;
    let mut v = Violations::new();
    let id = v.check(parse_id("id", &id));
    let request_id = v.check(jazz_platform::fields::request_id("request_id", &request_id)).flatten();
    let format = match ExportFormat::try_from(format) {
        Ok(ExportFormat::Musicxml) => Some(false),
        Ok(ExportFormat::Midi) => Some(true),
        Ok(ExportFormat::Unspecified) | Err(_) => {
            v.push(jazz_platform::error::FieldViolation::new("format", "must be MUSICXML or MIDI"));
            None
        }
    };
    v.finish().map_err(ContentError::Invalid)?;
    let (Some(id), Some(midi)) = (id, format) else { return Err(ContentError::Invalid(Vec::new())) };
    let (row, score, xml) = item_and_score(api, me, id).await?;
    if midi {
        let key = billing::grant_key("export", me, request_id.as_deref());
        api.quota.consume(me, feature::AUDIO_EXPORT, 1, &key).await?;
        return Ok(ExportContentResponse {
            data: score.to_midi(),
            content_type: "audio/midi".into(),
            file_name: file_name(&row.title, "mid"),
        });
    }
    let data = xml.unwrap_or_else(|| score.to_music_xml()).into_bytes();
    Ok(ExportContentResponse {
        data,
        content_type: "application/vnd.recordare.musicxml+xml".into(),
        file_name: file_name(&row.title, "musicxml"),
    })
}

const MAJOR_KEYS: [&str; 12] = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
const MINOR_KEYS: [&str; 12] = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"];

/// The target tonics, in request order, without the source's pitch class
/// and duplicates.
fn targets(source: &str, minor: bool, target_keys: &[String], all_keys: bool) -> Result<Vec<String>, ContentError> {
    let asked: Vec<String> = match (all_keys, target_keys.is_empty()) {
        (true, false) => return Err(ContentError::field("target_keys", "must be empty when all_keys is set")),
        (false, true) => return Err(ContentError::field("target_keys", "name 1–11 keys, or set all_keys")),
        (true, true) => (if minor { MINOR_KEYS } else { MAJOR_KEYS }).iter().map(|k| (*k).to_owned()).collect(),
        (false, false) if target_keys.len() > 11 => {
            return Err(ContentError::field("target_keys", "must name at most 11 keys"));
        }
        (false, false) => {
            let mut v = Violations::new();
            let keys: Vec<String> = target_keys
                .iter()
                .enumerate()
                .filter_map(|(i, k)| {
                    v.check(params::tonic(&format!("target_keys[{i}]"), k).and_then(|t| {
                        t.ok_or_else(|| {
                            jazz_platform::error::FieldViolation::new(format!("target_keys[{i}]"), "must not be empty")
                        })
                    }))
                })
                .collect();
            v.finish().map_err(ContentError::Invalid)?;
            keys
        }
    };
    let mut seen = fields::key_spellings(source);
    let mut out = Vec::new();
    for key in asked {
        if !seen.contains(&key) {
            seen.extend(fields::key_spellings(&key));
            out.push(key);
        }
    }
    Ok(out)
}

/// `TransposeContent`.
pub async fn transpose(
    api: &ContentApi,
    principal: &Principal,
    me: Uuid,
    req: TransposeContentRequest,
) -> Result<TransposeContentResponse, ContentError> {
    let arguments = req.clone();
    let TransposeContentRequest { id, target_keys, all_keys, request_id, view } = req;
    let id = parse_id("id", &id)?;
    let request_id = jazz_platform::fields::request_id("request_id", &request_id)?;
    let replay = replay::of("TransposeContent", me, request_id.clone(), &arguments);
    if request_id.is_some() {
        let mut conn = api.context.pool.get().await?;
        if let Some(first) = replay.first(&mut conn).await? {
            return Ok(first);
        }
    }
    let (row, score, _) = item_and_score(api, me, id).await?;
    let source_key = row.key.clone().unwrap_or_default();
    let minor = row.parameters.get("mode").and_then(serde_json::Value::as_str) == Some("KEY_MODE_MINOR");
    let keys = targets(&source_key, minor, &target_keys, all_keys)?;
    if keys.is_empty() {
        return Ok(TransposeContentResponse { contents: Vec::new() });
    }
    let work_keys = keys.clone();
    let scores = blocking(move || {
        work_keys
            .iter()
            .map(|key| {
                score.transpose_to(key).map(|s| {
                    let xml = s.to_music_xml();
                    (s, xml)
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await?
    .map_err(|e| ContentError::field("target_keys", e.to_string()))?;
    let mut news = Vec::new();
    for (key, (score, xml)) in keys.iter().zip(scores) {
        let mut parameters = row.parameters.clone();
        if let Some(map) = parameters.as_object_mut() {
            map.insert("key".into(), json!(key));
            map.insert("transposed_from".into(), json!(to_api(row.id)));
            map.insert("transposed_from_key".into(), json!(source_key));
        }
        news.push(NewContent {
            id: new_id(),
            user_id: me,
            content_type: row.content_type.clone(),
            title: score.title.chars().take(fields::MAX_TITLE).collect(),
            description: row.description.clone(),
            parameters,
            music_data: serde_json::to_value(&score).map_err(|e| ContentError::Corrupt(e.to_string()))?,
            music_xml: Some(xml),
            difficulty: row.difficulty.clone(),
            key: Some(key.clone()),
            tempo: row.tempo,
            time_signature: row.time_signature.clone(),
            style: row.style.clone(),
            tags: row.tags.clone(),
            metadata: Some(json!({"transposed_from": to_api(row.id)})),
        });
    }
    let grant = billing::grant_key("transpose", me, request_id.as_deref());
    let count = i64::try_from(news.len()).unwrap_or(i64::MAX);
    api.quota.consume(me, feature::TRANSPOSE, count, &grant).await?;
    let full = crate::api::convert::is_full(view, false);
    let mut conn = api.context.pool.get().await?;
    let result = conn
        .transaction(async |conn| {
            let mut items = Vec::new();
            for new in &news {
                let row = content::insert(conn, new).await?;
                AuditEntry::new(principal, "CONTENT_TRANSPOSE", "generated_content", Some(to_api(row.id)))
                    .with_change(None, Some(json!({"transposed_from": to_api(id), "key": new.key})))
                    .write(conn)
                    .await?;
                items.push(Listed { row, liked: false, saved_id: None });
            }
            let response = TransposeContentResponse { contents: library::render(conn, &items, full).await? };
            replay.remember(conn, &response).await?;
            Ok::<_, ContentError>(response)
        })
        .await;
    match result {
        Ok(response) => Ok(response),
        Err(ContentError::DuplicateRequest) => replay.settle(&mut conn, Err(ContentError::DuplicateRequest)).await,
        Err(error) => {
            api.quota.refund(me, &grant).await;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("ii–V–I lick in B♭ — bebop", "mid"), "ii-V-I-lick-in-Bb-bebop.mid");
        assert_eq!(file_name("///", "musicxml"), "content.musicxml");
    }

    #[test]
    fn targets_skip_the_source_and_duplicates() {
        let all = targets("Bb", false, &[], true).unwrap_or_default();
        assert_eq!(all.len(), 11);
        assert!(!all.contains(&"Bb".to_owned()));
        let some = targets("C", false, &["F".into(), "E#".into(), "B#".into(), "Eb".into()], false).unwrap_or_default();
        assert_eq!(some, ["F", "Eb"]);
        assert!(targets("C", false, &["F".into()], true).is_err());
        assert!(targets("C", false, &[], false).is_err());
    }
}
