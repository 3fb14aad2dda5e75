//! Stripe events as billing reads them: the envelope (`id`, `type`,
//! `created`) and, for the types billing acts on, the fields it needs. Pure
//! code; unknown fields are ignored and unknown types become
//! [`Effect::Ignored`]. Reads both the older API shape (period on the
//! subscription, `invoice.subscription`) and the 2025 one (period on the
//! item, `invoice.parent.subscription_details.subscription`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::tier::Status;

/// Longest Stripe id and event type stored (the columns' CHECKs).
const MAX_ID: usize = 255;
const MAX_TYPE: usize = 200;

/// The body is not a Stripe event we can read (the reason is for the log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Stripe event: {0}")]
pub struct PayloadError(pub &'static str);

/// One verified event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `evt_…`.
    pub id: String,
    /// e.g. `customer.subscription.updated`.
    pub event_type: String,
    /// Stripe's `created` (second precision): orders events.
    pub created: DateTime<Utc>,
    /// What billing does with it.
    pub effect: Effect,
}

/// What an event asks of billing.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `checkout.session.completed`: link the customer and subscription ids.
    CheckoutCompleted {
        /// Our user (`client_reference_id`, else `metadata.user_id`).
        user_id: Option<Uuid>,
        /// `cus_…`.
        customer: Option<String>,
        /// `sub_…`.
        subscription: Option<String>,
    },
    /// `customer.subscription.created|updated|deleted`: the state to mirror.
    Subscription(SubscriptionState),
    /// `invoice.payment_failed`: the subscription is past due.
    PaymentFailed {
        /// `sub_…`.
        subscription: Option<String>,
    },
    /// A type billing does not act on (recorded and acknowledged).
    Ignored,
}

/// A Stripe subscription's state.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionState {
    /// `sub_…`.
    pub id: String,
    /// `cus_…`.
    pub customer: Option<String>,
    /// Our user, from the metadata checkout put there.
    pub user_id: Option<Uuid>,
    /// Our status for Stripe's.
    pub status: Status,
    /// The first item's price.
    pub price_id: Option<String>,
    /// Current period start.
    pub period_start: Option<DateTime<Utc>>,
    /// Current period end.
    pub period_end: Option<DateTime<Utc>>,
    /// Ends at the period end.
    pub cancel_at_period_end: bool,
    /// When cancellation was requested.
    pub canceled_at: Option<DateTime<Utc>>,
    /// Trial start.
    pub trial_start: Option<DateTime<Utc>>,
    /// Trial end.
    pub trial_end: Option<DateTime<Utc>>,
}

/// Our status for a Stripe subscription status. `incomplete` (first
/// payment pending), `incomplete_expired` and `paused` grant nothing paid.
pub fn status_from_stripe(text: &str) -> Status {
    match text {
        "active" => Status::Active,
        "trialing" => Status::Trialing,
        "past_due" => Status::PastDue,
        "canceled" => Status::Canceled,
        "unpaid" => Status::Unpaid,
        _ => Status::Inactive,
    }
}

/// Parses a verified body.
pub fn parse(payload: &[u8]) -> Result<Event, PayloadError> {
    let value: Value = serde_json::from_slice(payload).map_err(|_| PayloadError("not JSON"))?;
    if value["object"].as_str().is_some_and(|o| o != "event") {
        return Err(PayloadError("object is not an event"));
    }
    let id = stripe_id(&value["id"]).ok_or(PayloadError("no id"))?;
    let event_type = value["type"]
        .as_str()
        .filter(|t| !t.is_empty() && t.len() <= MAX_TYPE && t.chars().all(|c| c.is_ascii_graphic()))
        .ok_or(PayloadError("no type"))?
        .to_owned();
    let created =
        value["created"].as_i64().and_then(|s| DateTime::from_timestamp(s, 0)).ok_or(PayloadError("no created"))?;
    let object = &value["data"]["object"];
    let effect = match event_type.as_str() {
        "checkout.session.completed" => Effect::CheckoutCompleted {
            user_id: user(&object["client_reference_id"]).or_else(|| user(&object["metadata"]["user_id"])),
            customer: stripe_id(&object["customer"]),
            subscription: stripe_id(&object["subscription"]),
        },
        "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted" => {
            Effect::Subscription(subscription(object)?)
        }
        "invoice.payment_failed" => Effect::PaymentFailed {
            subscription: stripe_id(&object["subscription"])
                .or_else(|| stripe_id(&object["parent"]["subscription_details"]["subscription"])),
        },
        _ => Effect::Ignored,
    };
    Ok(Event { id, event_type, created, effect })
}

