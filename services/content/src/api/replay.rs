//! Content's `request_id` replay scopes; the replay itself is the
//! platform's ([`jazz_platform::replay`]).

use jazz_platform::ids::to_api;
use jazz_platform::replay::Replay;
use prost::Message;
use uuid::Uuid;

/// What every content replay scope starts with (the purge forgets them).
pub const SCOPE_PREFIX: &str = "content.";

/// The replay key of `method` called by `user` with `arguments`.
pub fn of(method: &str, user: Uuid, key: Option<String>, arguments: &impl Message) -> Replay {
    Replay::new(SCOPE_PREFIX, method, &to_api(user), key, arguments)
}
