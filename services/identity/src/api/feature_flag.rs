//! `jazz.identity.v1.FeatureFlagService` (public, needs a session): flags
//! evaluated for the caller with a stable rollout bucket and conditions on
//! skill level, tier and locale. The tier is billing's: identity keeps a
//! copy from billing's `subscription_changed` events (`user_tiers`); a user
//! billing has not reported a change for is on FREE, where every
//! subscription starts.

use std::collections::HashMap;

use jazz_contract::jazz::common::v1::SubscriptionTier;
use jazz_contract::jazz::identity::v1::feature_flag_service_server::FeatureFlagService;
use jazz_contract::jazz::identity::v1::{EvaluateFlagsRequest, EvaluateFlagsResponse, FlagValue};
use jazz_platform::ServiceContext;
use jazz_platform::error::{FieldViolation, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::convert::skill_from_db;
use super::user::caller;
use crate::domain::flags::{Audience, is_on, user_key};
use crate::error::IdentityError;
use crate::store::models::UserRow;
use crate::store::{flags, tiers, users};

/// Most names per call.
const MAX_NAMES: usize = 100;

/// Handlers of `FeatureFlagService`.
pub struct FeatureFlagApi {
    context: ServiceContext,
}

impl FeatureFlagApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }

    async fn evaluate(&self, user_id: Uuid, names: Vec<String>) -> Result<EvaluateFlagsResponse, IdentityError> {
        if names.len() > MAX_NAMES {
            return Err(IdentityError::field("names", "must hold at most 100 names"));
        }
        let mut v = Violations::new();
        for (i, name) in names.iter().enumerate() {
            let ok = (1..=100).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
            if !ok {
                v.push(FieldViolation::new(format!("names[{i}]"), "must be 1-100 characters of a-z, 0-9, _, . and -"));
            }
        }
        v.finish().map_err(IdentityError::Invalid)?;
        let mut conn = self.context.pool.get().await?;
        let user =
            users::by_id(&mut conn, user_id).await?.filter(UserRow::is_live).ok_or(IdentityError::SessionInvalid)?;
        let profile = users::profile(&mut conn, user_id).await?;
        let tier =
            tiers::of(&mut conn, user_id).await?.unwrap_or_else(|| SubscriptionTier::Free.as_str_name().to_owned());
        let rows = flags::load(&mut conn, &names).await?;
        let audience = Audience {
            user_id: user_key(user_id),
            skill_level: skill_from_db(&profile.skill_level).as_str_name().to_owned(),
            tier: Some(tier),
            locale: user.locale.clone(),
        };
        let value = |row: &crate::store::models::FlagRow| {
            is_on(&row.name, row.is_enabled, row.rollout_percentage, row.conditions.as_ref(), &audience)
        };
        let flags = if names.is_empty() {
            rows.iter().map(|row| FlagValue { name: row.name.clone(), enabled: value(row) }).collect()
        } else {
            let by_name: HashMap<&str, bool> = rows.iter().map(|row| (row.name.as_str(), value(row))).collect();
            names
                .iter()
                .map(|name| FlagValue {
                    name: name.clone(),
                    enabled: by_name.get(name.as_str()).copied().unwrap_or(false),
                })
                .collect()
        };
        Ok(EvaluateFlagsResponse { flags })
    }
}

#[tonic::async_trait]
impl FeatureFlagService for FeatureFlagApi {
    async fn evaluate_flags(
        &self,
        request: Request<EvaluateFlagsRequest>,
    ) -> Result<Response<EvaluateFlagsResponse>, Status> {
        let (_, user_id) = caller(&request)?;
        let EvaluateFlagsRequest { names } = request.into_inner();
        Ok(Response::new(self.evaluate(user_id, names).await?))
    }
}
