//! `jazz.billing.v1.BillingService` (public). The user is the principal's;
//! requests never carry a user id. Checkout, portal and cancel/resume's
//! Stripe side are in `checkout.rs` and `cancel.rs`.

use std::sync::Arc;

use chrono::Utc;
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::billing::v1::billing_service_server::BillingService;
use jazz_contract::jazz::billing::v1::{
    CancelSubscriptionRequest, CancelSubscriptionResponse, GetSubscriptionRequest, GetSubscriptionResponse,
    GetUsageRequest, GetUsageResponse, ListPlansRequest, ListPlansResponse, OpenBillingPortalRequest,
    OpenBillingPortalResponse, ResumeSubscriptionRequest, ResumeSubscriptionResponse, StartCheckoutRequest,
    StartCheckoutResponse,
};
use jazz_platform::ServiceContext;
use jazz_platform::page_token::PageSigner;
use jazz_platform::principal::principal_of;
use tonic::{Request, Response, Status};

use super::account::subscription_of;
use super::payments::Payments;
use super::plans::Plans;
use super::{cancel, checkout, convert, page};
use crate::domain::subscription::View;
use crate::domain::tier::Tier;
use crate::error::BillingError;
use crate::store::usage;

/// The page-token binding of ListPlans (one list for every caller).
const PLANS: &str = "ListPlans";

/// Handlers of `BillingService`.
pub struct BillingApi {
    context: ServiceContext,
    payments: Arc<Payments>,
    /// The plan catalogue, kept between changes.
    plans: Plans,
    /// Signs ListPlans' page tokens.
    pages: PageSigner,
}

impl BillingApi {
    /// Handlers over the service's shared context and its way to Stripe.
    pub fn new(context: ServiceContext, payments: Arc<Payments>, plans: Plans) -> Self {
        let pages = page::signer(&context);
        Self { context, payments, plans, pages }
    }

    /// Cancel (`cancel` true) or resume the caller's paid subscription.
    async fn set_cancel(&self, request: &Request<impl Send>, cancel: bool) -> Result<View, Status> {
        let principal = principal_of(request)?;
        let user_id = principal.require_user()?;
        Ok(cancel::set_cancel(&self.context.pool, &self.payments, principal, user_id, cancel).await?)
    }
}

#[tonic::async_trait]
impl BillingService for BillingApi {
    async fn list_plans(&self, request: Request<ListPlansRequest>) -> Result<Response<ListPlansResponse>, Status> {
        principal_of(&request)?; // no session needed, but the gateway vouches for the call
        let ListPlansRequest { page_size, page_token } = request.into_inner();
        let size = usize::try_from(jazz_platform::fields::page_size(page_size).map_err(BillingError::from)?)
            .unwrap_or(usize::MAX);
        let after = if page_token.is_empty() {
            None
        } else {
            let parts = self.pages.decode(PLANS, &page_token, 1).map_err(BillingError::from)?;
            let tier = parts.first().and_then(|tier| Tier::parse(tier));
            Some(tier.ok_or(BillingError::InvalidPageToken)?)
        };
        let catalogue = self.plans.current_pooled(&self.context.pool).await?;
        let rest: Vec<_> =
            catalogue.plans().iter().filter(|plan| after.is_none_or(|after| plan.tier > after)).collect();
        let page: Vec<_> = rest.iter().take(size).collect();
        let next_page_token = match page.last() {
            Some(last) if rest.len() > page.len() => self.pages.encode(PLANS, &[last.tier.as_str().to_owned()]),
            _ => String::new(),
        };
        let plans = page.into_iter().map(|plan| convert::plan(plan, &catalogue)).collect();
        Ok(Response::new(ListPlansResponse { plans, next_page_token }))
    }

    async fn get_subscription(
        &self,
        request: Request<GetSubscriptionRequest>,
    ) -> Result<Response<GetSubscriptionResponse>, Status> {
        let principal = principal_of(&request)?;
        let user_id = principal.require_user()?;
        let now = Utc::now();
        let mut conn = self.context.pool.get().await.map_err(BillingError::from)?;
        let view = conn
            .transaction(async |conn| {
                let catalogue = self.plans.current(conn).await?;
                let row = subscription_of(conn, principal, user_id, now, false).await?;
                View::at(row, &catalogue, now)
            })
            .await?;
        Ok(Response::new(GetSubscriptionResponse { subscription: Some(convert::subscription(&view)) }))
    }

    async fn cancel_subscription(
        &self,
        request: Request<CancelSubscriptionRequest>,
    ) -> Result<Response<CancelSubscriptionResponse>, Status> {
        let view = self.set_cancel(&request, true).await?;
        Ok(Response::new(CancelSubscriptionResponse { subscription: Some(convert::subscription(&view)) }))
    }

    async fn resume_subscription(
        &self,
        request: Request<ResumeSubscriptionRequest>,
    ) -> Result<Response<ResumeSubscriptionResponse>, Status> {
        let view = self.set_cancel(&request, false).await?;
        Ok(Response::new(ResumeSubscriptionResponse { subscription: Some(convert::subscription(&view)) }))
    }

    async fn start_checkout(
        &self,
        request: Request<StartCheckoutRequest>,
    ) -> Result<Response<StartCheckoutResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        let user_id = principal.require_user()?;
        let response =
            checkout::start(&self.context.pool, &self.payments, &principal, user_id, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    async fn open_billing_portal(
        &self,
        request: Request<OpenBillingPortalRequest>,
    ) -> Result<Response<OpenBillingPortalResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        let user_id = principal.require_user()?;
        let response =
            checkout::portal(&self.context.pool, &self.payments, &principal, user_id, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    async fn get_usage(&self, request: Request<GetUsageRequest>) -> Result<Response<GetUsageResponse>, Status> {
        let principal = principal_of(&request)?;
        let user_id = principal.require_user()?;
        let now = Utc::now();
        let mut conn = self.context.pool.get().await.map_err(BillingError::from)?;
        let (catalogue, view, used) = conn
            .transaction(async |conn| {
                let catalogue = self.plans.current(conn).await?;
                let row = subscription_of(conn, principal, user_id, now, false).await?;
                let view = View::at(row, &catalogue, now)?;
                let used = usage::used_by_feature(conn, view.row.id, view.period).await?;
                Ok::<_, BillingError>((catalogue, view, used))
            })
            .await?;
        let features = catalogue
            .known_features()
            .into_iter()
            .map(|feature| {
                let used = used.iter().find(|(f, _)| f == feature).and_then(|(_, n)| *n).unwrap_or(0);
                convert::feature_usage(feature, catalogue.limit(view.effective, feature), used)
            })
            .collect();
        Ok(Response::new(GetUsageResponse {
            effective_tier: view.effective.to_api().into(),
            period_start: Some(convert::timestamp(view.period.start)),
            period_end: Some(convert::timestamp(view.period.end)),
            features,
        }))
    }
}
