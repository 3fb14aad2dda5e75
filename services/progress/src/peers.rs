//! Calls to peer services: content (is an item visible to the caller, and
//! of what type), identity (the user's time zone) and, for the metrics job,
//! every owner's daily figures; over the platform's [`Peer`] (the caller's
//! deadline, progress's service principal).

use jazz_contract::jazz::billing::v1 as billing_pb;
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_contract::jazz::common::v1::{ContentType, DailyFigure, Difficulty, KeyMode, SkillLevel};
use jazz_contract::jazz::content::v1 as content_pb;
use jazz_contract::jazz::content::v1::content_internal_service_client::ContentInternalServiceClient;
use jazz_contract::jazz::content::v1::{
    BatchGetContentRefsRequest, ContentRef, GetContentRefRequest, GetExpectedNotesRequest, GetExpectedNotesResponse,
};
use jazz_contract::jazz::identity::v1 as identity_pb;
use jazz_contract::jazz::identity::v1::GetUserRequest;
use jazz_contract::jazz::identity::v1::identity_internal_service_client::IdentityInternalServiceClient;
use jazz_platform::PrincipalKey;
use jazz_platform::config::PeerUrls;
use jazz_platform::daily::UtcDay;
use jazz_platform::ids::to_api;
use jazz_platform::peer::Peer;
use tonic::Code;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::error::ProgressError;
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

/// Clients of content, identity and billing.
#[derive(Clone)]
pub struct Peers {
    content: Peer,
    identity: Peer,
    billing: Peer,
}

/// A service that reports daily figures to the metrics job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Users and sessions.
    Identity,
    /// Subscriptions.
    Billing,
    /// Generations.
    Content,
}

fn unavailable(peer: &'static str, status: &tonic::Status) -> ProgressError {
    ProgressError::PeerUnavailable { peer, reason: format!("{:?}: {}", status.code(), status.message()) }
}

impl Peers {
    /// Clients of the peers at these URLs (connected on first use).
    pub fn new(urls: &PeerUrls, key: &PrincipalKey) -> Self {
        let peer = |name, url: &str| Peer::new(name, url, "progress", key.clone());
        Self {
            content: peer("content", &urls.content),
            identity: peer("identity", &urls.identity),
            billing: peer("billing", &urls.billing),
        }
    }

    /// `owner`'s figures of `day`; UNAVAILABLE when it cannot answer.
    pub async fn daily_figures(&self, owner: Owner, day: &UtcDay) -> Result<Vec<DailyFigure>, ProgressError> {
        let date = day.to_api();
        let peer = match owner {
            Owner::Identity => &self.identity,
            Owner::Billing => &self.billing,
            Owner::Content => &self.content,
        };
        let failed = |status: tonic::Status| unavailable(peer.name(), &status);
        let channel = peer
            .channel()
            .ok_or_else(|| ProgressError::PeerUnavailable { peer: peer.name(), reason: "no URL".into() })?;
        let figures = match owner {
            Owner::Identity => {
                let request = peer.request(identity_pb::GetDailyFiguresRequest { date });
                IdentityInternalServiceClient::new(channel)
                    .get_daily_figures(request)
                    .await
                    .map_err(failed)?
                    .into_inner()
                    .figures
            }
            Owner::Billing => {
                let request = peer.request(billing_pb::GetDailyFiguresRequest { date });
                BillingInternalServiceClient::new(channel)
                    .get_daily_figures(request)
                    .await
                    .map_err(failed)?
                    .into_inner()
                    .figures
            }
            Owner::Content => {
                let request = peer.request(content_pb::GetDailyFiguresRequest { date });
                ContentInternalServiceClient::new(channel)
                    .get_daily_figures(request)
                    .await
                    .map_err(failed)?
                    .into_inner()
                    .figures
            }
        };
        Ok(figures)
    }

    fn content(&self) -> Result<ContentInternalServiceClient<Channel>, ProgressError> {
        self.content
            .channel()
            .map(ContentInternalServiceClient::new)
            .ok_or_else(|| ProgressError::PeerUnavailable { peer: "content", reason: "no URL".into() })
    }

    /// The item if it exists and `user` may see it; NOT_FOUND otherwise,
    /// UNAVAILABLE when content cannot answer.
    pub async fn visible_item(&self, user: Uuid, item: Uuid) -> Result<ItemFacts, ProgressError> {
        let message = GetContentRefRequest { content_id: to_api(item), user_id: to_api(user) };
        let response = self.content()?.get_content_ref(self.content.request(message)).await.map_err(content_failed)?;
        visible_facts(response.into_inner().r#ref.as_ref())
    }

    /// The item's facts and its expected notes if it exists and `user` may
    /// see it; NOT_FOUND otherwise, UNAVAILABLE when content cannot answer.
    pub async fn expected_notes(
        &self,
        user: Uuid,
        item: Uuid,
    ) -> Result<(ItemFacts, GetExpectedNotesResponse), ProgressError> {
        let message = GetExpectedNotesRequest { content_id: to_api(item), user_id: to_api(user) };
        let response = self
            .content()?
            .get_expected_notes(self.content.request(message))
            .await
            .map_err(content_failed)?
            .into_inner();
        Ok((visible_facts(response.r#ref.as_ref())?, response))
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
                .batch_get_content_refs(self.content.request(message))
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
        let Some(channel) = self.identity.channel() else { return "UTC".into() };
        let message = GetUserRequest { user_id: to_api(user) };
        match IdentityInternalServiceClient::new(channel).get_user(self.identity.request(message)).await {
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
        let Some(channel) = self.identity.channel() else { return fallback() };
        let message = GetUserRequest { user_id: to_api(user) };
        match IdentityInternalServiceClient::new(channel).get_user(self.identity.request(message)).await {
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

/// The facts of a reference `user` may see; NOT_FOUND for an unknown or
/// hidden item.
fn visible_facts(r: Option<&ContentRef>) -> Result<ItemFacts, ProgressError> {
    match r {
        Some(r) if r.exists && r.visible => Ok(facts(r)),
        _ => Err(ProgressError::ContentNotFound),
    }
}

/// A failed content call: NOT_FOUND for an id content refuses, UNAVAILABLE
/// otherwise.
fn content_failed(status: tonic::Status) -> ProgressError {
    match status.code() {
        Code::NotFound | Code::InvalidArgument => ProgressError::ContentNotFound,
        _ => unavailable("content", &status),
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
