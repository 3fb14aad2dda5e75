//! The identity service binary: `identity [serve | migrate [--status]]`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    jazz_platform::cli::run(
        jazz_platform::ServiceName::Identity,
        identity::MIGRATIONS,
        identity::build,
        identity::seed::load,
    )
    .await
}
