//! Quota through billing's `BillingInternalService`: ConsumeQuota before the
//! work, RefundQuota when the work fails after a grant, over the platform's
//! [`Peer`] (the caller's deadline, content's service principal).

use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_contract::jazz::billing::v1::{ConsumeQuotaRequest, RefundQuotaRequest};
use jazz_platform::PrincipalKey;
use jazz_platform::ids::to_api;
use jazz_platform::peer::Peer;
use tonic::Code;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::error::ContentError;

/// Features content consumes.
pub mod feature {
    /// GenerateContent.
    pub const AI_GENERATION: &str = "ai_generation";
    /// ExportContent as MIDI.
    pub const AUDIO_EXPORT: &str = "audio_export";
    /// TransposeContent, per new item.
    pub const TRANSPOSE: &str = "transpose";
    /// SaveContent / UpdateSavedContent into a new collection.
    pub const SAVED_COLLECTIONS: &str = "saved_collections";
}

/// A client of billing's quota methods.
#[derive(Clone)]
pub struct Quota {
    billing: Peer,
}

impl Quota {
    /// A client of the billing service at `url` (connected on first use; an
    /// unusable URL makes every quota call UNAVAILABLE).
    pub fn new(url: &str, key: PrincipalKey) -> Self {
        Self { billing: Peer::new("billing", url, "content", key) }
    }

    fn client(&self) -> Result<BillingInternalServiceClient<Channel>, ContentError> {
        self.billing
            .channel()
            .map(BillingInternalServiceClient::new)
            .ok_or_else(|| ContentError::BillingUnavailable("no billing URL".into()))
    }

    /// Consumes `quantity` units of `feature` for `user` under `key`.
    pub async fn consume(&self, user: Uuid, feature: &str, quantity: i64, key: &str) -> Result<(), ContentError> {
        let message = ConsumeQuotaRequest {
            user_id: to_api(user),
            feature: feature.to_owned(),
            quantity,
            idempotency_key: key.to_owned(),
        };
        match self.client()?.consume_quota(self.billing.request(message)).await {
            Ok(_) => Ok(()),
            Err(status) => Err(classify(status)),
        }
    }

    /// Gives a grant back; failures are logged (the grant then stays used,
    /// which errs on the user's side only by one unit).
    pub async fn refund(&self, user: Uuid, key: &str) {
        let message = RefundQuotaRequest { user_id: to_api(user), idempotency_key: key.to_owned() };
        let result = match self.client() {
            Ok(mut client) => client.refund_quota(self.billing.request(message)).await.map(drop),
            Err(error) => Err(tonic::Status::unavailable(error.to_string())),
        };
        if let Err(status) = result {
            tracing::warn!(code = ?status.code(), message = status.message(), key, "quota refund failed");
        }
    }
}

fn classify(status: tonic::Status) -> ContentError {
    match status.code() {
        Code::ResourceExhausted => ContentError::Quota(status),
        // A feature outside the plan: FAILED_PRECONDITION, PLAN_REQUIRED.
        Code::FailedPrecondition => ContentError::NotIncluded(status),
        Code::NotFound => ContentError::NoSubscription,
        Code::Unavailable | Code::Unimplemented | Code::DeadlineExceeded | Code::Cancelled | Code::Aborted => {
            ContentError::BillingUnavailable(format!("{:?}: {}", status.code(), status.message()))
        }
        Code::Ok
        | Code::Unknown
        | Code::InvalidArgument
        | Code::AlreadyExists
        | Code::PermissionDenied
        | Code::OutOfRange
        | Code::Internal
        | Code::DataLoss
        | Code::Unauthenticated => ContentError::Billing(status),
    }
}

/// The grant key of a call: derived from the caller and the request id, so
/// a retried call consumes once; a fresh ULID without a request id.
pub fn grant_key(operation: &str, user: Uuid, request_id: Option<&str>) -> String {
    match request_id {
        Some(id) => format!("content:{operation}:{}:{id}", to_api(user)),
        None => format!("content:{operation}:{}:{}", to_api(user), ulid::Ulid::generate()),
    }
}
