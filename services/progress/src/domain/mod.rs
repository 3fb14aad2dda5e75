//! Pure rules: field parsing, calendar arithmetic in the user's zone,
//! session lengths, SM-2, page tokens. No I/O.

pub mod calendar;
pub mod fields;
pub mod mastery;
pub mod metrics;
pub mod practice;
pub mod recommend;
pub mod review;
pub mod scoring;
pub mod summary;
