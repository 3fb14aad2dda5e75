//! The engine's one error type.
//!
//! Every failure the caller can cause is an invalid parameter naming the
//! request field exactly as the API spells it, so the content service can map
//! it straight into a `BadRequest` field violation.

/// What went wrong while generating, transposing or parsing music.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A request parameter was out of range, unparsable or unknown.
    #[error("invalid parameter `{field}`: {reason}")]
    InvalidParameter {
        /// The parameter's API name: `key`, `mode`, `tempo`, `time_signature`,
        /// `style`, `difficulty`, `bars`, `progression`, `voicing`, `range`,
        /// `scale`, `pattern`, `content_type` or `seed`.
        field: &'static str,
        /// A human-readable explanation, safe to show to the caller.
        reason: String,
    },
}

impl EngineError {
    /// Shorthand for [`EngineError::InvalidParameter`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter { field, reason: reason.into() }
    }

    /// The API name of the offending parameter.
    pub fn field(&self) -> &'static str {
        match self {
            Self::InvalidParameter { field, .. } => field,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_field() {
        let e = EngineError::invalid("tempo", "must be between 40 and 320");
        assert_eq!(e.field(), "tempo");
        assert_eq!(e.to_string(), "invalid parameter `tempo`: must be between 40 and 320");
    }
}
