//! Billing's rules as pure logic, no I/O: tiers and statuses, the plan
//! catalogue and its entitlements, billing periods, and the quota decision.
//! Nothing here touches the database or gRPC.

pub mod catalogue;
pub mod period;
pub mod quota;
pub mod redirect;
pub mod request;
pub mod subscription;
pub mod tier;
