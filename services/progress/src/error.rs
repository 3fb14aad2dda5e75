//! Progress's one error enum and its one mapping to [`tonic::Status`].
//!
//! Every variant is named in the `From` impl (no catch-all), so a new
//! variant does not compile until it has a status code. Reasons are the
//! stable `ErrorInfo` codes of `practice.proto` and `progress.proto`.

use jazz_platform::error::{
    FieldViolation, Reason, StoreError, duplicate_request, internal, invalid_argument, invalid_page_token,
    request_id_reused, with_reason,
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

/// The `ErrorInfo` domain of every progress error.
pub const DOMAIN: &str = "progress.jazz";

/// Everything a progress call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    /// Request fields broke their rules (nothing was written).
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldViolation>),
    /// A page token this server did not issue for this caller and filter.
    #[error("invalid page token")]
    InvalidPageToken,
    /// A `request_id` used before with other arguments.
    #[error("request id reused with other arguments")]
    RequestIdReused,
    /// A concurrent call with the same `request_id` stored its answer first.
    #[error("duplicate request in flight")]
    DuplicateRequest,
    /// No such session of the caller's (another user's looks the same).
    #[error("practice session not found")]
    SessionNotFound,
    /// The content item does not exist or is not visible to the caller.
    #[error("content not found")]
    ContentNotFound,
    /// The session has ended already.
    #[error("session ended")]
    SessionEnded,
    /// A peer service could not be reached or answered unusably.
    #[error("{peer} unavailable: {reason}")]
    PeerUnavailable {
        /// Which peer.
        peer: &'static str,
        /// What happened (logged, not returned).
        reason: String,
    },
    /// Judging a take took longer than its deadline (nothing was stored).
    #[error("scoring deadline exceeded")]
    ScoringDeadline,
    /// A stored row is not what the code expects (never the caller's fault).
    #[error("bad stored data: {0}")]
    Corrupt(String),
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

jazz_platform::service_error!(ProgressError);

impl From<ProgressError> for Status {
    fn from(error: ProgressError) -> Self {
        match error {
            ProgressError::Invalid(violations) => invalid_argument(&violations),
            ProgressError::InvalidPageToken => invalid_page_token(DOMAIN),
            ProgressError::RequestIdReused => request_id_reused(DOMAIN),
            ProgressError::DuplicateRequest => duplicate_request(),
            ProgressError::SessionNotFound => Status::not_found("practice session not found"),
            ProgressError::ContentNotFound => {
                let mut details = ErrorDetails::new();
                details.set_resource_info("jazz.content.v1.GeneratedContent", "content_id", "", "not found");
                // The field, as a BadRequest too: clients read one detail for every refusal.
                details.add_bad_request_violation("content_id", "no such content item visible to you");
                Status::with_error_details(Code::NotFound, "content_id: content not found", details)
            }
            ProgressError::SessionEnded => {
                with_reason(Code::FailedPrecondition, "the practice session has ended", Reason::SessionEnded, DOMAIN)
            }
            ProgressError::PeerUnavailable { peer, ref reason } => {
                tracing::warn!(peer, %reason, "peer unavailable");
                Status::unavailable(format!("{peer} service temporarily unavailable; retry the call"))
            }
            ProgressError::ScoringDeadline => {
                Status::deadline_exceeded("judging the take took too long; nothing was stored")
            }
            ProgressError::Corrupt(ref what) => internal(&std::io::Error::other(what.clone())),
            ProgressError::Store(store) => Status::from(store),
        }
    }
}

impl From<jazz_platform::page_token::InvalidPageToken> for ProgressError {
    fn from(_: jazz_platform::page_token::InvalidPageToken) -> Self {
        Self::InvalidPageToken
    }
}

jazz_platform::replay_failure!(ProgressError);

impl From<jazz_platform::audit_list::AuditListError> for ProgressError {
    fn from(error: jazz_platform::audit_list::AuditListError) -> Self {
        use jazz_platform::audit_list::AuditListError;
        match error {
            AuditListError::Invalid(violations) => Self::Invalid(violations),
            AuditListError::InvalidPageToken => Self::InvalidPageToken,
            AuditListError::Store(store) => Self::Store(store),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_their_codes() {
        let cases = [
            (ProgressError::field("rating", "must be 1–5"), Code::InvalidArgument),
            (ProgressError::InvalidPageToken, Code::InvalidArgument),
            (ProgressError::RequestIdReused, Code::InvalidArgument),
            (ProgressError::SessionNotFound, Code::NotFound),
            (ProgressError::ContentNotFound, Code::NotFound),
            (ProgressError::SessionEnded, Code::FailedPrecondition),
            (ProgressError::PeerUnavailable { peer: "content", reason: "down".into() }, Code::Unavailable),
            (ProgressError::Corrupt("x".into()), Code::Internal),
            (ProgressError::ScoringDeadline, Code::DeadlineExceeded),
        ];
        for (error, code) in cases {
            assert_eq!(Status::from(error).code(), code);
        }
    }

    #[test]
    fn content_not_found_names_the_field() {
        let status = Status::from(ProgressError::ContentNotFound);
        assert!(status.message().contains("content_id"));
        let named = status.get_details_bad_request().map(|b| b.field_violations[0].field.clone());
        assert_eq!(named.as_deref(), Some("content_id"));
        let info = Status::from(ProgressError::SessionEnded).get_details_error_info();
        assert_eq!(info.map(|i| i.reason), Some("SESSION_ENDED".into()));
    }
}
