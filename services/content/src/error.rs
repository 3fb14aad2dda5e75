//! Content's one error enum and its one mapping to [`tonic::Status`].
//!
//! Handlers return `Result<_, ContentError>` and let `?` turn it into a
//! `Status`; every variant is named in the `From` impl, so a new variant
//! does not compile until it has a status code. Reasons are the stable
//! `ErrorInfo` codes the proto files document.

use std::collections::HashMap;

use jazz_platform::error::{
    FieldViolation, Reason, StoreError, duplicate_request, internal, invalid_argument, invalid_page_token,
    request_id_reused, with_reason,
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

/// The `ErrorInfo` domain of every content error.
pub const DOMAIN: &str = "content.jazz";

/// The one message for an item or entry that does not exist or is not the
/// caller's to see: the same for both, so an id is never confirmed.
pub const NOT_FOUND_MESSAGE: &str = "content not found";

/// Everything a content call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Request fields broke their rules (nothing was written).
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldViolation>),
    /// A page token this server did not issue for this call and filter.
    #[error("invalid page token")]
    InvalidPageToken,
    /// A `request_id` used before with different arguments.
    #[error("request id reused with other arguments")]
    RequestIdReused,
    /// The item (or saved entry) does not exist or is not visible to the
    /// caller: one answer for both.
    #[error("not found")]
    NotFound,
    /// UndeleteContent on an item that is not deleted.
    #[error("not deleted")]
    NotDeleted,
    /// SaveContent of an item the caller saved before.
    #[error("already saved as {saved_content_id}")]
    AlreadySaved {
        /// The existing entry's id (API form).
        saved_content_id: String,
    },
    /// Billing refused the quota (RESOURCE_EXHAUSTED with billing's
    /// `QuotaFailure` and `ErrorInfo`, passed on unchanged).
    #[error("quota refused: {0}")]
    Quota(Status),
    /// The caller's plan does not include the feature (billing's answer,
    /// whose `ErrorInfo` metadata is passed on).
    #[error("feature not included: {0}")]
    NotIncluded(Status),
    /// Billing has no subscription for the caller.
    #[error("no subscription")]
    NoSubscription,
    /// Billing could not be reached or is not serving the call.
    #[error("billing unavailable: {0}")]
    BillingUnavailable(String),
    /// Billing answered something the contract does not allow (our bug).
    #[error("unexpected billing answer: {0}")]
    Billing(Status),
    /// A concurrent call with the same request id stored its answer first;
    /// this call's work was rolled back and the stored answer is returned.
    #[error("duplicate request")]
    DuplicateRequest,
    /// Stored data could not be read back (JSON that is not ours).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A blocking task panicked or was cancelled.
    #[error("blocking task failed: {0}")]
    Blocking(#[from] tokio::task::JoinError),
}

jazz_platform::service_error!(ContentError);

impl From<ContentError> for Status {
    fn from(error: ContentError) -> Self {
        match error {
            ContentError::Invalid(violations) => invalid_argument(&violations),
            ContentError::InvalidPageToken => invalid_page_token(DOMAIN),
            ContentError::RequestIdReused => request_id_reused(DOMAIN),
            ContentError::NotFound => Status::not_found(NOT_FOUND_MESSAGE),
            ContentError::NotDeleted => {
                with_reason(Code::FailedPrecondition, "the item is not deleted", Reason::NotDeleted, DOMAIN)
            }
            ContentError::AlreadySaved { saved_content_id } => {
                let metadata = HashMap::from([("saved_content_id".to_owned(), saved_content_id)]);
                let details = ErrorDetails::with_error_info(Reason::AlreadySaved.as_str(), DOMAIN, metadata);
                Status::with_error_details(
                    Code::AlreadyExists,
                    "the item is saved already; use UpdateSavedContent",
                    details,
                )
            }
            ContentError::Quota(status) => {
                Status::with_details(Code::ResourceExhausted, status.message(), status.details().to_vec().into())
            }
            ContentError::NotIncluded(status) => {
                // The plan must change; nothing to wait out (docs/decisions.md #10).
                let metadata = status.get_details_error_info().map(|info| info.metadata).unwrap_or_default();
                let details = ErrorDetails::with_error_info(Reason::PlanRequired.as_str(), DOMAIN, metadata);
                Status::with_error_details(Code::FailedPrecondition, status.message(), details)
            }
            ContentError::NoSubscription => {
                with_reason(Code::FailedPrecondition, "the account has no subscription", Reason::NoSubscription, DOMAIN)
            }
            ContentError::BillingUnavailable(reason) => {
                tracing::warn!(%reason, "billing unavailable");
                Status::unavailable("quota service temporarily unavailable; retry the call")
            }
            ContentError::Billing(ref status) => internal(status),
            ContentError::DuplicateRequest => duplicate_request(),
            ContentError::Corrupt(ref what) => internal(&std::io::Error::other(what.clone())),
            ContentError::Store(store) => Status::from(store),
            ContentError::Blocking(ref join) => internal(join),
        }
    }
}

impl From<jazz_platform::page_token::InvalidPageToken> for ContentError {
    fn from(_: jazz_platform::page_token::InvalidPageToken) -> Self {
        Self::InvalidPageToken
    }
}

jazz_platform::replay_failure!(ContentError);

impl From<jazz_platform::audit_list::AuditListError> for ContentError {
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
    fn codes_are_stable() {
        let cases = [
            (ContentError::NotFound, Code::NotFound),
            (ContentError::NotDeleted, Code::FailedPrecondition),
            (ContentError::AlreadySaved { saved_content_id: "x".into() }, Code::AlreadyExists),
            (ContentError::Quota(Status::resource_exhausted("spent")), Code::ResourceExhausted),
            (ContentError::NoSubscription, Code::FailedPrecondition),
            (ContentError::NotIncluded(Status::failed_precondition("plan")), Code::FailedPrecondition),
            (ContentError::BillingUnavailable("down".into()), Code::Unavailable),
            (ContentError::Billing(Status::invalid_argument("bug")), Code::Internal),
            (ContentError::Corrupt("json".into()), Code::Internal),
            (ContentError::DuplicateRequest, Code::Aborted),
            (ContentError::InvalidPageToken, Code::InvalidArgument),
            (ContentError::RequestIdReused, Code::InvalidArgument),
        ];
        for (error, code) in cases {
            assert_eq!(Status::from(error).code(), code);
        }
    }

    #[test]
    fn not_found_never_says_why() {
        assert_eq!(Status::from(ContentError::NotFound).message(), NOT_FOUND_MESSAGE);
    }
}
