//! The feature-flag methods of `IdentityAdminService`: create (replayed by
//! `request_id`), update by FieldMask, get, list by name, delete. Every
//! call, reads included, leaves an audit entry (the service's contract:
//! operator tools are audited).

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::identity::v1::{
    CreateFeatureFlagRequest, CreateFeatureFlagResponse, DeleteFeatureFlagRequest, DeleteFeatureFlagResponse,
    GetFeatureFlagRequest, GetFeatureFlagResponse, ListFeatureFlagsRequest, ListFeatureFlagsResponse,
    UpdateFeatureFlagRequest, UpdateFeatureFlagResponse,
};
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::{FieldViolation, StoreError, Violations};
use jazz_platform::page_token::last_of_page;
use jazz_platform::replay::Replay;
use jazz_platform::{Principal, ServiceContext};

use super::support::request_id;
use super::{convert, page};
use crate::domain::flags;
use crate::error::IdentityError;
use crate::store::flags as store;
use crate::store::flags::FlagChanges;
use jazz_platform::json::struct_to_json;

use crate::domain::REPLAY_PREFIX;

fn conditions(value: Option<&prost_types::Struct>) -> Result<Option<serde_json::Value>, FieldViolation> {
    match value {
        None => Ok(None),
        Some(value) => flags::conditions("flag.conditions", struct_to_json("flag.conditions", value)?),
    }
}

/// CreateFeatureFlag.
pub async fn create(
    context: &ServiceContext,
    principal: &Principal,
    req: CreateFeatureFlagRequest,
) -> Result<CreateFeatureFlagResponse, IdentityError> {
    let CreateFeatureFlagRequest { flag, request_id: rid } = req;
    let flag = flag.unwrap_or_default();
    let mut v = Violations::new();
    let name = v.check(flags::name("flag.name", &flag.name));
    let values = FlagChanges {
        description: v.check(flags::description("flag.description", &flag.description)),
        is_enabled: Some(flag.is_enabled),
        rollout_percentage: v.check(flags::rollout("flag.rollout_percentage", flag.rollout_percentage)),
        conditions: v.check(conditions(flag.conditions.as_ref())),
    };
    let request_id = v.check(request_id("request_id", &rid)).flatten();
    v.finish().map_err(IdentityError::Invalid)?;
    let name = name.unwrap_or_default();
    // The digest covers the arguments, not the id itself.
    let arguments = CreateFeatureFlagRequest { flag: Some(flag), request_id: String::new() };
    let caller = principal.service.as_deref().unwrap_or_default();
    let replay = Replay::new(REPLAY_PREFIX, "CreateFeatureFlag", caller, request_id, &arguments);
    let mut conn = context.pool.get().await?;
    if let Some(first) = replay.first(&mut conn).await? {
        return Ok(first);
    }
    let result = conn
        .transaction(async |conn| {
            let row = store::insert(conn, &name, &values).await?;
            AuditEntry::new(principal, "CREATE", "feature_flags", Some(row.name.clone()))
                .with_change(None, Some(row.audit_json()))
                .write(conn)
                .await?;
            let response = CreateFeatureFlagResponse { flag: Some(convert::flag(&row)) };
            replay.remember(conn, &response).await?;
            Ok::<_, IdentityError>(response)
        })
        .await;
    match result {
        // A concurrent duplicate that committed first inserted the same
        // name: its answer, if it was one (else the name is taken).
        Err(IdentityError::Store(StoreError::UniqueViolation(c))) => match replay.first(&mut conn).await? {
            Some(first) => Ok(first),
            None if c == "idx_feature_flags_name" => Err(IdentityError::AlreadyExists("feature flag")),
            None => Err(IdentityError::Store(StoreError::UniqueViolation(c))),
        },
        other => replay.settle(&mut conn, other).await,
    }
}

