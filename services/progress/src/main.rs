//! The progress service binary: `progress [serve | migrate [--status]]`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    jazz_platform::cli::run(
        jazz_platform::ServiceName::Progress,
        progress::MIGRATIONS,
        progress::build,
        jazz_platform::cli::no_seed,
    )
    .await
}