fn subscription(object: &Value) -> Result<SubscriptionState, PayloadError> {
    let id = stripe_id(&object["id"]).ok_or(PayloadError("subscription without id"))?;
    let status = object["status"].as_str().ok_or(PayloadError("subscription without status"))?;
    let item = &object["items"]["data"][0];
    let period = |field: &str| time(&object[field]).or_else(|| time(&item[field]));
    Ok(SubscriptionState {
        id,
        customer: stripe_id(&object["customer"]),
        user_id: user(&object["metadata"]["user_id"]),
        status: status_from_stripe(status),
        price_id: stripe_id(&item["price"]["id"]).or_else(|| stripe_id(&item["price"])),
        period_start: period("current_period_start"),
        period_end: period("current_period_end"),
        cancel_at_period_end: object["cancel_at_period_end"].as_bool().unwrap_or(false),
        canceled_at: time(&object["canceled_at"]),
        trial_start: time(&object["trial_start"]),
        trial_end: time(&object["trial_end"]),
    })
}

/// A Stripe id: a string, or an expanded object's `id`; 1–255 printable
/// ASCII characters.
fn stripe_id(value: &Value) -> Option<String> {
    let text = value.as_str().or_else(|| value["id"].as_str())?;
    let ok = !text.is_empty() && text.len() <= MAX_ID && text.chars().all(|c| c.is_ascii_graphic());
    ok.then(|| text.to_owned())
}

fn user(value: &Value) -> Option<Uuid> {
    value.as_str().and_then(|text| jazz_platform::ids::parse_id("user_id", text).ok())
}

fn time(value: &Value) -> Option<DateTime<Utc>> {
    value.as_i64().and_then(|seconds| DateTime::from_timestamp(seconds, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subscription_events_of_both_api_shapes_are_read() -> Result<(), PayloadError> {
        let user = jazz_platform::ids::new_id();
        let old = json!({"id": "evt_1", "object": "event", "type": "customer.subscription.updated", "created": 1_700_000_100,
            "data": {"object": {"id": "sub_1", "customer": "cus_1", "status": "past_due", "cancel_at_period_end": true,
                "current_period_start": 1_700_000_000, "current_period_end": 1_702_592_000,
                "metadata": {"user_id": jazz_platform::ids::to_api(user)},
                "items": {"data": [{"price": {"id": "price_pro"}}]}}}});
        let event = parse(old.to_string().as_bytes())?;
        assert_eq!(event.created.timestamp(), 1_700_000_100);
        let Effect::Subscription(state) = event.effect else { panic!("not a subscription effect") };
        assert_eq!(
            (state.status, state.price_id.as_deref(), state.user_id),
            (Status::PastDue, Some("price_pro"), Some(user))
        );
        assert_eq!(state.period_end.map(|t| t.timestamp()), Some(1_702_592_000));
        assert!(state.cancel_at_period_end);

        let new = json!({"id": "evt_2", "type": "customer.subscription.created", "created": 1,
            "data": {"object": {"id": "sub_2", "status": "trialing", "trial_end": 5,
                "items": {"data": [{"price": {"id": "price_x"}, "current_period_start": 2, "current_period_end": 3}]}}}});
        let Effect::Subscription(state) = parse(new.to_string().as_bytes())?.effect else {
            panic!("not a subscription")
        };
        assert_eq!(state.status, Status::Trialing);
        assert_eq!(
            (state.period_start.map(|t| t.timestamp()), state.trial_end.map(|t| t.timestamp())),
            (Some(2), Some(5))
        );

        let invoice = json!({"id": "evt_3", "type": "invoice.payment_failed", "created": 1,
            "data": {"object": {"parent": {"subscription_details": {"subscription": "sub_9"}}}}});
        assert_eq!(
            parse(invoice.to_string().as_bytes())?.effect,
            Effect::PaymentFailed { subscription: Some("sub_9".into()) }
        );
        let other = json!({"id": "evt_4", "type": "charge.refunded", "created": 1, "data": {"object": {}}});
        assert_eq!(parse(other.to_string().as_bytes())?.effect, Effect::Ignored);
        Ok(())
    }

    #[test]
    fn non_events_are_refused() {
        for bad in [
            &b"not json"[..],
            br#"{"type":"x","created":1}"#,
            br#"{"id":"evt_1","created":1}"#,
            br#"{"id":"evt_1","type":"x"}"#,
            br#"{"id":"evt_1","type":"x","created":1,"object":"charge"}"#,
            br#"{"id":"evt_1","type":"customer.subscription.updated","created":1,"data":{"object":{}}}"#,
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(status_from_stripe("incomplete_expired"), Status::Inactive);
    }
}
