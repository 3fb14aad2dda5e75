//! `GenerationParameters` → [`jazz_music::GenerationRequest`] (validated,
//! field paths as the contract names them), and the engine's
//! [`ResolvedParameters`] ↔ the stored `parameters` JSON and the typed
//! `generation_parameters` the API returns.

use jazz_contract::jazz::content::v1::GenerationParameters;
use jazz_music::{ContentType, Difficulty, EngineError, GenerationRequest, ResolvedParameters};
use jazz_platform::error::{FieldViolation, Violations};
use serde_json::{Map, Value, json};

use super::{fields, vocab};

/// Longest vocabulary string passed to the engine.
const MAX_WORD: usize = 64;

/// Validates the request's parameters into an engine request. Everything
/// the engine checks itself (ranges of keys, notes, vocabulary) is reported
/// by [`engine_violation`] under the same field paths.
pub fn request(parameters: Option<&GenerationParameters>) -> Result<GenerationRequest, Vec<FieldViolation>> {
    let Some(p) = parameters else {
        return Err(vec![FieldViolation::new("parameters", "is required")]);
    };
    let GenerationParameters {
        r#type,
        key,
        mode,
        tempo_bpm,
        time_signature,
        style,
        difficulty,
        bars,
        progression,
        voicing,
        scale,
        pattern,
        range_low,
        range_high,
        seed,
    } = p;
    let mut v = Violations::new();
    let content_type = match vocab::type_db(*r#type).and_then(|t| t.parse::<ContentType>().ok()) {
        Some(t) => Some(t),
        None => {
            v.push(FieldViolation::new("parameters.type", "is required: one of the content types"));
            None
        }
    };
    let difficulty = match *difficulty {
        0 => Some(Difficulty::Intermediate),
        n => {
            let parsed = vocab::difficulty_db(n).and_then(|d| d.parse::<Difficulty>().ok());
            if parsed.is_none() {
                v.push(FieldViolation::new("parameters.difficulty", "is not a known difficulty"));
            }
            parsed
        }
    };
    let mode =
        v.check(vocab::mode_engine(*mode).ok_or_else(|| FieldViolation::new("parameters.mode", "is not a known mode")));
    let key = v.check(tonic("parameters.key", key));
    let tempo = v.check(match *tempo_bpm {
        0 => Ok(None),
        n if (40..=320).contains(&n) => Ok(u32::try_from(n).ok()),
        _ => Err(FieldViolation::new("parameters.tempo_bpm", "must be 0 (default) or 40–320")),
    });
    let bars = v.check(match *bars {
        0 => Ok(None),
        n if (1..=64).contains(&n) => Ok(u32::try_from(n).ok()),
        _ => Err(FieldViolation::new("parameters.bars", "must be 0 (default) or 1–64")),
    });
    let time_signature = v.check(word("parameters.time_signature", time_signature, 8).map(|t| t.map(str::to_owned)));
    let style = v.check(word("parameters.style", style, MAX_WORD).map(|s| s.map(vocab::to_engine)));
    let progression = v.check(word("parameters.progression", progression, MAX_WORD).map(|s| s.map(vocab::to_engine)));
    let voicing = v.check(word("parameters.voicing", voicing, MAX_WORD).map(|s| s.map(vocab::to_engine)));
    let scale = v.check(word("parameters.scale", scale, MAX_WORD).map(|s| s.map(vocab::to_engine)));
    let pattern = v.check(word("parameters.pattern", pattern, MAX_WORD).map(|s| s.map(vocab::to_engine)));
    let range_low = v.check(word("parameters.range_low", range_low, 8).map(|s| s.map(str::to_owned)));
    let range_high = v.check(word("parameters.range_high", range_high, 8).map(|s| s.map(str::to_owned)));
    v.finish()?;
    let (Some(content_type), Some(difficulty)) = (content_type, difficulty) else {
        return Err(vec![FieldViolation::new("parameters", "is invalid")]);
    };
    let mut req = GenerationRequest::new(content_type, difficulty);
    req.key = key.flatten();
    req.mode = mode.flatten().map(str::to_owned);
    req.tempo = tempo.flatten();
    req.time_signature = time_signature.flatten();
    req.style = style.flatten();
    req.bars = bars.flatten();
    req.progression = progression.flatten();
    req.voicing = voicing.flatten();
    req.scale = scale.flatten();
    req.pattern = pattern.flatten();
    req.range_low = range_low.flatten();
    req.range_high = range_high.flatten();
    req.seed = *seed;
    Ok(req)
}

/// A tonic as the contract accepts it: a letter A–G and optionally `#`/`b`
/// (`♯`/`♭` normalised). Empty: `None` (the default).
pub fn tonic(field: &str, text: &str) -> Result<Option<String>, FieldViolation> {
    let normal = text.trim().replace('♯', "#").replace('♭', "b");
    if normal.is_empty() {
        return Ok(None);
    }
    let mut chars = normal.chars();
    let letter = chars.next().map(|c| c.to_ascii_uppercase()).filter(|c| ('A'..='G').contains(c));
    let accidental: String = chars.collect();
    match letter {
        Some(letter) if accidental.is_empty() || accidental == "#" || accidental == "b" => {
            Ok(Some(format!("{letter}{accidental}")))
        }
        _ => Err(FieldViolation::new(field, "must be a tonic: a letter A–G, optionally followed by # or b")),
    }
}

fn word<'a>(field: &str, text: &'a str, max: usize) -> Result<Option<&'a str>, FieldViolation> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    fields::plain_text(field, text, max)?;
    Ok(Some(text))
}

