//! Calls to peer services: content (is an item visible to the caller, and
//! of what type) and identity (the user's time zone). Lazily connected
//! channels, a deadline on every call, progress's service principal.

use std::time::Duration;

use jazz_contract::jazz::common::v1::{ContentType, Difficulty, KeyMode, SkillLevel};
use jazz_contract::jazz::content::v1::content_internal_service_client::ContentInternalServiceClient;
use jazz_contract::jazz::content::v1::{BatchGetContentRefsRequest, ContentRef, GetContentRefRequest};
use jazz_contract::jazz::identity::v1::GetUserRequest;
use jazz_contract::jazz::identity::v1::identity_internal_service_client::IdentityInternalServiceClient;
use jazz_platform::ids::to_api;
use jazz_platform::{Principal, PrincipalKey};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};
use uuid::Uuid;

use crate::error::ProgressError;

/// Deadline of one peer call.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Most ids per BatchGetContentRefs call.
const BATCH: usize = 200;

/// What progress needs to know about a content item.
#[derive(Debug, Clone)]
pub struct ItemFacts {
    /// Its type.
    pub kind: ContentType,
    /// Its own difficulty.
    pub difficulty: Difficulty,
    /// Its tonic as content spells it (e.g. "A#"); empty when it has none.
    pub key: String,
    /// Its mode.
    pub mode: KeyMode,
}

/// Clients of content and identity.
#[derive(Clone)]
pub struct Peers {
    content: Option<Channel>,
    identity: Option<Channel>,
    key: PrincipalKey,
}

fn lazy(url: &str) -> Option<Channel> {
    let channel = Endpoint::from_shared(url.to_owned()).ok().map(|e| e.connect_timeout(TIMEOUT).connect_lazy());
    if channel.is_none() {
        tracing::warn!(url, "peer URL unusable; calls to it will answer UNAVAILABLE");
    }
    channel
}

fn unavailable(peer: &'static str, status: &tonic::Status) -> ProgressError {
    ProgressError::PeerUnavailable { peer, reason: format!("{:?}: {}", status.code(), status.message()) }
}

impl Peers {
    /// Clients of the peers at these URLs (connected on first use).
    pub fn new(content_url: &str, identity_url: &str, key: PrincipalKey) -> Self {
        Self { content: lazy(content_url), identity: lazy(identity_url), key }
    }

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(TIMEOUT);
        self.key.attach(&mut request, &Principal::service("progress"));
        request
    }

    fn content(&self) -> Result<ContentInternalServiceClient<Channel>, ProgressError> {
        self.content
            .clone()
            .map(ContentInternalServiceClient::new)
            .ok_or_else(|| ProgressError::PeerUnavailable { peer: "content", reason: "no URL".into() })
    }

    /// The item if it exists and `user` may see it; NOT_FOUND otherwise,
    /// UNAVAILABLE when content cannot answer.
    pub async fn visible_item(&self, user: Uuid, item: Uuid) -> Result<ItemFacts, ProgressError> {
        let message = GetContentRefRequest { content_id: to_api(item), user_id: to_api(user) };
        match self.content()?.get_content_ref(self.request(message)).await {
            Ok(response) => match response.into_inner().r#ref {
                Some(r) if r.exists && r.visible => Ok(facts(&r)),
                _ => Err(ProgressError::ContentNotFound),
            },
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                Err(ProgressError::ContentNotFound)
            }
            Err(status) => Err(unavailable("content", &status)),
        }
    }

    /// Facts of the items among `items` that `user` may see (unknown or
    /// hidden ones are left out), in calls of up to 200 ids.
    pub async fn visible_items(&self, user: Uuid, items: &[Uuid]) -> Result<Vec<(Uuid, ItemFacts)>, ProgressError> {
        let mut out = Vec::new();
        for chunk in items.chunks(BATCH) {
            let message = BatchGetContentRefsRequest {
                content_ids: chunk.iter().map(|id| to_api(*id)).collect(),
                user_id: to_api(user),
            };
            let refs = self
                .content()?
                .batch_get_content_refs(self.request(message))
                .await
                .map_err(|status| unavailable("content", &status))?
                .into_inner()
                .refs;
            for (id, r) in chunk.iter().zip(refs.iter()) {
                if r.exists && r.visible && r.content_id == to_api(*id) {
                    out.push((*id, facts(r)));
                }
            }
        }
        Ok(out)
    }

    /// The user's IANA time zone from identity; "UTC" when identity is
    /// unreachable or does not know the user (logged), so summaries still
    /// answer.
    pub async fn time_zone(&self, user: Uuid) -> String {
        let Some(channel) = self.identity.clone() else { return "UTC".into() };
        let message = GetUserRequest { user_id: to_api(user) };
        match IdentityInternalServiceClient::new(channel).get_user(self.request(message)).await {
            Ok(response) => response
                .into_inner()
                .user
                .map(|u| u.timezone)
                .filter(|tz| !tz.is_empty())
                .unwrap_or_else(|| "UTC".into()),
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "time zone lookup failed; using UTC");
                "UTC".into()
            }
        }
    }
}

impl Peers {
    /// The user's time zone and skill level from identity (one GetUser);
    /// "UTC" and BEGINNER (the profile default) when identity cannot answer
    /// (logged), so derived views still answer.
    pub async fn learner(&self, user: Uuid) -> (String, SkillLevel) {
        let fallback = || ("UTC".to_owned(), SkillLevel::Beginner);
        let Some(channel) = self.identity.clone() else { return fallback() };
        let message = GetUserRequest { user_id: to_api(user) };
        match IdentityInternalServiceClient::new(channel).get_user(self.request(message)).await {
            Ok(response) => {
                let response = response.into_inner();
                let tz = response.user.map(|u| u.timezone).filter(|tz| !tz.is_empty()).unwrap_or_else(|| "UTC".into());
                let level = response
                    .profile
                    .and_then(|p| SkillLevel::try_from(p.skill_level).ok())
                    .filter(|l| *l != SkillLevel::Unspecified)
                    .unwrap_or(SkillLevel::Beginner);
                (tz, level)
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "profile lookup failed; using defaults");
                fallback()
            }
        }
    }
}

fn facts(r: &ContentRef) -> ItemFacts {
    ItemFacts {
        kind: ContentType::try_from(r.r#type).unwrap_or(ContentType::Unspecified),
        difficulty: Difficulty::try_from(r.difficulty).unwrap_or(Difficulty::Unspecified),
        key: r.key.clone(),
        mode: KeyMode::try_from(r.mode).unwrap_or(KeyMode::Unspecified),
    }
}
