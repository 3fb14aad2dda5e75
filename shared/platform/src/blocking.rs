//! CPU-heavy or blocking work (argon2, batch generation, transposition)
//! run off the async runtime's worker threads, so one slow call does not
//! stall every other call on the same thread.

/// Runs `work` on tokio's blocking pool inside the caller's tracing span
/// (the span is not carried across threads by itself, and the work's logs
/// would lose their request). Fails only when the work panicked or the
/// runtime is shutting down; each service maps that to INTERNAL.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_off_the_runtime_and_panics_are_errors() {
        assert_eq!(blocking(|| 2 + 2).await.ok(), Some(4));
        let panicked = blocking(|| -> i32 { panic!("boom") }).await;
        assert!(panicked.is_err_and(|e| e.is_panic()));
    }
}
