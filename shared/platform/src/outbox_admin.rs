//! `jazz.common.v1.OutboxAdminService`, implemented once for every service
//! that has an outbox (identity, billing, content serve it over their own
//! database): list the dead and lagging events, re-drive chosen ones or
//! every dead one. Service principals only, like the other admin services;
//! each re-drive writes its audit entry in the same transaction.
//!
//! A re-drive makes an event due now (`pending`, `next_attempt_at = now()`)
//! unless a relay holds its lease (`leased_until` in the future): the row
//! lock the relay's claim takes and the re-checked condition mean a
//! re-driven event is claimed by one relay, so it is delivered once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use jazz_contract::jazz::common::v1 as pb;
use jazz_contract::jazz::common::v1::outbox_admin_service_server::{OutboxAdminService, OutboxAdminServiceServer};
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::app::ServiceContext;
use crate::audit::AuditEntry;
use crate::db::DbPool;
use crate::error::{FieldViolation, StoreError, Violations};
use crate::fields::{page_size, timestamp};
use crate::ids::{parse_id, to_api};
use crate::page_token::{PageSigner, last_of_page};
use crate::principal::{Principal, principal_of};
use crate::schema::outbox_events;

/// A pending event is lagging once it has failed or is older than this.
pub const LAGGING_AFTER: Duration = Duration::from_secs(60);
/// Most events one re-drive names or takes (`all_dead`).
pub const MAX_REDRIVE: usize = 500;

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboxAdminError {
    /// Request fields broke their rules.
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldViolation>),
    /// A page token not issued for this filter.
    #[error("invalid page token")]
    InvalidPageToken,
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::service_error!(OutboxAdminError);

impl From<OutboxAdminError> for Status {
    fn from(error: OutboxAdminError) -> Self {
        match error {
            OutboxAdminError::Invalid(violations) => crate::error::invalid_argument(&violations),
            OutboxAdminError::InvalidPageToken => crate::error::invalid_page_token("outbox"),
            OutboxAdminError::Store(store) => store.into(),
        }
    }
}

/// An undelivered event as the list reads it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox_events)]
struct Row {
    id: Uuid,
    event_type: String,
    aggregate_id: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
    leased_until: Option<DateTime<Utc>>,
}

impl Row {
    fn into_api(self, now: DateTime<Utc>) -> pb::OutboxEvent {
        let dead = self.status == "dead";
        let state = if dead { pb::OutboxEventState::Dead } else { pb::OutboxEventState::Lagging };
        pb::OutboxEvent {
            id: to_api(self.id),
            event_type: self.event_type,
            aggregate_id: self.aggregate_id,
            state: state.into(),
            attempts: self.attempts,
            last_error: self.last_error.unwrap_or_default(),
            created_at: Some(timestamp(self.created_at)),
            next_attempt_at: (!dead).then(|| timestamp(self.next_attempt_at)),
            leased_until: self.leased_until.filter(|until| *until > now).map(timestamp),
        }
    }
}

/// Handlers of `OutboxAdminService` over one service's outbox.
pub struct OutboxAdminApi {
    pool: DbPool,
    pages: PageSigner,
}

impl OutboxAdminApi {
    /// Handlers over `context`'s database; page tokens signed for its
    /// service (a token of one service's outbox is refused by another's).
    pub fn new(context: &ServiceContext) -> Self {
        let service = context.config.service.as_str();
        Self { pool: context.pool.clone(), pages: PageSigner::new(&context.config.principal_secret, service) }
    }

    /// The name health reports on.
    pub const NAME: &'static str = OutboxAdminServiceServer::<OutboxAdminApi>::NAME;

    /// Adds the service, behind the principal check, to a service's `routes`.
    pub fn route(context: &ServiceContext, routes: Routes) -> Routes {
        routes.add_service(InterceptedService::new(
            OutboxAdminServiceServer::new(Self::new(context))
                .max_decoding_message_size(context.config.limits.max_decoding_message_size),
            context.interceptor.clone(),
        ))
    }