/// The request field an engine error is about.
pub fn engine_violation(error: &EngineError) -> FieldViolation {
    let field = match error.field() {
        "tempo" => "parameters.tempo_bpm",
        "range" => "parameters.range_low",
        "content_type" => "parameters.type",
        "key" => "parameters.key",
        "mode" => "parameters.mode",
        "time_signature" => "parameters.time_signature",
        "style" => "parameters.style",
        "difficulty" => "parameters.difficulty",
        "bars" => "parameters.bars",
        "progression" => "parameters.progression",
        "voicing" => "parameters.voicing",
        "scale" => "parameters.scale",
        "pattern" => "parameters.pattern",
        _ => "parameters",
    };
    FieldViolation::new(field, error.to_string())
}

/// The stored `parameters` JSON: the contract's field names, every value
/// used, enums as proto value names, `seed` as a decimal string.
pub fn stored(p: &ResolvedParameters) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), json!(format!("CONTENT_TYPE_{}", p.content_type)));
    map.insert("key".into(), json!(p.key));
    map.insert("mode".into(), json!(vocab::mode_name(&p.mode)));
    map.insert("tempo_bpm".into(), json!(p.tempo));
    map.insert("time_signature".into(), json!(p.time_signature));
    map.insert("style".into(), json!(vocab::to_api(&p.style)));
    map.insert("difficulty".into(), json!(format!("DIFFICULTY_{}", p.difficulty)));
    map.insert("bars".into(), json!(p.bars));
    if let Some(progression) = &p.progression {
        map.insert("progression".into(), json!(vocab::to_api(progression)));
    }
    map.insert("voicing".into(), json!(vocab::to_api(&p.voicing)));
    if let Some(scale) = &p.scale {
        map.insert("scale".into(), json!(vocab::to_api(scale)));
    }
    if let Some(pattern) = &p.pattern {
        map.insert("pattern".into(), json!(vocab::to_api(pattern)));
    }
    map.insert("range_low".into(), json!(p.range_low));
    map.insert("range_high".into(), json!(p.range_high));
    map.insert("seed".into(), json!(p.seed.to_string()));
    map.insert("engine_version".into(), json!(p.engine_version));
    Value::Object(map)
}

/// The typed parameters of a stored item (missing or odd values read as
/// the zero value: the JSON is ours, so that only happens for a bug).
pub fn typed(stored: &Value) -> GenerationParameters {
    let text = |name: &str| stored.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let number =
        |name: &str| stored.get(name).and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()).unwrap_or_default();
    let enum_of = |name: &str, parse: fn(&str) -> i32| parse(stored.get(name).and_then(Value::as_str).unwrap_or(""));
    GenerationParameters {
        r#type: enum_of("type", |s| vocab::type_pb(s.strip_prefix("CONTENT_TYPE_").unwrap_or(""))),
        key: text("key"),
        mode: enum_of("mode", vocab::mode_pb),
        tempo_bpm: number("tempo_bpm"),
        time_signature: text("time_signature"),
        style: text("style"),
        difficulty: enum_of("difficulty", |s| vocab::difficulty_pb(s.strip_prefix("DIFFICULTY_").unwrap_or(""))),
        bars: number("bars"),
        progression: text("progression"),
        voicing: text("voicing"),
        scale: text("scale"),
        pattern: text("pattern"),
        range_low: text("range_low"),
        range_high: text("range_high"),
        seed: stored.get("seed").and_then(Value::as_str).and_then(|s| s.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jazz_contract::jazz::common::v1 as common;

    fn lick() -> GenerationParameters {
        GenerationParameters {
            r#type: common::ContentType::JazzLick as i32,
            key: "B♭".into(),
            style: "bebop".into(),
            progression: "ii_v_i".into(),
            seed: Some(11),
            ..Default::default()
        }
    }

    #[test]
    fn parameters_round_trip_through_the_stored_json() {
        let req = request(Some(&lick())).map_err(|v| format!("{v:?}"));
        let item = req.and_then(|r| jazz_music::generate(&r).map_err(|e| e.to_string()));
        let Ok(item) = item else { panic!("generation failed: {item:?}") };
        let json = stored(&item.parameters);
        assert_eq!(json["seed"], "11");
        assert_eq!(json["key"], "Bb");
        assert_eq!(json["progression"], "ii_v_i");
        let typed = typed(&json);
        assert_eq!(typed.seed, Some(11));
        assert_eq!(typed.r#type, common::ContentType::JazzLick as i32);
        assert_eq!(typed.difficulty, common::Difficulty::Intermediate as i32);
        // The typed parameters regenerate the same music.
        let again = request(Some(&typed)).map_err(|v| format!("{v:?}"));
        let again = again.and_then(|r| jazz_music::generate(&r).map_err(|e| e.to_string()));
        assert_eq!(again.ok().map(|i| i.score), Some(item.score));
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases: [(GenerationParameters, &str); 6] = [
            (GenerationParameters::default(), "parameters.type"),
            (GenerationParameters { tempo_bpm: 7, ..lick() }, "parameters.tempo_bpm"),
            (GenerationParameters { bars: -1, ..lick() }, "parameters.bars"),
            (GenerationParameters { key: "H#".into(), ..lick() }, "parameters.key"),
            (GenerationParameters { mode: 9, ..lick() }, "parameters.mode"),
            (GenerationParameters { style: "po\0lka".into(), ..lick() }, "parameters.style"),
        ];
        for (params, field) in cases {
            let fields: Vec<String> =
                request(Some(&params)).err().unwrap_or_default().into_iter().map(|v| v.field).collect();
            assert_eq!(fields, [field]);
        }
        let engine = request(Some(&GenerationParameters { style: "polka".into(), ..lick() }))
            .map_err(|v| format!("{v:?}"))
            .and_then(|r| jazz_music::generate(&r).map_err(|e| engine_violation(&e).field));
        assert_eq!(engine.err().as_deref(), Some("parameters.style"));
    }
}
