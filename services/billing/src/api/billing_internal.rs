//! `jazz.billing.v1.BillingInternalService` (internal): only service
//! principals may call it; user ids come in the request.

use std::sync::Arc;

use chrono::Utc;
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::billing::v1::billing_internal_service_server::BillingInternalService;
use jazz_contract::jazz::billing::v1::{
    ConsumeQuotaRequest, ConsumeQuotaResponse, FindResidueRequest, FindResidueResponse, GetDailyFiguresRequest,
    GetDailyFiguresResponse, GetUserSubscriptionRequest, GetUserSubscriptionResponse, HandleStripeEventRequest,
    HandleStripeEventResponse, HandleUserCreatedRequest, HandleUserCreatedResponse, ListAuditLogsRequest,
    ListAuditLogsResponse, PurgeUserRequest, PurgeUserResponse, RefundQuotaRequest, RefundQuotaResponse,
};
use jazz_platform::ServiceContext;
use jazz_platform::daily::{UtcDay, count, figure};
use jazz_platform::error::Violations;
use jazz_platform::ids::parse_id;
use jazz_platform::outbox::{events, mark_processed};
use jazz_platform::principal::principal_of;
use tonic::{Request, Response, Status};

use super::account::ensure_subscription;
use super::payments::Payments;
use super::plans::Plans;
use super::{audit_list, convert, purge, quota, stripe_webhook};
use crate::domain::subscription::View;
use crate::error::BillingError;
use crate::store::subscriptions;

/// Handlers of `BillingInternalService`.
pub struct BillingInternalApi {
    context: ServiceContext,
    payments: Arc<Payments>,
    /// The plan catalogue, kept between changes.
    plans: Plans,
    /// Signs the audit log's page tokens.
    pages: jazz_platform::page_token::PageSigner,
}

impl BillingInternalApi {
    /// Handlers over the service's shared context and its way to Stripe.
    pub fn new(context: ServiceContext, payments: Arc<Payments>, plans: Plans) -> Self {
        let pages = super::page::signer(&context);
        Self { context, payments, plans, pages }
    }
}

#[tonic::async_trait]
impl BillingInternalService for BillingInternalApi {
    async fn consume_quota(
        &self,
        request: Request<ConsumeQuotaRequest>,
    ) -> Result<Response<ConsumeQuotaResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        principal.require_service()?;
        let response = quota::consume(&self.context.pool, &self.plans, &principal, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    async fn refund_quota(
        &self,
        request: Request<RefundQuotaRequest>,
    ) -> Result<Response<RefundQuotaResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        principal.require_service()?;
        let response = quota::refund(&self.context.pool, &principal, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    async fn handle_stripe_event(
        &self,
        request: Request<HandleStripeEventRequest>,
    ) -> Result<Response<HandleStripeEventResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        principal.require_service()?;
        let response =
            stripe_webhook::handle(&self.context.pool, &self.payments, &principal, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    async fn handle_user_created(
        &self,
        request: Request<HandleUserCreatedRequest>,
    ) -> Result<Response<HandleUserCreatedResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        principal.require_service()?;
        jazz_platform::outbox::accept_version(events::USER_CREATED, request.get_ref().schema_version)?;
        let HandleUserCreatedRequest { event_id, user_id, created_at, schema_version: _ } = request.into_inner();
        let mut violations = Violations::new();
        let event_id = violations.check(parse_id("event_id", &event_id));
        let user_id = violations.check(parse_id("user_id", &user_id));
        let created_at = match created_at {
            None => Some(Utc::now()),
            Some(at) => {
                let parsed = convert::from_timestamp(&at);
                if parsed.is_none() {
                    violations.push(jazz_platform::error::FieldViolation::new("created_at", "is out of range"));
                }
                parsed
            }
        };
        violations.finish().map_err(BillingError::Invalid)?;
        let (Some(event_id), Some(user_id), Some(created_at)) = (event_id, user_id, created_at) else {
            return Err(BillingError::Invalid(Vec::new()).into());
        };
        let mut conn = self.context.pool.get().await.map_err(BillingError::from)?;
        let duplicate = conn
            .transaction(async |conn| {
                if !mark_processed(conn, event_id, events::USER_CREATED).await? {
                    return Ok::<_, BillingError>(true);
                }
                // Already made on first use: the event then changes nothing.
                ensure_subscription(conn, &principal, user_id, created_at).await?;
                Ok(false)
            })
            .await?;
        Ok(Response::new(HandleUserCreatedResponse { duplicate }))
    }

    async fn purge_user(&self, request: Request<PurgeUserRequest>) -> Result<Response<PurgeUserResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        principal.require_service()?;
        jazz_platform::outbox::accept_version(events::USER_PURGED, request.get_ref().schema_version)?;
        let response = purge::purge(&self.context.pool, &self.payments, &principal, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    async fn get_user_subscription(
        &self,
        request: Request<GetUserSubscriptionRequest>,
    ) -> Result<Response<GetUserSubscriptionResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let GetUserSubscriptionRequest { user_id } = request.into_inner();
        let user_id = parse_id("user_id", &user_id).map_err(|v| BillingError::Invalid(vec![v]))?;
        let now = Utc::now();
        let catalogue = self.plans.current_pooled(&self.context.pool).await?;
        let mut conn = self.context.pool.get().await.map_err(BillingError::from)?;
        let row = subscriptions::find_live(&mut conn, user_id)
            .await
            .map_err(BillingError::from)?
            .ok_or(BillingError::SubscriptionNotFound)?;
        let view = View::at(row, &catalogue, now)?;
        Ok(Response::new(GetUserSubscriptionResponse { subscription: Some(convert::subscription(&view)) }))
    }

    async fn list_audit_logs(
        &self,
        request: Request<ListAuditLogsRequest>,
    ) -> Result<Response<ListAuditLogsResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let response = audit_list::list(&self.context.pool, &self.pages, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    /// "new_subscriptions" (FREE → paid that day) and
    /// "canceled_subscriptions", each as a total and per tier.
    async fn get_daily_figures(
        &self,
        request: Request<GetDailyFiguresRequest>,
    ) -> Result<Response<GetDailyFiguresResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let day = UtcDay::parse("date", &request.into_inner().date).map_err(|v| BillingError::Invalid(vec![v]))?;
        let mut conn = self.context.pool.get().await.map_err(BillingError::from)?;
        let upgraded =
            subscriptions::upgraded_between(&mut conn, day.start, day.end).await.map_err(BillingError::from)?;
        let canceled =
            subscriptions::canceled_between(&mut conn, day.start, day.end).await.map_err(BillingError::from)?;
        let mut figures = Vec::new();
        for (name, counts) in [("new_subscriptions", upgraded), ("canceled_subscriptions", canceled)] {
            figures.push(figure(name, count(counts.iter().map(|c| c.count).sum()), &[]));
            figures.extend(counts.iter().map(|c| figure(name, count(c.count), &[("tier", &c.tier)])));
        }
        Ok(Response::new(GetDailyFiguresResponse { figures }))
    }

    async fn find_residue(
        &self,
        request: Request<FindResidueRequest>,
    ) -> Result<Response<FindResidueResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let FindResidueRequest { user_id, email } = request.into_inner();
        let columns =
            jazz_platform::residue::serve(&self.context.pool, "billing", &user_id, &email, crate::RESIDUE_KEPT).await?;
        Ok(Response::new(FindResidueResponse { columns }))
    }
}