    async fn list(
        &self,
        request: pb::ListOutboxEventsRequest,
    ) -> Result<pb::ListOutboxEventsResponse, OutboxAdminError> {
        let pb::ListOutboxEventsRequest { state, page_size: size, page_token } = request;
        let mut violations = Violations::new();
        let state = violations
            .check(pb::OutboxEventState::try_from(state).map_err(|_| FieldViolation::new("state", "unknown state")));
        let size = violations.check(page_size(size));
        violations.finish().map_err(OutboxAdminError::Invalid)?;
        let (state, size) = (state.unwrap_or_default(), size.unwrap_or(crate::fields::DEFAULT_PAGE_SIZE));
        let binding = format!("outbox;{}", state.as_str_name());
        let after = if page_token.is_empty() {
            None
        } else {
            let parts = self.pages.decode(&binding, &page_token, 2).map_err(|_| OutboxAdminError::InvalidPageToken)?;
            Some(crate::audit_list::position_of(&parts).ok_or(OutboxAdminError::InvalidPageToken)?)
        };
        let now = Utc::now();
        let lagging_before = now - chrono::Duration::from_std(LAGGING_AFTER).unwrap_or_default();
        let mut conn = self.pool.get().await?;
        let mut rows = undelivered(&mut conn, state, lagging_before, after, size + 1).await?;
        let next_page_token = match last_of_page(&mut rows, size) {
            Some(last) => {
                self.pages.encode(&binding, &[last.created_at.timestamp_micros().to_string(), to_api(last.id)])
            }
            None => String::new(),
        };
        Ok(pb::ListOutboxEventsResponse {
            events: rows.into_iter().map(|row| row.into_api(now)).collect(),
            next_page_token,
        })
    }

    async fn redrive(
        &self,
        principal: &Principal,
        request: pb::RedriveOutboxEventsRequest,
    ) -> Result<pb::RedriveOutboxEventsResponse, OutboxAdminError> {
        let pb::RedriveOutboxEventsRequest { event_ids, all_dead } = request;
        let ids = redrive_ids(&event_ids, all_dead).map_err(OutboxAdminError::Invalid)?;
        let mut conn = self.pool.get().await?;
        conn.transaction(async |conn| {
            let (chosen, more_dead) = match ids {
                Some(ids) => (ids, false),
                None => {
                    let mut dead = oldest_dead(conn, MAX_REDRIVE + 1).await?;
                    let more = dead.len() > MAX_REDRIVE;
                    dead.truncate(MAX_REDRIVE);
                    (dead, more)
                }
            };
            let mut redriven = make_due(conn, &chosen).await?;
            redriven.sort();
            let event_ids: Vec<String> = redriven.into_iter().map(to_api).collect();
            AuditEntry::new(principal, "REDRIVE", "outbox_events", None)
                .with_change(None, Some(serde_json::json!({ "event_ids": event_ids, "all_dead": all_dead })))
                .write(conn)
                .await?;
            tracing::info!(count = event_ids.len(), all_dead, "outbox events re-driven");
            Ok(pb::RedriveOutboxEventsResponse { event_ids, more_dead })
        })
        .await
    }
}

/// The ids a re-drive names (`None`: every dead one), or what is wrong.
fn redrive_ids(event_ids: &[String], all_dead: bool) -> Result<Option<Vec<Uuid>>, Vec<FieldViolation>> {
    match (event_ids.is_empty(), all_dead) {
        (true, true) => return Ok(None),
        (false, true) => return Err(vec![FieldViolation::new("event_ids", "must be empty when all_dead is set")]),
        (true, false) => return Err(vec![FieldViolation::new("event_ids", "name 1–500 events, or set all_dead")]),
        (false, false) if event_ids.len() > MAX_REDRIVE => {
            return Err(vec![FieldViolation::new("event_ids", "must name at most 500 events")]);
        }
        (false, false) => {}
    }
    let mut violations = Violations::new();
    let ids: Vec<Uuid> = event_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| violations.check(parse_id(&format!("event_ids[{i}]"), id)))
        .collect();
    violations.finish()?;
    Ok(Some(ids))
}

