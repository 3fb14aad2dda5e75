//! Field rules of the contract (at or below the database's CHECK bounds),
//! each answering the field's path when broken.

use jazz_platform::error::FieldViolation;

/// Most tags an item carries.
pub const MAX_TAGS: usize = 20;
/// Longest tag.
pub const MAX_TAG: usize = 32;
/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest description and notes.
pub const MAX_TEXT: usize = 2000;
/// Longest collection name.
pub const MAX_COLLECTION: usize = 100;
/// Longest search text.
pub const MAX_QUERY: usize = 200;

pub use jazz_platform::fields::plain_text;

/// A title: trimmed, 1–200 characters.
pub fn title(field: &str, text: &str) -> Result<String, FieldViolation> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldViolation::new(field, "must not be empty"));
    }
    plain_text(field, text, MAX_TITLE)?;
    Ok(text.to_owned())
}

/// Free text (description, notes): at most 2000 characters; empty → `None`.
pub fn text(field: &str, text: &str) -> Result<Option<String>, FieldViolation> {
    plain_text(field, text, MAX_TEXT)?;
    Ok(if text.trim().is_empty() { None } else { Some(text.to_owned()) })
}

/// Tags: at most 20, each 1–32 of `[a-z0-9_-]` after lower-casing,
/// duplicates dropped (first kept).
pub fn tags(field: &str, tags: &[String]) -> Result<Vec<String>, FieldViolation> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        let ok = !tag.is_empty()
            && tag.chars().count() <= MAX_TAG
            && tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok {
            return Err(FieldViolation::new(field, "each tag must be 1–32 characters of a-z, 0-9, _ and -"));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(FieldViolation::new(field, format!("must hold at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

/// The engine's tags made to fit the tag rule (they do already; this keeps
/// a future engine tag from failing an insert).
pub fn engine_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let clean: String = tag
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' { c } else { '-' })
            .take(MAX_TAG)
            .collect();
        if !clean.is_empty() && !out.contains(&clean) && out.len() < MAX_TAGS {
            out.push(clean);
        }
    }
    out
}

/// A collection name: trimmed, 1–100 characters; empty → `None` (no
/// collection).
pub fn collection(field: &str, text: &str) -> Result<Option<String>, FieldViolation> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    plain_text(field, text, MAX_COLLECTION)?;
    Ok(Some(text.to_owned()))
}

/// Search text: 1–200 characters, no control characters. Any syntax is
/// accepted (`websearch_to_tsquery` never fails on its input).
pub fn query(text: &str) -> Result<String, FieldViolation> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldViolation::new("query", "must not be empty"));
    }
    plain_text("query", text, MAX_QUERY)?;
    Ok(text.to_owned())
}

/// Every spelling of a tonic's pitch class with at most one accidental
/// (`A#` → `A#`, `Bb`; `C` → `B#`, `C`), for the key filter.
pub fn key_spellings(tonic: &str) -> Vec<String> {
    fn pc(letter: char) -> i32 {
        match letter {
            'C' => 0,
            'D' => 2,
            'E' => 4,
            'F' => 5,
            'G' => 7,
            'A' => 9,
            _ => 11,
        }
    }
    let mut chars = tonic.chars();
    let Some(letter) = chars.next() else { return Vec::new() };
    let alter = match chars.as_str() {
        "#" => 1,
        "b" => -1,
        _ => 0,
    };
    let target = (pc(letter) + alter).rem_euclid(12);
    let mut out = Vec::new();
    for letter in ['C', 'D', 'E', 'F', 'G', 'A', 'B'] {
        for (accidental, alter) in [("", 0), ("#", 1), ("b", -1)] {
            if (pc(letter) + alter).rem_euclid(12) == target {
                out.push(format!("{letter}{accidental}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_bounded() {
        let tags = tags("tags", &["Bebop".into(), "bebop".into(), "ii-v-i".into()]);
        assert_eq!(tags.ok(), Some(vec!["bebop".to_owned(), "ii-v-i".to_owned()]));
        assert!(super::tags("tags", &["no spaces".into()]).is_err());
        assert!(super::tags("tags", &(0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()).is_err());
        assert_eq!(engine_tags(&["B♭ Major".into()]), ["b--major"]);
    }

    #[test]
    fn enharmonic_spellings_share_a_pitch_class() {
        assert_eq!(key_spellings("A#"), ["A#", "Bb"]);
        assert_eq!(key_spellings("C"), ["C", "B#"]);
        assert_eq!(key_spellings("Fb"), ["E", "Fb"]);
    }

    #[test]
    fn limits_and_defaults() {
        assert!(query("  ").is_err());
        assert!(query("a\0b").is_err());
        assert!(title("title", &"x".repeat(201)).is_err());
        assert_eq!(collection("c", "  ").ok(), Some(None));
    }
}
