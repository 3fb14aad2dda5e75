//! The shared list filter (`ContentFilter`), parsed once into the values the
//! queries compare with.

use jazz_contract::jazz::content::v1::ContentFilter;
use jazz_platform::error::{FieldViolation, Violations};

use super::{fields, params, vocab};

/// A parsed `ContentFilter`; `None` fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Database content type (`JAZZ_LICK`).
    pub content_type: Option<&'static str>,
    /// Database difficulty (`BEGINNER`).
    pub difficulty: Option<&'static str>,
    /// Every spelling of the asked tonic's pitch class.
    pub keys: Option<Vec<String>>,
    /// Stored mode value name (`KEY_MODE_MINOR`).
    pub mode: Option<&'static str>,
    /// Stored style (`bossa_nova`).
    pub style: Option<String>,
    /// One tag, lower-case.
    pub tag: Option<String>,
}

impl Filter {
    /// Parses the request's filter; violations name `filter.<field>`.
    pub fn parse(filter: Option<&ContentFilter>) -> Result<Self, Vec<FieldViolation>> {
        let Some(ContentFilter { r#type, difficulty, key, mode, style, tag }) = filter else {
            return Ok(Self::default());
        };
        let mut v = Violations::new();
        let content_type = v.check(match *r#type {
            0 => Ok(None),
            n => vocab::type_db(n).map(Some).ok_or_else(|| FieldViolation::new("filter.type", "is not a known type")),
        });
        let difficulty = v.check(match *difficulty {
            0 => Ok(None),
            n => vocab::difficulty_db(n)
                .map(Some)
                .ok_or_else(|| FieldViolation::new("filter.difficulty", "is not a known difficulty")),
        });
        let keys = v.check(params::tonic("filter.key", key)).map(|k| k.map(|k| fields::key_spellings(&k)));
        let mode = v.check(
            vocab::mode_engine(*mode)
                .map(|m| m.map(vocab::mode_name))
                .ok_or_else(|| FieldViolation::new("filter.mode", "is not a known mode")),
        );
        let style = v.check(word("filter.style", style)).map(|s| s.map(|s| vocab::style_key(&s)));
        let tag = v.check(word("filter.tag", tag)).map(|t| t.map(|t| t.to_lowercase()));
        v.finish()?;
        Ok(Self {
            content_type: content_type.flatten(),
            difficulty: difficulty.flatten(),
            keys: keys.flatten(),
            mode: mode.flatten(),
            style: style.flatten(),
            tag: tag.flatten(),
        })
    }

    /// A stable text naming this filter, for binding page tokens to it.
    pub fn binding(&self) -> String {
        format!("{self:?}")
    }
}

fn word(field: &str, text: &str) -> Result<Option<String>, FieldViolation> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    fields::plain_text(field, text, 64)?;
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jazz_contract::jazz::common::v1::{ContentType, KeyMode};

    #[test]
    fn filters_parse_into_stored_spellings() {
        let filter = ContentFilter {
            r#type: ContentType::Melody as i32,
            key: "A♯".into(),
            mode: KeyMode::Minor as i32,
            style: "Bossa Nova".into(),
            tag: "Bebop".into(),
            ..Default::default()
        };
        let parsed = Filter::parse(Some(&filter)).unwrap_or_default();
        assert_eq!(parsed.content_type, Some("MELODY"));
        assert_eq!(parsed.keys, Some(vec!["A#".to_owned(), "Bb".to_owned()]));
        assert_eq!(parsed.mode, Some("KEY_MODE_MINOR"));
        assert_eq!(parsed.style.as_deref(), Some("bossa_nova"));
        assert_eq!(parsed.tag.as_deref(), Some("bebop"));
        let bad = ContentFilter { r#type: 42, key: "H".into(), ..Default::default() };
        let fields: Vec<String> =
            Filter::parse(Some(&bad)).err().unwrap_or_default().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["filter.type", "filter.key"]);
    }
}