/// Dead and/or lagging events after `after`, oldest first.
async fn undelivered(
    conn: &mut AsyncPgConnection,
    state: pb::OutboxEventState,
    lagging_before: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Row>> {
    use outbox_events::dsl as e;
    let lagging = e::status.eq("pending").and(e::attempts.gt(0).or(e::created_at.lt(lagging_before)));
    let mut query = outbox_events::table.select(Row::as_select()).into_boxed();
    query = match state {
        pb::OutboxEventState::Dead => query.filter(e::status.eq("dead")),
        pb::OutboxEventState::Lagging => query.filter(lagging),
        pb::OutboxEventState::Unspecified => query.filter(e::status.eq("dead").or(lagging)),
    };
    if let Some((at, id)) = after {
        query = query.filter(e::created_at.gt(at).or(e::created_at.eq(at).and(e::id.gt(id))));
    }
    query.order((e::created_at.asc(), e::id.asc())).limit(limit).load(conn).await
}

/// The ids of up to `limit` dead events, oldest first, locked.
async fn oldest_dead(conn: &mut AsyncPgConnection, limit: usize) -> QueryResult<Vec<Uuid>> {
    use outbox_events::dsl as e;
    e::outbox_events
        .filter(e::status.eq("dead"))
        .order((e::created_at.asc(), e::id.asc()))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .select(e::id)
        .for_update()
        .load(conn)
        .await
}

/// Makes the undelivered, unleased events among `ids` due now; returns
/// their ids.
async fn make_due(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    use diesel::sql_types::{Array, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "UPDATE outbox_events SET status = 'pending', next_attempt_at = now() \
          WHERE id = ANY($1) AND (status = 'dead' \
                OR (status = 'pending' AND (leased_until IS NULL OR leased_until <= now()))) \
          RETURNING id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// The calling service's principal, or PERMISSION_DENIED for anyone else.
fn service<T>(request: &Request<T>) -> Result<Principal, Status> {
    let principal = principal_of(request)?;
    principal.require_service()?;
    Ok(principal.clone())
}

#[tonic::async_trait]
impl OutboxAdminService for OutboxAdminApi {
    async fn list_outbox_events(
        &self,
        request: Request<pb::ListOutboxEventsRequest>,
    ) -> Result<Response<pb::ListOutboxEventsResponse>, Status> {
        service(&request)?;
        Ok(Response::new(self.list(request.into_inner()).await?))
    }

    async fn redrive_outbox_events(
        &self,
        request: Request<pb::RedriveOutboxEventsRequest>,
    ) -> Result<Response<pb::RedriveOutboxEventsResponse>, Status> {
        let principal = service(&request)?;
        Ok(Response::new(self.redrive(&principal, request.into_inner()).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redrive_names_its_events_or_all_dead_never_both() {
        let id = to_api(crate::ids::new_id());
        assert_eq!(redrive_ids(&[], true), Ok(None));
        assert!(redrive_ids(std::slice::from_ref(&id), false).is_ok_and(|ids| ids.map(|v| v.len()) == Some(1)));
        let field = |result: Result<Option<Vec<Uuid>>, Vec<FieldViolation>>| {
            result.err().map(|v| v.iter().map(|v| v.field.clone()).collect::<Vec<_>>())
        };
        assert_eq!(field(redrive_ids(&[], false)), Some(vec!["event_ids".to_owned()]));
        assert_eq!(field(redrive_ids(std::slice::from_ref(&id), true)), Some(vec!["event_ids".to_owned()]));
        assert_eq!(field(redrive_ids(&vec![id.clone(); 501], false)), Some(vec!["event_ids".to_owned()]));
        assert_eq!(field(redrive_ids(&[id, "nope".into()], false)), Some(vec!["event_ids[1]".to_owned()]));
    }
}