/// UpdateFeatureFlag: the fields named in the mask.
pub async fn update(
    context: &ServiceContext,
    principal: &Principal,
    req: UpdateFeatureFlagRequest,
) -> Result<UpdateFeatureFlagResponse, IdentityError> {
    let UpdateFeatureFlagRequest { flag, update_mask } = req;
    let flag = flag.unwrap_or_default();
    let paths = update_mask.map(|m| m.paths).unwrap_or_default();
    let mut v = Violations::new();
    let name = v.check(flags::name("flag.name", &flag.name));
    if paths.is_empty() {
        v.push(FieldViolation::new("update_mask", "must name at least one field"));
    }
    let mut changes = FlagChanges::default();
    for path in &paths {
        match path.as_str() {
            "description" => changes.description = v.check(flags::description("flag.description", &flag.description)),
            "is_enabled" => changes.is_enabled = Some(flag.is_enabled),
            "rollout_percentage" => {
                changes.rollout_percentage =
                    v.check(flags::rollout("flag.rollout_percentage", flag.rollout_percentage));
            }
            "conditions" => changes.conditions = v.check(conditions(flag.conditions.as_ref())),
            other => v.push(FieldViolation::new(
                "update_mask",
                format!(
                    "{other:?} cannot be changed; allowed: description, is_enabled, rollout_percentage, conditions"
                ),
            )),
        }
    }
    v.finish().map_err(IdentityError::Invalid)?;
    let name = name.unwrap_or_default();
    let mut conn = context.pool.get().await?;
    let row = conn
        .transaction(async |conn| {
            let before = store::get(conn, &name, true).await?.ok_or(IdentityError::NotFound("feature flag"))?;
            let after = store::update(conn, before.id, &changes).await?;
            AuditEntry::new(principal, "UPDATE", "feature_flags", Some(after.name.clone()))
                .with_change(Some(before.audit_json()), Some(after.audit_json()))
                .write(conn)
                .await?;
            Ok::<_, IdentityError>(after)
        })
        .await?;
    Ok(UpdateFeatureFlagResponse { flag: Some(convert::flag(&row)) })
}

/// GetFeatureFlag.
pub async fn get(
    context: &ServiceContext,
    principal: &Principal,
    req: GetFeatureFlagRequest,
) -> Result<GetFeatureFlagResponse, IdentityError> {
    let GetFeatureFlagRequest { name } = req;
    let name = flags::name("name", &name).map_err(|v| IdentityError::Invalid(vec![v]))?;
    let mut conn = context.pool.get().await?;
    let row = conn
        .transaction(async |conn| {
            let row = store::get(conn, &name, false).await?.ok_or(IdentityError::NotFound("feature flag"))?;
            AuditEntry::new(principal, "READ", "feature_flags", Some(row.name.clone())).write(conn).await?;
            Ok::<_, IdentityError>(row)
        })
        .await?;
    Ok(GetFeatureFlagResponse { flag: Some(convert::flag(&row)) })
}

/// ListFeatureFlags, by name.
pub async fn list(
    context: &ServiceContext,
    principal: &Principal,
    req: ListFeatureFlagsRequest,
) -> Result<ListFeatureFlagsResponse, IdentityError> {
    let ListFeatureFlagsRequest { page_size, page_token } = req;
    let size = jazz_platform::fields::page_size(page_size)?;
    let after = match page::decode(context, &page_token, "flags", "", 1)? {
        None => None,
        Some(parts) => match parts.as_slice() {
            [name] => Some(flags::name("page_token", name).map_err(|_| page::invalid_token())?),
            _ => return Err(page::invalid_token()),
        },
    };
    let mut conn = context.pool.get().await?;
    let mut rows = conn
        .transaction(async |conn| {
            let rows = store::page(conn, after.as_deref(), size + 1).await?;
            AuditEntry::new(principal, "LIST", "feature_flags", None).write(conn).await?;
            Ok::<_, IdentityError>(rows)
        })
        .await?;
    let next_page_token = match last_of_page(&mut rows, size) {
        Some(last) => page::encode(context, "flags", "", &[&last.name]),
        None => String::new(),
    };
    Ok(ListFeatureFlagsResponse { flags: rows.iter().map(convert::flag).collect(), next_page_token })
}

/// DeleteFeatureFlag (hard delete).
pub async fn delete(
    context: &ServiceContext,
    principal: &Principal,
    req: DeleteFeatureFlagRequest,
) -> Result<DeleteFeatureFlagResponse, IdentityError> {
    let DeleteFeatureFlagRequest { name } = req;
    let name = flags::name("name", &name).map_err(|v| IdentityError::Invalid(vec![v]))?;
    let mut conn = context.pool.get().await?;
    conn.transaction(async |conn| {
        let before = store::get(conn, &name, true).await?.ok_or(IdentityError::NotFound("feature flag"))?;
        store::delete(conn, before.id).await?;
        AuditEntry::new(principal, "DELETE", "feature_flags", Some(before.name.clone()))
            .with_change(Some(before.audit_json()), None)
            .write(conn)
            .await?;
        Ok::<_, IdentityError>(())
    })
    .await?;
    Ok(DeleteFeatureFlagResponse {})
}
